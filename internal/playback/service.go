package playback

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/record"
	"vigil/internal/storage"
	"vigil/internal/store"
)

// Formats of playback output.
const (
	FormatFMP4 = "fmp4" // fragmented MP4 for <video>
	FormatMP4  = "mp4"  // plain MP4, moov first
)

// Service answers playback and listing requests.
type Service struct {
	index *record.Index
	store storage.Store
	gate  *policy.Gate
}

// NewService returns the playback service.
func NewService(x *record.Index, st storage.Store, gate *policy.Gate) *Service {
	return &Service{index: x, store: st, gate: gate}
}

// Request is one playback request.
type Request struct {
	Subject  *policy.Subject
	CameraID string
	Start    time.Time
	Duration time.Duration
	Purpose  string
	Format   string // FormatFMP4 (default) or FormatMP4
}

// camera reads the gate's view of a camera from the registry.
func (s *Service) camera(ctx context.Context, id string) (record.CameraInfo, policy.Camera, error) {
	c, err := record.LookupCamera(ctx, s.index.DB(), id)
	if errors.Is(err, store.ErrNotFound) {
		return c, policy.Camera{}, problem.NotFound("playback.camera_not_found", problem.P{"id": id})
	}
	if err != nil {
		return c, policy.Camera{}, err
	}
	return c, policy.Camera{ID: c.ID, Name: c.Name, UnitID: c.UnitID, UnitPath: c.UnitPath}, nil
}

// Playback asks the gate, then opens the clip. The access record (who,
// camera, range, purpose, method) is committed before any segment is
// read; the caller writes the clip and closes it.
func (s *Service) Playback(ctx context.Context, req Request) (*Clip, policy.Decision, error) {
	if req.Format == "" {
		req.Format = FormatFMP4
	}
	if req.Format != FormatFMP4 && req.Format != FormatMP4 {
		return nil, policy.Decision{}, problem.Invalid("playback.bad_format", "format", problem.P{"format": req.Format})
	}
	if req.Duration <= 0 || req.Duration > MaxDuration {
		return nil, policy.Decision{}, problem.Invalid("playback.bad_duration", "duration", problem.P{"max": int(MaxDuration.Seconds())})
	}
	if req.Start.IsZero() {
		return nil, policy.Decision{}, problem.Invalid("playback.bad_start", "start", nil)
	}
	_, cam, err := s.camera(ctx, req.CameraID)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	preq := policy.Request{Subject: req.Subject, Action: policy.Playback, Cameras: []policy.Camera{cam},
		From: req.Start, To: req.Start.Add(req.Duration), Purpose: strings.TrimSpace(req.Purpose), Method: req.Format}
	d, ok := s.sameAccess(ctx, preq)
	if !ok {
		if d, err = s.gate.Decide(ctx, preq); err != nil {
			return nil, d, err
		}
	}
	clip, err := Open(ctx, s.index, s.store, req.CameraID, req.Start, req.Duration)
	return clip, d, err
}

// Recordings lists a camera's recorded spans and gaps over [from, to)
// (RET-5). It reveals no footage, so it is not registered, but it needs
// the playback permission on the camera.
func (s *Service) Recordings(ctx context.Context, subj *policy.Subject, camera string, from, to time.Time) (*record.Coverage, error) {
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, problem.Invalid("playback.bad_range", "end", problem.P{"start": from.UTC().Format(time.RFC3339), "end": to.UTC().Format(time.RFC3339)})
	}
	_, cam, err := s.camera(ctx, camera)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraPlay, cam.UnitPath, "camera "+cam.Name); err != nil {
		return nil, err
	}
	return s.index.Coverage(ctx, camera, from, to)
}

// ReuseWindow is how long a playback's access record covers the same
// request again: a <video> element fetches one clip in several Range
// requests, which are one access, registered once.
const ReuseWindow = 10 * time.Minute

// sameAccess finds the subject's access record for exactly this request
// (camera, range, purpose, method) made within ReuseWindow. The subject
// must still hold the permission; the gate is not asked again and nothing
// new is registered.
func (s *Service) sameAccess(ctx context.Context, req policy.Request) (policy.Decision, bool) {
	subj := req.Subject
	if subj == nil || subj.UserID == "" {
		return policy.Decision{}, false
	}
	purpose := req.Purpose
	if purpose == "" {
		purpose = subj.StandingPurpose
	}
	if purpose == "" || policy.Check(subj, policy.CameraPlay, req.Cameras[0].UnitPath, "") != nil {
		return policy.Decision{}, false
	}
	cams, _ := json.Marshal(req.Cameras)
	var d policy.Decision
	var at int64
	err := s.index.DB().QueryRow(ctx, `SELECT id, at FROM access_records WHERE user_id = ? AND at > ? AND action = ? AND method = ?
		AND cameras = ? AND range_start = ? AND range_end = ? AND purpose = ? AND decision = 'allow' ORDER BY at DESC LIMIT 1`,
		subj.UserID, store.Micros(time.Now().Add(-ReuseWindow)), string(req.Action), req.Method, string(cams),
		store.Micros(req.From), store.Micros(req.To), purpose).Scan(&d.ID, &at)
	if err != nil {
		return policy.Decision{}, false
	}
	d.Effect, d.Purpose, d.At, d.Obligations = policy.Allow, purpose, store.Time(at), []policy.Obligation{}
	return d, true
}
