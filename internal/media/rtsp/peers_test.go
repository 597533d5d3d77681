package rtsp_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/media/rtsp"
	"vigil/internal/testutil"
)

// startGStreamer runs GStreamer's RTSP server serving the simulator's
// clips at /h264 and /h265.
func startGStreamer(t *testing.T) string {
	clips := filepath.Join("..", "..", "sim", "clips")
	return testutil.GStreamerRTSP(t, map[string]string{
		"h264": filepath.Join(clips, "clip.h264"), "h265": filepath.Join(clips, "clip.h265")})
}

// Our client pulls H.264 and H.265 from GStreamer's RTSP server over TCP
// and UDP: every frame arrives, byte-identical to the source clip, and the
// fMP4 it makes is clean. // MED-1
func TestPullFromGStreamer(t *testing.T) {
	t.Parallel()
	addr := startGStreamer(t)
	cases := []struct {
		mount, file, probe string
		v                  codec.Video
		kind               rtsp.TransportKind
	}{
		{"h264", "clip.h264", "h264", codec.H264, rtsp.TransportTCP},
		{"h264", "clip.h264", "h264", codec.H264, rtsp.TransportUDP},
		{"h265", "clip.h265", "hevc", codec.H265, rtsp.TransportTCP},
		{"h265", "clip.h265", "hevc", codec.H265, rtsp.TransportUDP},
	}
	for _, c := range cases {
		t.Run(c.mount+"-"+c.kind.String(), func(t *testing.T) {
			t.Parallel()
			r := pull(t, "rtsp://"+addr+"/"+c.mount, rtsp.ClientOptions{Transport: c.kind}, 3*time.Second)
			_, vu := r.video(t)
			checkContiguous(t, vu, 40)
			checkIdentical(t, vu, clipAUs(t, c.file, c.v), c.v)
			path, n := r.writeMP4(t)
			checkVideo(t, probeFile(t, path), c.probe, n)
		})
	}
}

// Our client pulls from VLC's RTSP server, which only speaks UDP. // MED-1
func TestPullFromVLC(t *testing.T) {
	t.Parallel()
	cvlc := testutil.Tool(t, "cvlc")
	setpriv := testutil.Tool(t, "setpriv")
	dir := t.TempDir()
	// VLC runs as nobody: the clip and its directories must be readable.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		os.Chmod(d, 0o755)
	}
	clip := filepath.Join(dir, "clip.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// 10 s (the clip five times), so that VLC's own loop, which does not
	// join the clip seamlessly, stays out of the few seconds pulled.
	once := filepath.Join(dir, "once.mp4")
	runFFmpeg(t, ctx, "-v", "error", "-r", "25", "-i", filepath.Join("..", "..", "sim", "clips", "clip.h264"), "-c", "copy", once)
	runFFmpeg(t, ctx, "-v", "error", "-stream_loop", "4", "-i", once, "-c", "copy", clip)
	os.Chmod(clip, 0o644)
	port := strconv.Itoa(freePort(t))
	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", cvlc, "-q", clip,
		"--sout", "#gather:rtp{sdp=rtsp://127.0.0.1:"+port+"/cam}", "--sout-keep", "--loop")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "rtsp://127.0.0.1:" + port + "/cam"
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err := rtsp.Pull(ctx, url, rtsp.ClientOptions{Transport: rtsp.TransportUDP, Timeout: 2 * time.Second})
		if err == nil {
			s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("VLC never served %s: %v", url, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	r := pull(t, url, rtsp.ClientOptions{}, 3*time.Second) // auto: UDP works, no fallback
	if r.kind != rtsp.TransportUDP || r.stats.Fallbacks != 0 {
		t.Fatalf("transport %s with %d fallbacks, want udp", r.kind, r.stats.Fallbacks)
	}
	_, vu := r.video(t)
	checkMonotonic(t, vu, 40) // VLC's timestamps jitter by a few ms
	checkIdentical(t, vu, clipAUs(t, "clip.h264", codec.H264), codec.H264)
	path, n := r.writeMP4(t)
	checkVideo(t, probeFile(t, path), "h264", n)

	// TCP is refused with 461: a typed error.
	if _, err := rtsp.Pull(ctx, url, rtsp.ClientOptions{Transport: rtsp.TransportTCP}); err == nil {
		t.Fatal("VLC accepted TCP interleaving")
	}
}

// GStreamer's rtspsrc pulls from our server over TCP and UDP, H.264 and
// H.265; the MP4 it muxes is clean. // MED-1
func TestGStreamerPullsFromServer(t *testing.T) {
	t.Parallel()
	gst := testutil.Tool(t, "gst-launch-1.0")
	hub := media.NewHub()
	publishSim(t, hub, "h264", media.H264, "")
	publishSim(t, hub, "h265", media.H265, "")
	addr := startServer(t, &rtsp.Server{Hub: hub})
	paced := startServer(t, &rtsp.Server{Hub: hub, NoGOPCache: true, Logf: t.Logf})
	cases := []struct{ mount, proto, probe, addr, mode string }{
		// buffer-mode=none: timestamps from RTP alone, not skewed by the
		// arrival of the GOP-cache burst at PLAY.
		{"h264", "tcp", "h264", addr, "none"},
		{"h265", "udp", "hevc", addr, "none"},
		// The default jitterbuffer mode (auto) against a server without the burst.
		{"h264", "udp", "h264", paced, "auto"},
	}
	for _, c := range cases {
		t.Run(c.mount+"-"+c.proto+"-"+c.mode, func(t *testing.T) {
			t.Parallel()
			// MPEG-TS needs no finishing, so gst-launch is stopped with a
			// kill rather than an interrupt: its PAUSE-on-EOS path failed now
			// and then on a busy machine ("Could not send message"), which is
			// rtspsrc's tear-down, not the reading under test.
			out := filepath.Join(t.TempDir(), "g.ts")
			cmd := exec.Command(gst, "-q", "rtspsrc", "location=rtsp://"+c.addr+"/"+c.mount, "protocols="+c.proto,
				"buffer-mode="+c.mode, "!", "rtp"+c.mount+"depay", "!", c.mount+"parse", "!", "mpegtsmux", "!", "filesink", "location="+out)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Count the 3 s from the first muxed bytes, not from the start:
			// on a busy machine gst-launch may take seconds to negotiate, and
			// an interrupt during SETUP/PLAY is an error of its own.
			waitUntil := time.Now().Add(20 * time.Second)
			for time.Now().Before(waitUntil) {
				if fi, err := os.Stat(out); err == nil && fi.Size() > 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(3 * time.Second)
			select {
			case err := <-done:
				t.Fatalf("gst-launch ended early: %v\n%s", err, stderr.String())
			default:
			}
			cmd.Process.Kill()
			<-done
			if strings.Contains(stderr.String(), "ERROR") {
				t.Fatalf("gst-launch: %s", stderr.String())
			}
			p := probeFile(t, out)
			checkVideo(t, p, c.probe, -1)
			if n, _ := strconv.Atoi(p["video"].NbReadFrames); n < 40 {
				t.Fatalf("%d frames in 3 s", n)
			}
		})
	}
}
