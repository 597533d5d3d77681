package record

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigil/internal/media/rtsp"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
	"vigil/internal/testutil"
)

// startGStreamer runs GStreamer's RTSP server (the media/rtsp tests'
// script) serving the simulator's H.264 clip at /h264.
func startGStreamer(t *testing.T) string {
	t.Helper()
	py := testutil.Tool(t, "/usr/bin/python3") // Debian's: the gi bindings live there
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	clip, _ := filepath.Abs(filepath.Join("..", "sim", "clips", "clip.h264"))
	script := filepath.Join("..", "media", "rtsp", "testdata", "gst_rtsp_server.py")
	cmd := exec.Command(py, script, port, "h264="+clip)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "READY" {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("GStreamer RTSP server exited before READY")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("GStreamer RTSP server not ready in 15 s")
	}
	return "127.0.0.1:" + port
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
