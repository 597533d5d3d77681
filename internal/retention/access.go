package retention

import (
	"context"
	"errors"
	"time"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/record"
	"vigil/internal/store"
)

// The engine's operations for people: each checks the subject's
// permission on the camera here, in the domain, so that the HTTP handlers
// only parse and answer.

// authorize resolves camera and checks that subj holds perm on its unit.
func (e *Engine) authorize(ctx context.Context, subj *policy.Subject, perm policy.Permission, camera string) (record.CameraInfo, error) {
	if subj == nil || subj.UserID == "" {
		return record.CameraInfo{}, problem.Unauthorized("auth.required", nil)
	}
	c, err := record.LookupCamera(ctx, e.db, camera)
	if errors.Is(err, store.ErrNotFound) {
		return c, problem.NotFound("playback.camera_not_found", problem.P{"id": camera})
	}
	if err != nil {
		return c, err
	}
	return c, policy.Check(subj, perm, c.UnitPath, "camera "+c.Name)
}

// actorOf is the audit actor of a subject.
func actorOf(s *policy.Subject) audit.Actor {
	if s == nil {
		return audit.Actor{ID: "anonymous", Name: "anonymous"}
	}
	return audit.Actor{ID: s.UserID, Name: s.Name, Unit: s.UnitName, Remote: s.Remote}
}

// CameraRetention returns a camera's retention to a subject holding
// camera.playback on it (RET-1).
func (e *Engine) CameraRetention(ctx context.Context, subj *policy.Subject, camera string) (Retention, error) {
	if _, err := e.authorize(ctx, subj, policy.CameraPlay, camera); err != nil {
		return Retention{}, err
	}
	return e.Retention(ctx, camera)
}

// ListHolds lists evidence holds for a subject holding camera.export on
// the camera (or anywhere, for all cameras) (RET-2).
func (e *Engine) ListHolds(ctx context.Context, subj *policy.Subject, camera string, all bool) ([]Hold, error) {
	if camera != "" {
		if _, err := e.authorize(ctx, subj, policy.CameraExport, camera); err != nil {
			return nil, err
		}
	} else if err := policy.Check(subj, policy.CameraExport, "", "evidence holds"); err != nil {
		return nil, err
	}
	return e.Holds(ctx, camera, all)
}

// ForecastFor returns the capacity forecast to a subject holding
// admin.system (RET-6).
func (e *Engine) ForecastFor(ctx context.Context, subj *policy.Subject) (*Forecast, error) {
	if err := policy.Check(subj, policy.AdminSystem, "", "the capacity forecast"); err != nil {
		return nil, err
	}
	return e.Forecast(ctx)
}

// RefuseDelete answers every request to delete footage other than the
// engine's own: it is refused and the attempt audited (RET-4).
func (e *Engine) RefuseDelete(ctx context.Context, subj *policy.Subject, camera string, from, to time.Time) error {
	return e.refuseDelete(ctx, actorOf(subj), camera, from, to)
}
