package playback

import (
	"context"
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
	sizes sizes
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

// Playback asks the gate, then opens the clip. The range decided and
// registered is the one served: the request cut to the footage the index
// holds (from its first recorded moment to the first gap, never beyond the
// newest fragment). A plain MP4 is a file the person keeps, so it is an
// export (policy.Export, with the profile's obligations); fMP4 for the
// player is a playback. The access record (who, camera, range, purpose,
// method) is committed before any segment is read; the caller writes the
// clip and closes it.
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
	act, perm := policy.Playback, policy.CameraPlay
	if req.Format == FormatMP4 {
		act, perm = policy.Export, policy.CameraExport
	}
	preq := policy.Request{Subject: req.Subject, Action: act, Cameras: []policy.Camera{cam},
		From: req.Start, To: req.Start.Add(req.Duration), Purpose: strings.TrimSpace(req.Purpose), Method: req.Format}
	if !req.Subject.Can(perm, cam.UnitPath) {
		// Say nothing of what is recorded: the gate refuses and audits.
		d, err := s.gate.Decide(ctx, preq)
		if err == nil {
			err = problem.Forbidden("policy.denied", problem.P{"permission": perm, "target": "camera " + cam.ID})
		}
		return nil, d, err
	}
	preq.From, preq.To, err = s.served(ctx, req.CameraID, preq.From, preq.To)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	d, err := s.gate.Decide(ctx, preq)
	if err != nil {
		return nil, d, err
	}
	clip, err := Open(ctx, d, s.index, s.store, req.CameraID, d.From(), d.To().Sub(d.From()))
	return clip, d, err
}

// served cuts [from, to) to the footage the index holds: from the first
// recorded moment at or after from, to the first gap or the newest
// recorded moment.
func (s *Service) served(ctx context.Context, camera string, from, to time.Time) (time.Time, time.Time, error) {
	segs, err := s.index.List(ctx, camera, from, to)
	if err != nil {
		return from, to, err
	}
	if len(segs) == 0 {
		return from, to, problem.NotFound("playback.no_footage", problem.P{"camera": camera, "start": from.UTC().Format(time.RFC3339), "end": to.UTC().Format(time.RFC3339)})
	}
	if segs[0].Start.After(from) {
		from = segs[0].Start
	}
	end := segs[0].End
	for _, g := range segs[1:] {
		if g.Start.Sub(end) > time.Millisecond {
			break
		}
		end = g.End
	}
	if end.Before(to) {
		to = end
	}
	return from, to, nil
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
