// Package record records cameras: it reads a camera's access units from
// the stream hub and writes them, as they came, into fragmented MP4
// segments in a storage.Store, indexes each closed segment in the
// database, and chains the index rows by hash (RET-3, RET-4, RET-5, MED-4).
//
// Invariants:
//   - The bitstream is stored as received: access units are repackaged
//     into MP4 samples, never decoded or transcoded (RET-3).
//   - A segment starts at a video keyframe and is cut at the first
//     keyframe after Options.SegmentLength (default 5 min); it is never
//     longer than MaxSegmentLength.
//   - Every fragment (≤ Options.FragmentLength, default 1 s) is written and
//     fsynced before the next is gathered, so a crash loses at most the
//     fragment being gathered; at start-up Recover cuts a torn segment back
//     to its last complete fragment and indexes it.
//   - Each file carries its camera, stream id, sequence number and start
//     time in moov/udta; each index row carries the file's hash and the
//     previous row's chain hash; chain heads are anchored in the audit log
//     ("record.anchor"), so Verify names any altered, missing, inserted or
//     reordered segment.
//   - A segment's times come from one timeline per stream: the wall time of
//     the stream's first keyframe plus the media clock. A camera clock that
//     is wrong or drifts is reported in State (MED-4), never written into
//     the timeline; consecutive segments of a stream abut exactly.
//   - The index tells the truth (RET-5): every gap has a cause and a
//     detail; holes inside a stream are gaps (frames_missing); corrections
//     of a camera's timeline are zero-length gaps (timestamp_jump,
//     clock_rate, ssrc_change); a camera RunCameras cannot reach has a gap
//     from when it was started.
//   - RunCameras keeps each camera's ingest state (connecting, streaming,
//     failing + last error) and counters in memory (Ingest, Ingests) and
//     logs once per change, never per packet (MED-1).
//   - When storage is full the recorder stops writing, marks a gap with
//     cause "disk", logs at error level and reports Health "disk_full"; it
//     never deletes anything to make room.
package record

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/storage"
)

// Segment lengths.
const (
	DefaultSegmentLength  = 5 * time.Minute
	DefaultFragmentLength = time.Second
	// MaxSegmentLength bounds a segment whatever its GOP: the index's range
	// query relies on it.
	MaxSegmentLength = 15 * time.Minute
)

// Health states of a camera's recording.
const (
	HealthWaiting   = "waiting"   // no source published yet, or it went away
	HealthRecording = "recording" // writing segments
	HealthDiskFull  = "disk_full" // storage refuses new footage: recording has given way
	HealthError     = "error"     // a write or index failure other than a full disk
)

// Options tune a Recorder.
type Options struct {
	SegmentLength  time.Duration // default DefaultSegmentLength
	FragmentLength time.Duration // default DefaultFragmentLength
	// AnchorEvery is how often a camera's chain head is anchored in the
	// audit log (default 10 min; also at the end of every stream).
	AnchorEvery time.Duration
	// DriftThreshold is the camera clock offset, or the divergence of the
	// media timeline from the local clock, reported as drift (MED-4).
	// Default 2 s.
	DriftThreshold time.Duration
	// RetryFull is how often a recorder stopped by a full disk tries again
	// (default 10 s).
	RetryFull time.Duration
	// CameraTransport, if set, gives each camera's RTSP transport (auto,
	// tcp, udp or multicast: the registry's per-camera setting) for
	// RunCameras; "" or an error keeps RunCameras' default.
	CameraTransport func(ctx context.Context, camera string) (string, error)
	// OnIngest, if set, is told when a camera pulled by RunCameras starts
	// streaming or starts failing (once per change): the registry's
	// online/offline state follows it.
	OnIngest func(ctx context.Context, camera string, streaming bool)
	Now      func() time.Time
	Log      *slog.Logger
}

func (o *Options) defaults() {
	if o.SegmentLength <= 0 {
		o.SegmentLength = DefaultSegmentLength
	}
	o.SegmentLength = min(o.SegmentLength, MaxSegmentLength-time.Minute)
	if o.FragmentLength <= 0 {
		o.FragmentLength = DefaultFragmentLength
	}
	if o.AnchorEvery <= 0 {
		o.AnchorEvery = 10 * time.Minute
	}
	if o.DriftThreshold <= 0 {
		o.DriftThreshold = 2 * time.Second
	}
	if o.RetryFull <= 0 {
		o.RetryFull = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// State is a camera's recording state, for health and metrics.
type State struct {
	CameraID string    `json:"camera_id"`
	Health   string    `json:"health"`
	Error    string    `json:"error,omitempty"`
	Since    time.Time `json:"since"`
	Segments int64     `json:"segments"` // closed in this process
	Bytes    int64     `json:"bytes"`
	Dropped  uint64    `json:"dropped_units"` // lost because the recorder fell behind
	LastEnd  time.Time `json:"last_end,omitzero"`
	// LastUnit is the timeline time of the newest video unit received.
	LastUnit time.Time `json:"last_unit,omitzero"`
	// ClockOffset is the camera's clock (RTCP sender reports) minus the
	// local clock at reception; TimelineDrift is the recorded timeline
	// minus the local clock. Either beyond the threshold sets ClockDrift
	// (MED-4).
	ClockOffset   time.Duration `json:"clock_offset_ns"`
	TimelineDrift time.Duration `json:"timeline_drift_ns"`
	ClockDrift    bool          `json:"clock_drift"`
}

// Recorder records cameras from a hub into a store.
type Recorder struct {
	hub   *media.Hub
	store storage.Store
	index *Index
	audit *audit.Log
	opts  Options

	mu     sync.Mutex
	states map[string]*State

	ing ingests // per-camera ingest state (RunCameras)
}

// New returns a recorder. log may be nil (no anchors are written then).
func New(hub *media.Hub, st storage.Store, index *Index, log *audit.Log, opts Options) *Recorder {
	opts.defaults()
	return &Recorder{hub: hub, store: st, index: index, audit: log, opts: opts, states: map[string]*State{}}
}

// States returns every camera's recording state.
func (r *Recorder) States() []State {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]State, 0, len(r.states))
	for _, s := range r.states {
		out = append(out, *s)
	}
	return out
}

// State returns one camera's recording state.
func (r *Recorder) State(camera string) (State, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.states[camera]
	if !ok {
		return State{}, false
	}
	return *s, true
}

func (r *Recorder) update(camera string, f func(s *State)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.states[camera]
	if !ok {
		s = &State{CameraID: camera, Health: HealthWaiting, Since: r.opts.Now()}
		r.states[camera] = s
	}
	old := s.Health
	f(s)
	if s.Health != old {
		s.Since = r.opts.Now()
	}
}

// segmentKey names a segment's object: camera/YYYYMMDD/startµs-seq.mp4.
func segmentKey(camera string, start time.Time, seq int64) string {
	return fmt.Sprintf("%s/%s/%d-%08d.mp4", camera, start.UTC().Format("20060102"), start.UnixMicro(), seq)
}

// keySeq parses the sequence number out of a segment key.
func keySeq(key string) (int64, bool) {
	base := strings.TrimSuffix(path.Base(key), ".mp4")
	i := strings.LastIndexByte(base, '-')
	if i < 0 || !strings.HasSuffix(key, ".mp4") {
		return 0, false
	}
	n, err := strconv.ParseInt(base[i+1:], 10, 64)
	return n, err == nil && n > 0
}

// Record records camera from the hub source named source until ctx ends,
// following the source across disconnections: each time the source goes
// away the open segment is closed and a gap is marked, and recording
// resumes when it is published again. It first runs Recover.
func (r *Recorder) Record(ctx context.Context, camera, source string) error {
	return r.record(ctx, camera, source, nil)
}

// record is Record, calling ready (if set) once recovery and the index
// look-ups are done and the recorder waits for the source: a camera pulled
// only after that loses none of its first frames to a recorder still
// starting up (RunCameras starting hundreds of cameras at once).
func (r *Recorder) record(ctx context.Context, camera, source string, ready func()) error {
	if ready != nil {
		defer func() {
			if ready != nil {
				ready()
			}
		}()
	}
	if err := storage.CheckKey(camera + "/x"); err != nil {
		return fmt.Errorf("record: camera id %q cannot name storage objects", camera)
	}
	if _, err := r.Recover(ctx, camera); err != nil {
		r.opts.Log.Error("record: recovery failed; torn segments stay unindexed until the next start", "camera", camera, "err", err)
	}
	s := &session{r: r, camera: camera}
	if last, ok, err := r.index.Last(ctx, camera); err != nil {
		return err
	} else if ok {
		s.seq, s.lastEnd = last.Seq, last.End
		s.resumeCause = CauseStopped
	}
	r.update(camera, func(st *State) {})
	for {
		if ready != nil {
			ready()
			ready = nil
		}
		rd, err := r.hub.SubscribeWait(ctx, source, media.ReaderOptions{})
		if err != nil {
			return nil // ctx ended; the gap is marked at the next start
		}
		s.streamID = keyring.RandomToken(8)
		s.anchored = false
		err = s.run(ctx, rd)
		r.update(camera, func(st *State) { st.Dropped += rd.Dropped() })
		rd.Close()
		cause := CauseCameraOffline
		if ctx.Err() != nil {
			cause = CauseStopped
		}
		if err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
			r.opts.Log.Error("record: stream failed", "camera", camera, "err", err)
			cause = CauseNetwork
		}
		s.closeSegment(context.WithoutCancel(ctx), cause)
		if ctx.Err() != nil {
			return nil
		}
		r.update(camera, func(st *State) {
			if st.Health != HealthDiskFull {
				st.Health = HealthWaiting
			}
		})
	}
}

// session is the recording of one camera across its streams.
type session struct {
	r        *Recorder
	camera   string
	streamID string
	seq      int64     // last sequence number used
	lastEnd  time.Time // end of the last closed segment

	// The stream's timeline.
	anchored   bool
	anchorWall time.Time
	anchorDTS  int64
	clock      int
	lastDTS    int64
	frameDur   int64
	// The smallest timeline drift of the current and the previous window
	// of driftWindow: a sender that buffers and bursts is late only at
	// times, a drifted timeline always (MED-4).
	driftCur, driftPrev time.Duration
	driftWin            time.Time

	cur         *segment
	pending     []*Segment // closed, not yet indexed (the database failed)
	full        bool
	retryAt     time.Time
	resumeCause string // cause of the gap before the next segment, "" when none
	lastAnchor  time.Time
}

// segment is the open segment.
type segment struct {
	key    string
	seq    int64
	start  time.Time
	gen    uint64
	tracks []media.Track
	w      storage.Writer
	hash   hash.Hash
	n      int64
	fw     *mp4.FragmentWriter
	codec  media.Codec
	width  int
	height int
}

func (g *segment) Write(b []byte) (int, error) {
	n, err := g.w.Write(b)
	g.hash.Write(b[:n])
	g.n += int64(n)
	return n, err
}

func (s *session) run(ctx context.Context, rd *media.Reader) error {
	// Writes and index rows are finished even when ctx ends meanwhile.
	wctx := context.WithoutCancel(ctx)
	for {
		u, err := rd.Next(ctx)
		if err != nil {
			return err
		}
		if err := s.unit(wctx, u, rd.Tracks(), rd.Generation()); err != nil {
			return err
		}
	}
}

// timeOf maps a video DTS onto the stream's timeline.
func (s *session) timeOf(dts int64) time.Time {
	return s.anchorWall.Add(media.Duration(dts-s.anchorDTS, s.clock))
}

func videoTrack(tracks []media.Track) int {
	for i, t := range tracks {
		if t.Codec.IsVideo() {
			return i
		}
	}
	return -1
}

func (s *session) unit(ctx context.Context, u media.Unit, tracks []media.Track, gen uint64) error {
	r := s.r
	vt := videoTrack(tracks)
	if vt < 0 {
		return nil // audio-only sources are not recorded
	}
	if u.Track != vt {
		if s.cur != nil && s.cur.gen == gen {
			return s.write(ctx, u)
		}
		return nil
	}
	now := r.opts.Now()
	if !s.anchored {
		if !u.Key {
			return nil
		}
		s.anchor(u, tracks[vt].ClockRate, now)
	}
	prevDTS, prevDur := s.lastDTS, s.frameDur
	if u.DTS > s.lastDTS {
		s.frameDur = u.DTS - s.lastDTS
	}
	s.lastDTS = u.DTS
	t := s.timeOf(u.DTS)
	s.observeClock(u, t, now)
	if s.cur != nil && prevDTS < u.DTS {
		// A hole inside the stream (frames that never came) shows in the
		// index as a gap with its cause (RET-5).
		from := s.timeOf(prevDTS + prevDur)
		if hole := t.Sub(from); hole >= holeMin && hole > 2*media.Duration(prevDur, s.clock) {
			detail := fmt.Sprintf("no video for %s inside the stream", hole.Round(time.Millisecond))
			if err := r.index.MarkGap(ctx, s.camera, from, t, CauseFramesMissing, detail); err != nil {
				r.opts.Log.Error("record: mark gap", "camera", s.camera, "err", err)
			}
		}
	}

	if s.cur != nil && gen != s.cur.gen && sameParams(s.cur.tracks, tracks) {
		s.cur.gen = gen // new descriptions, same parameters: no need to cut
	}
	if s.cur != nil {
		age := t.Sub(s.cur.start)
		cut := u.Key && (age >= r.opts.SegmentLength || gen != s.cur.gen)
		if cut || age >= MaxSegmentLength {
			if err := s.finish(ctx, t); err != nil {
				return err
			}
		}
	}
	if s.cur == nil {
		if !u.Key || t.Before(s.lastEnd.Add(-time.Millisecond)) {
			return nil // wait for a keyframe; never overlap what is recorded
		}
		if s.full && now.Before(s.retryAt) {
			return nil
		}
		if s.steadyDrift() > r.opts.DriftThreshold && now.After(s.lastEnd) {
			// The media clock has drifted from ours (MED-4): start the new
			// segment on the local clock again.
			s.anchorWall, s.anchorDTS = now.UTC().Truncate(time.Microsecond), u.DTS
			t = s.timeOf(u.DTS)
			s.driftCur, s.driftPrev, s.driftWin = 0, 0, time.Time{}
		}
		if err := s.open(ctx, t, tracks, gen); err != nil {
			return err
		}
		if s.cur == nil {
			return nil
		}
	}
	return s.write(ctx, u)
}

// anchor starts the stream's timeline at its first keyframe: the camera's
// capture time when its clock agrees with ours, else the local time.
func (s *session) anchor(u media.Unit, clock int, now time.Time) {
	wall := u.Wall
	if wall.IsZero() || absDur(wall.Sub(now)) > s.r.opts.DriftThreshold {
		wall = now
	}
	if wall.Before(s.lastEnd) {
		wall = s.lastEnd
	}
	s.anchored, s.anchorWall, s.anchorDTS, s.clock = true, wall.UTC().Truncate(time.Microsecond), u.DTS, clock
	s.lastDTS, s.frameDur = u.DTS, int64(clock/25)
	s.driftCur, s.driftPrev, s.driftWin = 0, 0, time.Time{}
}

// Holes in a stream of at least holeMin are marked in the index.
const holeMin = time.Second

// driftWindow is the span over which the smallest timeline drift is
// taken.
const driftWindow = 10 * time.Second

// noteDrift adds one unit's timeline drift to the windows.
func (s *session) noteDrift(d time.Duration, now time.Time) {
	d = absDur(d)
	if s.driftWin.IsZero() || now.Sub(s.driftWin) >= driftWindow {
		if !s.driftWin.IsZero() {
			s.driftPrev = s.driftCur
		} else {
			s.driftPrev = d
		}
		s.driftCur, s.driftWin = d, now
		return
	}
	s.driftCur = min(s.driftCur, d)
}

// steadyDrift is the drift the timeline has had all along lately: the
// smaller of the two windows' smallest.
func (s *session) steadyDrift() time.Duration { return min(s.driftCur, s.driftPrev) }

// observeClock records the camera clock offset and the timeline drift
// (MED-4). A timeline that has drifted beyond the threshold is re-anchored
// when the next segment opens, so footage stays near the time it was
// captured.
func (s *session) observeClock(u media.Unit, t, now time.Time) {
	th := s.r.opts.DriftThreshold
	var offset time.Duration
	if !u.Wall.IsZero() {
		offset = u.Wall.Sub(now)
	}
	drift := t.Sub(now)
	s.noteDrift(drift, now)
	bad := absDur(offset) > th || s.steadyDrift() > th
	s.r.update(s.camera, func(st *State) {
		if bad && !st.ClockDrift {
			s.r.opts.Log.Warn("record: camera clock drift (MED-4)", "camera", s.camera, "clock_offset", offset, "timeline_drift", drift)
		}
		st.ClockOffset, st.TimelineDrift, st.ClockDrift = offset, drift, bad
		st.LastUnit = t
	})
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
