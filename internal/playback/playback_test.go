package playback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/sim"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
	"vigil/internal/testutil"
)

type rig struct {
	db   *store.DB
	dir  string
	x    *record.Index
	st   *storage.Local
	svc  *Service
	gate *policy.Gate
	segs []record.Segment
}

// decide asks the rig's gate for a playback of cam1 over [start, start+d).
func (g *rig) decide(t testing.TB, start time.Time, d time.Duration) policy.Decision {
	t.Helper()
	dec, err := g.gate.Decide(context.Background(), policy.Request{Subject: viewer, Action: policy.Playback,
		Cameras: []policy.Camera{{ID: "cam1", UnitPath: "/u-cam1/"}}, From: start, To: start.Add(d), Purpose: "测试", Method: FormatFMP4})
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// recorded records a simulated camera for d in segments of 3 s.
func recorded(t *testing.T, db *store.DB, d time.Duration) *rig {
	t.Helper()
	kr := storetest.Keyring(t, keyring.Standard)
	lg := audit.New(db, kr)
	t.Cleanup(lg.Close)
	dir := t.TempDir()
	st, err := storage.NewLocal([]string{dir}, -1)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := profile.Load("national-baseline")
	x := record.NewIndex(db, kr)
	hub := media.NewHub()
	rec := record.New(hub, st, x, lg, record.Options{SegmentLength: 3 * time.Second})
	recordtest.Camera(t, db, "cam1", "school", false)
	recordtest.Simulate(t, rec, hub, "cam1", d)
	segs, err := x.List(context.Background(), "cam1", time.Now().Add(-time.Hour), time.Now())
	if err != nil || len(segs) < 2 {
		t.Fatalf("recorded %d segments: %v", len(segs), err)
	}
	gate := policy.NewGate(db, lg, p)
	return &rig{db: db, dir: dir, x: x, st: st, svc: NewService(x, st, gate), gate: gate, segs: segs}
}

var viewer = &policy.Subject{UserID: "u9", Name: "值班民警", UnitID: "u-cam1", UnitName: "Unit",
	Grants: []policy.Grant{{Role: "viewer", Permissions: []policy.Permission{policy.CameraPlay}, ScopePath: "/u-cam1/"}}}

// frameHashes decodes a file's video and returns each presented frame's
// MD5: frames at negative times (a pre-roll an edit list shifted before
// the start) are left out.
func frameHashes(t *testing.T, file string) []string {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-copyts", "-i", file, "-map", "0:v", "-fps_mode", "passthrough", "-enc_time_base:v", "1/90000", "-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("framemd5 %s: %v", file, err)
	}
	var hs []string
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		if pts, _ := strconv.Atoi(strings.TrimSpace(f[2])); pts < 0 {
			continue
		}
		hs = append(hs, strings.TrimSpace(f[len(f)-1]))
	}
	return hs
}

// probeClip returns the duration of a file and the time of its first
// presented video frame.
func probeClip(t *testing.T, file string) (dur, first float64) {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-select_streams", "v", "-show_entries",
		"format=duration:frame=pts_time", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	lines := strings.Fields(string(out))
	if len(lines) < 2 {
		t.Fatalf("ffprobe %s: %q", file, out)
	}
	first = -1
	for _, l := range lines[:len(lines)-1] {
		// The first frame presented: at or after zero (ffmpeg gives the
		// pre-roll of a fragmented file negative times).
		if v, _ := strconv.ParseFloat(strings.Trim(l, ","), 64); v >= 0 {
			first = v
			break
		}
	}
	dur, _ = strconv.ParseFloat(strings.Trim(lines[len(lines)-1], ","), 64)
	return dur, first
}

// TestPlaybackFromMidGOPAcrossSegments asks for 2 s from a mid-GOP start
// that crosses a segment boundary, in both formats: through the gate,
// starting exactly at the start, lasting the duration within a frame,
// with exactly the recorded frames — none repeated, none lost. // ACC-3, RET-3
func TestPlaybackFromMidGOPAcrossSegments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		g := recorded(t, db, 8*time.Second)
		var recordedFrames []string
		for _, s := range g.segs[:2] {
			recordedFrames = append(recordedFrames, frameHashes(t, filepath.Join(g.dir, s.Key))...)
		}
		offset := 2520 * time.Millisecond // mid-GOP (keyframes every second), 0.48 s before the cut
		start := g.segs[0].Start.Add(offset)
		const want = 50 // 2 s at 25 fps

		// No purpose: refused with the code that says so, nothing read.
		_, _, err := g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 2 * time.Second})
		if pe, ok := problem.As(err); !ok || pe.Code != "policy.purpose_required" {
			t.Fatalf("no purpose: %v", err)
		}
		for _, format := range []string{FormatMP4, FormatFMP4} {
			var clip *Clip
			var err error
			if format == FormatFMP4 {
				var dec policy.Decision
				clip, dec, err = g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 2 * time.Second,
					Purpose: "核查纠纷", Format: format})
				if err != nil || dec.ID() == "" {
					t.Fatalf("%s: %v", format, err)
				}
			} else {
				// A plain MP4 is an export (TestDownloadIsAnExport): the
				// writer is checked here with a playback decision.
				clip, err = Open(ctx, g.decide(t, start, 2*time.Second), g.x, g.st, "cam1", start, 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
			}
			if clip.PreRoll != 520*time.Millisecond || clip.Frames() != want {
				t.Errorf("%s: pre-roll %v, %d frames", format, clip.PreRoll, clip.Frames())
			}
			file := filepath.Join(t.TempDir(), "clip."+format)
			f, _ := os.Create(file)
			if format == FormatMP4 {
				err = clip.WriteMP4(f, nil)
			} else {
				err = clip.WriteFMP4(f, nil)
			}
			f.Close()
			clip.Close()
			if err != nil {
				t.Fatalf("%s: write: %v", format, err)
			}
			dur, first := probeClip(t, file)
			if dur < 2-0.04 || dur > 2+0.04 || first < -0.001 || first > 0.001 {
				t.Errorf("%s: duration %.3f s, first frame at %.3f s; want 2 s from 0", format, dur, first)
			}
			got := frameHashes(t, file)
			i0 := int(offset.Seconds()*25 + 0.5)
			if len(got) != want || strings.Join(got, " ") != strings.Join(recordedFrames[i0:i0+want], " ") {
				t.Errorf("%s: %d frames; they must be recorded frames %d…%d exactly (first differs at %d)", format, len(got), i0, i0+want-1, firstDiff(got, recordedFrames[i0:]))
			}
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM access_records WHERE action = 'playback' AND purpose = '核查纠纷' AND cameras LIKE '%cam1%'`).Scan(&n)
		if n != 1 {
			t.Errorf("%d access records for 1 playback", n)
		}
		// The same request again (a player's next Range request) is the same
		// access: registered once.
		clip, d2, err := g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 2 * time.Second,
			Purpose: "核查纠纷", Format: FormatFMP4})
		if err != nil {
			t.Fatal(err)
		}
		clip.Close()
		db.QueryRow(ctx, `SELECT COUNT(*) FROM access_records WHERE action = 'playback' AND purpose = '核查纠纷'`).Scan(&n)
		if n != 1 || d2.ID() == "" || !d2.Reused() {
			t.Errorf("a repeated request registered again: %d records, decision %+v", n, d2)
		}
	})
}

func firstDiff(a, b []string) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestOpenNeedsACoveringDecision: Open reads nothing without the gate's
// allow for that camera and range. // ACC-3
func TestOpenNeedsACoveringDecision(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	g := recorded(t, db, 4*time.Second)
	ctx := context.Background()
	start := g.segs[0].Start
	dec := g.decide(t, start, time.Second)
	for name, c := range map[string]struct {
		dec    policy.Decision
		camera string
		d      time.Duration
	}{
		"no decision":    {policy.Decision{}, "cam1", time.Second},
		"a longer range": {dec, "cam1", 2 * time.Second},
		"another camera": {dec, "cam2", time.Second},
	} {
		clip, err := Open(ctx, c.dec, g.x, g.st, c.camera, start, c.d)
		if !errors.Is(err, policy.ErrNotCovered) {
			t.Errorf("%s: %v", name, err)
		}
		if clip != nil {
			clip.Close()
		}
	}
}

// TestDownloadIsAnExport: a plain MP4 is a copy the person keeps, so it is
// decided as an export: the playback permission alone is refused, and with
// the export permission an unmet obligation of the profile (approval, a
// second person) refuses it, naming them. // ACC-4, ACC-5
func TestDownloadIsAnExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := recorded(t, db, 4*time.Second)
		req := Request{Subject: viewer, CameraID: "cam1", Start: g.segs[0].Start, Duration: time.Second, Purpose: "留存", Format: FormatMP4}
		if _, _, err := g.svc.Playback(ctx, req); err == nil {
			t.Fatal("a viewer with only the playback permission downloaded an MP4")
		}
		exporter := *viewer
		exporter.Grants = []policy.Grant{{Role: "exporter", Permissions: []policy.Permission{policy.CameraPlay, policy.CameraExport}, ScopePath: "/u-cam1/"}}
		exporter.AuthenticatedAt = time.Now()
		req.Subject = &exporter
		_, _, err := g.svc.Playback(ctx, req)
		if pe, ok := problem.As(err); !ok || pe.Code != "policy.obligations_unmet" || !strings.Contains(pe.Params["obligations"].(string), "second_person_required") {
			t.Fatalf("export with unmet obligations: %v", err)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM access_records`).Scan(&n)
		if n != 0 {
			t.Errorf("%d access records for refused exports", n)
		}
	})
}

// TestPlaybackRegistersTheRangeServed: asking for an hour from 2 s before
// the newest footage registers the 2 s served, not an hour running into
// the future. // ACC-3
func TestPlaybackRegistersTheRangeServed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := recorded(t, db, 4*time.Second)
		last := g.segs[len(g.segs)-1]
		start := last.End.Add(-2 * time.Second)
		clip, dec, err := g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: time.Hour, Purpose: "核查"})
		if err != nil {
			t.Fatal(err)
		}
		clip.Close()
		var rs, re int64
		if err := db.QueryRow(ctx, `SELECT range_start, range_end FROM access_records WHERE id = ?`, dec.ID()).Scan(&rs, &re); err != nil {
			t.Fatal(err)
		}
		if !store.Time(rs).Equal(start) || !store.Time(re).Equal(last.End) {
			t.Errorf("registered %v – %v; served %v – %v", store.Time(rs), store.Time(re), start, last.End)
		}
		if clip.End.After(last.End) {
			t.Errorf("clip ends %v, after the footage %v", clip.End, last.End)
		}
	})
}

// TestPlaybackOfTheOpenSegment: footage is playable within 2 s of its
// arrival, while its segment (5 minutes by default) is still being
// written: the last 10 s play back, and end at most 2 s before the newest
// frame the recorder received. // RET-3, RET-5
func TestPlaybackOfTheOpenSegment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := storetest.Keyring(t, keyring.Standard)
		lg := audit.New(db, kr)
		t.Cleanup(lg.Close)
		st, err := storage.NewLocal([]string{t.TempDir()}, -1)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := profile.Load("national-baseline")
		x := record.NewIndex(db, kr)
		hub := media.NewHub()
		rec := record.New(hub, st, x, lg, record.Options{})
		recordtest.Camera(t, db, "cam1", "school", false)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{}, 2)
		go func() { sim.Publish(rctx, hub, "cam1", sim.Options{Audio: media.AAC}); done <- struct{}{} }()
		go func() { rec.Record(rctx, "cam1", "cam1"); done <- struct{}{} }()
		defer func() { cancel(); <-done; <-done }()
		svc := NewService(x, st, policy.NewGate(db, lg, p))

		// Wait until 12 s are recorded into the open segment.
		deadline := time.Now().Add(40 * time.Second)
		for {
			o, ok := x.Open("cam1")
			if ok && o.End.Sub(o.Start) >= 12*time.Second {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no open segment of 12 s: %+v %v", o, ok)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, indexed, _ := x.Last(ctx, "cam1"); indexed {
			t.Fatal("a segment closed: the test must read the open one")
		}
		state, _ := rec.State("cam1")
		newest := state.LastUnit
		start := newest.Add(-10 * time.Second)
		clip, dec, err := svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 10 * time.Second, Purpose: "刚才的情况"})
		if err != nil {
			t.Fatalf("the last 10 s of the open segment: %v", err)
		}
		defer clip.Close()
		if lag := newest.Sub(clip.End); lag > 2*time.Second {
			t.Errorf("the clip ends %v before the newest frame received; want ≤ 2 s", lag)
		}
		t.Logf("newest frame %v, clip %v – %v (lag %v), registered until %v", newest.Format(time.RFC3339Nano), clip.Start.Format(time.RFC3339Nano),
			clip.End.Format(time.RFC3339Nano), newest.Sub(clip.End), dec.To().Format(time.RFC3339Nano))
		// The player's next Range request, after more has been recorded, is
		// the same access and gets the same clip (the same bytes).
		for {
			if o, _ := x.Open("cam1"); o.End.Sub(clip.End) >= 1500*time.Millisecond {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("recording stalled")
			}
			time.Sleep(50 * time.Millisecond)
		}
		again, dec2, err := svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 10 * time.Second, Purpose: "刚才的情况"})
		if err != nil {
			t.Fatal(err)
		}
		again.Close()
		if dec2.ID() != dec.ID() || !again.End.Equal(clip.End) {
			t.Errorf("the same request at the live edge: access %s vs %s, end %v vs %v", dec2.ID(), dec.ID(), again.End, clip.End)
		}
		// The timeline (RET-5) shows it recorded too.
		cov, err := svc.Recordings(ctx, viewer, "cam1", newest.Add(-time.Minute), newest.Add(time.Second))
		if err != nil || len(cov.Spans) != 1 || newest.Sub(cov.Spans[0].End) > 2*time.Second {
			t.Errorf("coverage of the open segment: %+v %v", cov, err)
		}
		file := filepath.Join(t.TempDir(), "open.mp4")
		f, _ := os.Create(file)
		err = clip.WriteFMP4(f, nil)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if dur, first := probeClip(t, file); dur < clip.End.Sub(clip.Start).Seconds()-0.1 || first < -0.001 || first > 0.001 {
			t.Errorf("ffprobe: %.3f s from %.3f; the clip spans %v", dur, first, clip.End.Sub(clip.Start))
		}
	})
}

// TestStreamAnswersRangesFromTheSegments: the stream's bytes are the
// clip's, at any offset, produced from the segments (no file is written:
// no temporary file can be made here); its size is known before a byte is served
// and kept per access. // RET-4
func TestStreamAnswersRangesFromTheSegments(t *testing.T) {
	// No temporary file can be made (even as root): TMPDIR lies under a
	// regular file.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	db := storetest.Open(t, store.SQLite)
	g := recorded(t, db, 6*time.Second)
	t.Setenv("TMPDIR", filepath.Join(blocker, "tmp"))
	ctx := context.Background()
	start := g.segs[0].Start.Add(700 * time.Millisecond)
	clip, dec, err := g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 4 * time.Second, Purpose: "核查"})
	if err != nil {
		t.Fatal(err)
	}
	defer clip.Close()
	var whole bytes.Buffer
	if err := clip.WriteFMP4(&whole, map[string]string{"vigil.camera": clip.CameraID, "vigil.access": dec.ID(),
		"vigil.start": clip.Start.UTC().Format(time.RFC3339Nano), "vigil.end": clip.End.UTC().Format(time.RFC3339Nano)}); err != nil {
		t.Fatal(err)
	}
	st, err := g.svc.Stream(dec, clip, FormatFMP4)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Size() != int64(whole.Len()) {
		t.Fatalf("size %d, the clip is %d bytes", st.Size(), whole.Len())
	}
	n := int64(whole.Len())
	for _, off := range []int64{0, 100, n / 2, n - 1000, n - 1} {
		if _, err := st.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, min(5000, n-off))
		if _, err := io.ReadFull(st, got); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(got, whole.Bytes()[off:off+int64(len(got))]) {
			t.Errorf("bytes at %d differ from the clip's", off)
		}
	}
	if _, err := st.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(st)
	if err != nil || !bytes.Equal(all, whole.Bytes()) {
		t.Fatalf("whole stream: %d bytes, %v", len(all), err)
	}
	// A stream for another decision covering less is refused.
	other := g.decide(t, start, time.Second)
	if _, err := g.svc.Stream(other, clip, FormatFMP4); !errors.Is(err, policy.ErrNotCovered) {
		t.Errorf("stream under a narrower decision: %v", err)
	}
}
