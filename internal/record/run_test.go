package record

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/sim"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestRunCamerasRecordsOverRTSP records a registry camera served by
// `vigil sim` over RTSP, then stops the simulator: the gap is marked with
// its cause and recording resumes when the camera comes back. // RET-3, RET-5
func TestRunCamerasRecordsOverRTSP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := newRig(t, db, Options{SegmentLength: 2 * time.Second})
		registryCamera(t, db, "camR")
		simCtx, stopSim := context.WithCancel(ctx)
		addr := make(chan string, 1)
		go sim.Run(simCtx, sim.Options{Listen: "127.0.0.1:0", Count: 1, OnListen: func(a string) { addr <- a }})
		url := "rtsp://" + <-addr + "/cam1"
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.rec.RunCameras(ctx, db, func(context.Context, string) (string, error) { return url, nil },
				rtsp.ClientOptions{Transport: rtsp.TransportTCP}, 200*time.Millisecond)
		}()
		time.Sleep(6 * time.Second)
		stopSim()
		time.Sleep(2 * time.Second)
		cancel()
		<-done

		segs, _ := g.index.Chain(context.Background(), "camR")
		if len(segs) < 2 {
			t.Fatalf("%d segments over RTSP", len(segs))
		}
		for _, s := range segs {
			p := ffprobe(t, filepath.Join(g.dir, s.Key))
			if want := int(s.Duration().Seconds()*25 + 0.5); p.Codec != "h264" || p.Frames != want {
				t.Errorf("segment %d: %+v, want %d frames", s.Seq, p, want)
			}
		}
		last := segs[len(segs)-1]
		gaps, _ := g.index.Gaps(context.Background(), "camR", last.End.Add(-time.Second), time.Now())
		if len(gaps) == 0 || gaps[0].Cause == CauseUnknown || gaps[0].Cause == CauseStopped {
			t.Errorf("gap after the camera stopped: %+v", gaps)
		}
		if rep, err := Verify(context.Background(), g.index, g.store, "camR"); err != nil || !rep.OK() {
			t.Errorf("verify: %+v %v", rep, err)
		}
	})
}

// TestDiskFullGivesWay: when the storage refuses new objects the recorder
// stops writing, says so, marks a gap with cause disk, deletes nothing,
// and resumes once there is room.
func TestDiskFullGivesWay(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	g := newRig(t, db, Options{SegmentLength: time.Second, RetryFull: 500 * time.Millisecond})
	var full atomic.Bool
	g.store.SetSpaceFunc(func(string) (int64, int64, error) {
		if full.Load() {
			return 100 << 30, 0, nil
		}
		return 100 << 30, 50 << 30, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	go sim.Publish(ctx, g.hub, "camF", sim.Options{})
	done := make(chan struct{})
	go func() { defer close(done); g.rec.Record(ctx, "camF", "camF") }()
	time.Sleep(3 * time.Second)
	before, _ := g.index.Chain(context.Background(), "camF")
	full.Store(true)
	time.Sleep(3 * time.Second)
	st, _ := g.rec.State("camF")
	during, _ := g.index.Chain(context.Background(), "camF")
	full.Store(false)
	time.Sleep(3 * time.Second)
	cancel()
	<-done
	after, _ := g.index.Chain(context.Background(), "camF")

	if st.Health != HealthDiskFull {
		t.Errorf("health while full: %+v", st)
	}
	if len(during) > len(before)+1 {
		t.Errorf("%d segments written while full (had %d)", len(during), len(before))
	}
	if len(after) <= len(during) {
		t.Errorf("recording did not resume: %d segments after, %d during", len(after), len(during))
	}
	gaps, _ := g.index.Gaps(context.Background(), "camF", after[0].Start, time.Now())
	found := false
	for _, gp := range gaps {
		found = found || gp.Cause == CauseDisk
	}
	if !found {
		t.Errorf("no gap with cause disk: %+v", gaps)
	}
	if rep, err := Verify(context.Background(), g.index, g.store, "camF"); err != nil || !rep.OK() || rep.Deleted != 0 {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

// TestRecordH265WithG711 records the H.265 simulator with A-law audio:
// stored as received, every segment decodes. // RET-3
func TestRecordH265WithG711(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	g := newRig(t, db, Options{SegmentLength: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go sim.Publish(ctx, g.hub, "camX", sim.Options{Codec: media.H265, Audio: media.PCMA})
	done := make(chan struct{})
	go func() { defer close(done); g.rec.Record(ctx, "camX", "camX") }()
	time.Sleep(5 * time.Second)
	cancel()
	<-done
	segs, _ := g.index.Chain(context.Background(), "camX")
	if len(segs) < 2 {
		t.Fatalf("%d segments", len(segs))
	}
	for _, s := range segs {
		file := filepath.Join(g.dir, s.Key)
		p := ffprobe(t, file)
		if want := int(s.Duration().Seconds()*25 + 0.5); p.Codec != "hevc" || p.AudioCodec != "pcm_alaw" || p.Frames != want || s.Codec != "H265" {
			t.Errorf("segment %d: %+v (row codec %s), want %d frames", s.Seq, p, s.Codec, want)
		}
		if e := decodeErrors(t, file); e != "" {
			t.Errorf("segment %d: %s", s.Seq, e)
		}
	}
}
