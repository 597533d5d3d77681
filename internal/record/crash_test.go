package record

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/sim"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// The crash test runs the recorder in a child process (this test binary,
// re-executed) and kills it with SIGKILL.
const childEnv = "VIGIL_RECORD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(recordChild())
	}
	os.Exit(m.Run())
}

// recordChild records cam1 from a simulated camera until killed. It
// prints "recording" once the first segment is indexed.
func recordChild() int {
	ctx := context.Background()
	db, err := store.Open(ctx, os.Getenv("VIGIL_CHILD_DSN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kr, err := keyring.Open(os.Getenv("VIGIL_CHILD_KEYS"), keyring.Standard)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st, err := storage.NewLocal([]string{os.Getenv("VIGIL_CHILD_DATA")}, -1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hub := media.NewHub()
	lg := audit.New(db, kr)
	x := NewIndex(db, kr)
	rec := New(hub, st, x, lg, Options{SegmentLength: 3 * time.Second})
	if url := os.Getenv("VIGIL_CHILD_URL"); url != "" {
		// A camera on a third-party RTSP server, pulled like any other.
		sup := &rtsp.Supervisor{Hub: hub, Name: "cam1", URL: url, Options: rtsp.ClientOptions{Transport: rtsp.TransportTCP}}
		go sup.Run(ctx)
	} else {
		go sim.Publish(ctx, hub, "cam1", sim.Options{Audio: media.AAC})
	}
	go func() {
		said := false
		for {
			if s, ok := rec.State("cam1"); ok && s.Segments > 0 {
				if !said {
					fmt.Println("recording")
					said = true
				}
				// The newest unit received: what a crash may lose is
				// measured from it.
				fmt.Println("unit", s.LastUnit.UnixNano())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	rec.Record(ctx, "cam1", "cam1")
	return 0
}

// TestCrashMidFragmentRecovers records for at least 30 s across many
// segments — from the simulator and from a third-party RTSP server
// (GStreamer's) — kills the recording process with SIGKILL at a random
// moment, restarts, and checks that the torn segment is repaired to its
// last complete fragment, at most about a second is lost, every segment
// plays with a frame per 40 ms of its span, the chain verifies, and
// recording resumes with the gap marked. // RET-3, RET-4, RET-5
func TestCrashMidFragmentRecovers(t *testing.T) {
	t.Run("sim", func(t *testing.T) { t.Parallel(); crashAndRecover(t, "") })
	t.Run("gstreamer", func(t *testing.T) { t.Parallel(); crashAndRecover(t, "rtsp://"+startGStreamer(t)+"/h264") })
}

func crashAndRecover(t *testing.T, url string) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		dsn := storetest.DSN(t, db.Dialect)
		cdb, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer cdb.Close()
		if _, err := cdb.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		keys, data := t.TempDir(), t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", "VIGIL_CHILD_DSN="+dsn, "VIGIL_CHILD_KEYS="+keys, "VIGIL_CHILD_DATA="+data,
			"VIGIL_CHILD_URL="+url)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || !strings.Contains(sc.Text(), "recording") {
			cmd.Process.Kill()
			t.Fatal("the child never recorded a segment")
		}
		var newest atomic.Int64
		go func() {
			for sc.Scan() {
				var ns int64
				if _, err := fmt.Sscanf(sc.Text(), "unit %d", &ns); err == nil {
					newest.Store(ns)
				}
			}
		}()
		// Kill after at least 30 s of recording (about ten 3 s segments),
		// at a random point of a fragment.
		time.Sleep(30*time.Second + time.Duration(rand.Int64N(int64(2*time.Second))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		killed := time.Unix(0, newest.Load()) // the newest unit the child had received

		kr, err := keyring.Open(keys, keyring.Standard)
		if err != nil {
			t.Fatal(err)
		}
		g := newRigAt(t, cdb, kr, data, Options{SegmentLength: 3 * time.Second})
		before, _, _ := g.index.Last(ctx, "cam1")
		n, err := g.rec.Recover(ctx, "cam1")
		// The open segment is recovered, or — killed inside its first
		// fragment — discarded as holding no complete fragment.
		if err != nil || n > 1 {
			t.Fatalf("recover: %d segments, %v", n, err)
		}
		last, _, _ := g.index.Last(ctx, "cam1")
		if last.Seq != before.Seq+int64(n) {
			t.Fatalf("recovered seq %d after %d", last.Seq, before.Seq)
		}
		lost := killed.Sub(last.End)
		t.Logf("killed %v into segment %d; recovered up to %v before the newest unit received", killed.Sub(last.Start), last.Seq, lost)
		// At most the fragment being gathered (1 s), the frame held back
		// for its duration (40 ms) and the reporting interval (20 ms).
		if lost > time.Second+100*time.Millisecond || lost < -100*time.Millisecond {
			t.Errorf("lost %v of footage at the kill; at most ~1 s may be lost", lost)
		}
		if info, _ := g.store.Stat(ctx, last.Key); info.Size != last.Bytes {
			t.Errorf("torn segment: file %d bytes, index %d", info.Size, last.Bytes)
		}
		segs, _ := g.index.Chain(ctx, "cam1")
		for _, s := range segs {
			file := filepath.Join(data, s.Key)
			if e := decodeErrors(t, file); e != "" {
				t.Errorf("segment %d does not decode: %s", s.Seq, e)
			}
			want := int(s.Duration().Seconds()*25 + 0.5)
			if p := ffprobe(t, file); p.Frames != want {
				t.Errorf("segment %d: %d frames for %v", s.Seq, p.Frames, s.Duration())
			}
		}
		// ≥ 30 s across many segments, each starting where the previous
		// ended: no frame duplicated or missing at a boundary.
		var total time.Duration
		for i, s := range segs {
			total += s.Duration()
			if i > 0 && !s.Start.Equal(segs[i-1].End) {
				t.Errorf("segment %d starts at %v, the previous ended at %v", s.Seq, s.Start, segs[i-1].End)
			}
		}
		if len(segs) < 2 || total < 28*time.Second {
			t.Fatalf("recorded %d segments, %v in all, before the kill; want ≥ 2 and about 30 s", len(segs), total)
		}
		if rep, err := Verify(ctx, g.index, g.store, "cam1"); err != nil || !rep.OK() {
			t.Fatalf("verify after recovery: %+v %v", rep, err)
		}
		// Recording resumes after the restart, with the gap marked.
		g.record(t, "cam1", 3*time.Second)
		segs2, _ := g.index.Chain(ctx, "cam1")
		if len(segs2) <= len(segs) {
			t.Fatalf("no segment after the restart")
		}
		gaps, err := g.index.Gaps(ctx, "cam1", segs[0].Start, segs2[len(segs2)-1].End)
		if err != nil || len(gaps) != 1 || gaps[0].Cause != CauseStopped || !gaps[0].Start.Equal(last.End) || !gaps[0].End.Equal(segs2[len(segs)].Start) {
			t.Fatalf("gap after restart: %+v %v (last end %v, next start %v)", gaps, err, last.End, segs2[len(segs)].Start)
		}
		if rep, err := Verify(ctx, g.index, g.store, "cam1"); err != nil || !rep.OK() {
			t.Fatalf("verify after resuming: %+v %v", rep, err)
		}
	})
}
