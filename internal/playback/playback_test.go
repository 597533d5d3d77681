package playback

import (
	"context"
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
	segs []record.Segment
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
	return &rig{db: db, dir: dir, x: x, st: st, svc: NewService(x, st, policy.NewGate(db, lg, p)), segs: segs}
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
			clip, dec, err := g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 2 * time.Second,
				Purpose: "核查纠纷", Format: format})
			if err != nil || dec.ID == "" {
				t.Fatalf("%s: %v", format, err)
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
		if n != 2 {
			t.Errorf("%d access records for 2 playbacks", n)
		}
		// The same request again (a player's next Range request) is the same
		// access: registered once.
		clip, d2, err := g.svc.Playback(ctx, Request{Subject: viewer, CameraID: "cam1", Start: start, Duration: 2 * time.Second,
			Purpose: "核查纠纷", Format: FormatMP4})
		if err != nil {
			t.Fatal(err)
		}
		clip.Close()
		db.QueryRow(ctx, `SELECT COUNT(*) FROM access_records WHERE action = 'playback'`).Scan(&n)
		if n != 2 || d2.ID == "" {
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
