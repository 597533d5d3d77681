// Package live serves cameras' live video to people: WebRTC through WHEP
// (RFC 9725) with pion/webrtc, fragmented MP4 over HTTP for Media Source
// Extensions where WebRTC does not get through, JPEG snapshots, and PTZ
// commands (MED-2, MED-3, ACC-3).
//
// Invariants:
//   - Nothing is read from the stream hub before the gate (policy.Gate)
//     has allowed the view and registered it (调用登记); a view that lasts
//     (WHEP, fMP4) has its end registered exactly once, however it ends:
//     DELETE, the peer going away (ICE failed or closed, the HTTP client
//     disconnecting), the camera going offline, or Close.
//   - A viewer starts at the GOP cache's keyframe, with the parameter sets
//     in front of it, so the first picture comes at once; a viewer that
//     falls behind loses units in its own hub queue (counted per session)
//     and never slows the camera or other viewers.
//   - A WHEP session belongs to the subject that opened it: another subject
//     can neither patch nor end it.
//   - Audio over WebRTC is G.711 (PCMA/PCMU) or Opus passed through when the
//     browser offers that codec; AAC cameras get no WebRTC audio (no
//     transcoding here). Over fMP4, G.711 becomes FLAC, which MSE accepts.
//   - live knows cameras only through the Cameras interface and people only
//     as policy subjects.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"vigil/internal/media"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Gate is the part of policy.Gate that live needs: decide and register a
// view, and register its end.
type Gate interface {
	Decide(ctx context.Context, req policy.Request) (policy.Decision, error)
	End(ctx context.Context, s *policy.Subject, id string) error
}

// Cameras resolves a camera id to what the gate needs (its unit and the
// unit's path) and to the name of its source in the stream hub.
type Cameras interface {
	// GateCamera returns the camera as the gate sees it; an unknown camera
	// is an error wrapping store.ErrNotFound.
	GateCamera(ctx context.Context, id string) (policy.Camera, error)
	// StreamName is the hub source name the camera is published under.
	StreamName(id string) string
}

// Options configure the live service.
type Options struct {
	WebRTC WebRTCOptions
	// FFmpeg is the ffmpeg executable used to decode snapshots
	// (default "ffmpeg" on PATH).
	FFmpeg string
	// SnapshotTimeout bounds one snapshot's decoding (default 5 s).
	SnapshotTimeout time.Duration
	// ConnectTimeout ends a WHEP session whose peer has not connected in
	// this long (default 30 s).
	ConnectTimeout time.Duration
	// FragmentDuration is the fMP4 live fragment length (default 500 ms;
	// a fragment also ends at each keyframe's GOP boundary when shorter).
	FragmentDuration time.Duration
	// PTZ finds cameras' PTZ controllers; without it PTZ answers 501.
	PTZ PTZResolver
	Log *slog.Logger
}

// Service is the live-view service. Create it with New; Close ends every
// session.
type Service struct {
	hub  *media.Hub
	gate Gate
	cams Cameras
	opts Options
	rtc  *rtcAPI

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool
}

// New returns the live service over hub, deciding through gate.
func New(hub *media.Hub, gate Gate, cams Cameras, opts Options) (*Service, error) {
	if hub == nil || gate == nil || cams == nil {
		return nil, errors.New("live: hub, gate and cameras are required")
	}
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	if opts.SnapshotTimeout <= 0 {
		opts.SnapshotTimeout = 5 * time.Second
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 30 * time.Second
	}
	if opts.FragmentDuration <= 0 {
		opts.FragmentDuration = 500 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	rtc, err := newRTCAPI(opts.WebRTC)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	return &Service{hub: hub, gate: gate, cams: cams, opts: opts, rtc: rtc, sessions: map[string]*Session{}}, nil
}

// Close ends every WHEP session (registering their ends) and releases the
// shared ICE sockets.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	all := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.end("server closing")
	}
	return s.rtc.close()
}

// camera resolves id for the gate.
func (s *Service) camera(ctx context.Context, id string) (policy.Camera, error) {
	c, err := s.cams.GateCamera(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, problem.NotFound("live.camera_not_found", problem.P{"id": id})
	}
	if err != nil {
		return c, fmt.Errorf("live: camera %s: %w", id, err)
	}
	return c, nil
}

// decide resolves the camera and asks the gate.
func (s *Service) decide(ctx context.Context, subj *policy.Subject, id string, act policy.Action, purpose, method string) (policy.Camera, policy.Decision, error) {
	cam, err := s.camera(ctx, id)
	if err != nil {
		return cam, policy.Decision{}, err
	}
	d, err := s.gate.Decide(ctx, policy.Request{Subject: subj, Action: act, Cameras: []policy.Camera{cam}, Purpose: purpose, Method: method})
	if err != nil {
		return cam, d, err
	}
	return cam, d, nil
}

// endView registers the end of a view, logging (not returning) a failure:
// the view is over either way.
func (s *Service) endView(subj *policy.Subject, id, why string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.gate.End(ctx, subj, id); err != nil {
		s.opts.Log.Error("live: register the end of a view", "access", id, "why", why, "err", err)
	}
}

// subscribe attaches a reader to the camera's source, or says it is
// offline. It is the one way to the hub's video: dec must be the gate's
// allow of a live view or a snapshot of camera id.
func (s *Service) subscribe(dec policy.Decision, id string, opts media.ReaderOptions) (*media.Reader, error) {
	act := dec.Action()
	if act != policy.ViewLive && act != policy.Snapshot {
		act = policy.ViewLive
	}
	if err := dec.Covers(act, id, time.Time{}, time.Time{}); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	rd, err := s.hub.Subscribe(s.cams.StreamName(id), opts)
	if errors.Is(err, media.ErrNoSource) {
		return nil, &problem.Error{Status: http.StatusServiceUnavailable, Code: "live.camera_offline", Params: problem.P{"id": id}}
	}
	return rd, err
}

// tracksOf returns the tracks of the camera's source (codecs and
// parameter sets, no picture), or says it is offline. The reader is
// closed before any unit is taken from it.
func (s *Service) tracksOf(id string) ([]media.Track, error) {
	rd, err := s.hub.Subscribe(s.cams.StreamName(id), media.ReaderOptions{QueueLen: 1, NoGOPCache: true})
	if errors.Is(err, media.ErrNoSource) {
		return nil, &problem.Error{Status: http.StatusServiceUnavailable, Code: "live.camera_offline", Params: problem.P{"id": id}}
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return rd.Tracks(), nil
}

// CamerasFunc adapts a lookup (camera id → the camera as the gate sees
// it) to Cameras, for hubs whose sources are named by camera id (as the
// recorder's ingest publishes them).
type CamerasFunc func(ctx context.Context, id string) (policy.Camera, error)

// GateCamera calls f.
func (f CamerasFunc) GateCamera(ctx context.Context, id string) (policy.Camera, error) {
	return f(ctx, id)
}

// StreamName is the camera id.
func (CamerasFunc) StreamName(id string) string { return id }
