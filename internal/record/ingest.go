package record

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"vigil/internal/media/rtsp"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Ingest states of a camera's stream (MED-1): what the recorder's RTSP
// client is doing, as opposed to the registry's lifecycle state.
const (
	IngestConnecting = "connecting" // first connection not yet made
	IngestStreaming  = "streaming"  // a session is playing
	IngestFailing    = "failing"    // the last attempt failed; retrying with backoff
)

// Ingest is a camera's ingest state and counters, kept in memory by the
// recorder for the API and the console.
type Ingest struct {
	CameraID    string    `json:"camera_id"`
	State       string    `json:"state"`
	Since       time.Time `json:"since"`
	Transport   string    `json:"transport"` // asked for: auto, tcp, udp or multicast
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastEvent is the latest camera fault handled ("kind: detail").
	LastEvent   string         `json:"last_event,omitempty"`
	LastEventAt time.Time      `json:"last_event_at,omitzero"`
	Counters    IngestCounters `json:"counters"`
}

// IngestCounters count since the recorder started the camera.
type IngestCounters struct {
	Packets          int64 `json:"packets"`
	PacketsLost      int64 `json:"packets_lost"`
	Frames           int64 `json:"frames"`
	FramesDropped    int64 `json:"frames_dropped"`
	FramesDamaged    int64 `json:"frames_damaged"`
	Reconnects       int64 `json:"reconnects"`
	Fallbacks        int64 `json:"fallbacks"`
	ClockCorrections int64 `json:"clock_corrections"`
	TimestampJumps   int64 `json:"timestamp_jumps"`
	SSRCChanges      int64 `json:"ssrc_changes"`
	BadHeaderLines   int64 `json:"bad_header_lines"`
	AuthRetries      int64 `json:"auth_retries"`
	Discarded        int64 `json:"packets_discarded"`
}

type ingestEntry struct {
	mu    sync.Mutex
	st    Ingest
	stats *rtsp.Stats
}

// ingests are the recorder's per-camera ingest states.
type ingests struct {
	mu sync.Mutex
	m  map[string]*ingestEntry
}

func (r *Recorder) ingestEntry(camera string) *ingestEntry {
	r.ing.mu.Lock()
	defer r.ing.mu.Unlock()
	if r.ing.m == nil {
		r.ing.m = map[string]*ingestEntry{}
	}
	e, ok := r.ing.m[camera]
	if !ok {
		e = &ingestEntry{st: Ingest{CameraID: camera, State: IngestConnecting, Since: r.opts.Now()}, stats: &rtsp.Stats{}}
		r.ing.m[camera] = e
	}
	return e
}

func (r *Recorder) dropIngest(camera string) {
	r.ing.mu.Lock()
	defer r.ing.mu.Unlock()
	delete(r.ing.m, camera)
}

func (e *ingestEntry) snapshot() Ingest {
	e.mu.Lock()
	st := e.st
	e.mu.Unlock()
	s := e.stats.Snapshot()
	st.Counters = IngestCounters{Packets: s.Packets, PacketsLost: s.PacketsLost, Frames: s.Units, FramesDropped: s.FramesDropped,
		FramesDamaged: s.FramesDamaged, Reconnects: s.Reconnects, Fallbacks: s.Fallbacks, ClockCorrections: s.ClockCorrections,
		TimestampJumps: s.TimestampJumps, SSRCChanges: s.SSRCChanges, BadHeaderLines: s.BadHeaderLines, AuthRetries: s.AuthRetries,
		Discarded: s.Discarded}
	return st
}

// Ingest returns a camera's ingest state; false when the recorder does
// not pull it (not recordable, or fed another way).
func (r *Recorder) Ingest(camera string) (Ingest, bool) {
	r.ing.mu.Lock()
	e, ok := r.ing.m[camera]
	r.ing.mu.Unlock()
	if !ok {
		return Ingest{}, false
	}
	return e.snapshot(), true
}

// Ingests returns every pulled camera's ingest state, by camera id.
func (r *Recorder) Ingests() []Ingest {
	r.ing.mu.Lock()
	es := make([]*ingestEntry, 0, len(r.ing.m))
	for _, e := range r.ing.m {
		es = append(es, e)
	}
	r.ing.mu.Unlock()
	out := make([]Ingest, 0, len(es))
	for _, e := range es {
		out = append(out, e.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CameraID < out[j].CameraID })
	return out
}

// setIngest moves a camera to state, logging once per change of state or
// of error.
func (r *Recorder) setIngest(e *ingestEntry, state string, err error) {
	now := r.opts.Now()
	e.mu.Lock()
	old, oldErr := e.st.State, e.st.LastError
	if state != old {
		e.st.State, e.st.Since = state, now
	}
	msg := ""
	if err != nil {
		msg = err.Error()
		e.st.LastError, e.st.LastErrorAt = msg, now
	}
	camera := e.st.CameraID
	e.mu.Unlock()
	if state != old && r.opts.OnIngest != nil && (state == IngestStreaming || state == IngestFailing) {
		r.opts.OnIngest(context.Background(), camera, state == IngestStreaming)
	}
	switch {
	case state == old && (err == nil || msg == oldErr):
		return // no change: nothing to log
	case state == IngestStreaming:
		r.opts.Log.Info("record: camera streaming", "camera", camera, "was", old)
	case state == IngestFailing:
		r.opts.Log.Warn("record: camera ingest failing; retrying", "camera", camera, "was", old, "err", msg)
	default:
		r.opts.Log.Info("record: camera ingest", "camera", camera, "state", state)
	}
}

// ingestEvent records a camera fault the client handled (it logged it)
// and marks timeline faults in the index as zero-length gaps with their
// cause, so the index tells where the camera's clock was corrected.
func (r *Recorder) ingestEvent(ctx context.Context, e *ingestEntry, ev rtsp.Event) {
	now := r.opts.Now()
	e.mu.Lock()
	e.st.LastEvent, e.st.LastEventAt = ev.Kind+": "+ev.Detail, now
	camera := e.st.CameraID
	e.mu.Unlock()
	cause := ""
	switch ev.Kind {
	case rtsp.EventTimestampJump:
		cause = CauseTimestampJump
	case rtsp.EventClockRate:
		cause = CauseClockRate
	case rtsp.EventSSRC:
		cause = CauseStreamRestart
	default:
		return
	}
	at := now
	if st, ok := r.State(camera); ok && !st.LastUnit.IsZero() {
		at = st.LastUnit
	}
	if err := r.index.MarkGap(ctx, camera, at, at, cause, ev.Detail); err != nil {
		r.opts.Log.Error("record: mark discontinuity", "camera", camera, "err", err)
	}
}

// IngestIdle is the state of a camera the recorder does not pull (not
// enabled, not recorded continuously, or without a stream URL).
const IngestIdle = "idle"

// IngestFor returns camera id's ingest state as subj may see it (MED-1):
// a camera outside the subject's sight is not found, like any camera read.
func (r *Recorder) IngestFor(ctx context.Context, subj *policy.Subject, id string) (Ingest, error) {
	c, err := LookupCamera(ctx, r.index.DB(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !subj.SeesCameras(c.UnitPath)) {
		return Ingest{}, problem.NotFound("registry.camera_not_found", problem.P{"id": id})
	}
	if err != nil {
		return Ingest{}, err
	}
	if st, ok := r.Ingest(c.ID); ok {
		return st, nil
	}
	return Ingest{CameraID: c.ID, State: IngestIdle}, nil
}

// IngestsFor returns the ingest state of every camera the recorder pulls
// that subj may see.
func (r *Recorder) IngestsFor(ctx context.Context, subj *policy.Subject) ([]Ingest, error) {
	cams, err := RecordableCameras(ctx, r.index.DB())
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string, len(cams))
	for _, c := range cams {
		paths[c.ID] = c.UnitPath
	}
	out := []Ingest{}
	for _, st := range r.Ingests() {
		if p, ok := paths[st.CameraID]; ok && subj.SeesCameras(p) {
			out = append(out, st)
		}
	}
	return out, nil
}
