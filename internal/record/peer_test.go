package record

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"vigil/internal/media/rtsp"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
	"vigil/internal/testutil"
)

// startGStreamer runs GStreamer's RTSP server serving the simulator's
// H.264 clip at /h264.
func startGStreamer(t *testing.T) string {
	return testutil.GStreamerRTSP(t, map[string]string{"h264": filepath.Join("..", "sim", "clips", "clip.h264")})
}

// TestRecordFromGStreamer records a camera served by a third-party RTSP
// server (GStreamer) across segments: every segment decodes, holds a
// frame per 40 ms of its span, and the chain verifies. // RET-3, RET-4
func TestRecordFromGStreamer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		addr := startGStreamer(t)
		g := newRig(t, db, Options{SegmentLength: 2 * time.Second})
		registryCamera(t, db, "camG")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.rec.RunCameras(ctx, db, func(context.Context, string) (string, error) { return "rtsp://" + addr + "/h264", nil },
				rtsp.ClientOptions{Transport: rtsp.TransportTCP}, time.Second)
		}()
		time.Sleep(8 * time.Second)
		cancel()
		<-done
		segs, _ := g.index.Chain(context.Background(), "camG")
		if len(segs) < 2 {
			t.Fatalf("%d segments from GStreamer", len(segs))
		}
		for _, s := range segs {
			file := filepath.Join(g.dir, s.Key)
			p := ffprobe(t, file)
			if want := int(s.Duration().Seconds()*25 + 0.5); p.Codec != "h264" || p.Width != 1280 || p.Frames != want {
				t.Errorf("segment %d: %+v, want %d frames for %v", s.Seq, p, want, s.Duration())
			}
			if e := decodeErrors(t, file); e != "" {
				t.Errorf("segment %d: %s", s.Seq, e)
			}
		}
		if rep, err := Verify(context.Background(), g.index, g.store, "camG"); err != nil || !rep.OK() {
			t.Errorf("verify: %+v %v", rep, err)
		}
	})
}
