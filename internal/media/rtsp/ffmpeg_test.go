package rtsp_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/testutil"
)

func runFFmpeg(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, testutil.Tool(t, "ffmpeg"), append([]string{"-hide_banner", "-nostdin", "-y"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// ffmpeg pulls from our server over TCP and UDP; the 4 s it records are a
// clean 1280x720 stream of ≈100 frames. // MED-1
func TestFFmpegPullsFromServer(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam1", media.H264, media.AAC)
	addr := startServer(t, &rtsp.Server{Hub: hub})
	for _, tr := range []string{"tcp", "udp"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.mp4")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			runFFmpeg(t, ctx, "-v", "error", "-rtsp_transport", tr, "-i", "rtsp://"+addr+"/cam1", "-t", "4", "-c", "copy", out)
			p := probeFile(t, out)
			checkVideo(t, p, "h264", -1)
			n, _ := strconv.Atoi(p["video"].NbReadFrames)
			if n < 97 || n > 103 {
				t.Fatalf("%d frames in 4 s, want ≈100", n)
			}
			if p["audio"].CodecName != "aac" {
				t.Fatalf("audio %+v", p["audio"])
			}
		})
	}
}

// ffmpeg answers our Digest challenge. // MED-1
func TestFFmpegDigestAuth(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam1", media.H264, "")
	var users atomic.Int32
	addr := startServer(t, &rtsp.Server{Hub: hub, Logf: t.Logf, Auth: func(r *rtsp.AuthRequest) error {
		if r.User == "viewer" && r.CheckPassword("pa55") {
			users.Add(1)
			return nil
		}
		return rtsp.ErrAuth
	}})
	out := filepath.Join(t.TempDir(), "out.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runFFmpeg(t, ctx, "-v", "error", "-rtsp_transport", "tcp", "-i", "rtsp://viewer:pa55@"+addr+"/cam1", "-t", "1", "-c", "copy", out)
	checkVideo(t, probeFile(t, out), "h264", -1)
	if users.Load() == 0 {
		t.Fatal("the auth hook never allowed a request")
	}
	cmd := exec.CommandContext(ctx, testutil.Tool(t, "ffmpeg"), "-v", "error", "-rtsp_transport", "tcp",
		"-i", "rtsp://viewer:bad@"+addr+"/cam1", "-t", "1", "-f", "null", "-")
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "401") {
		t.Fatalf("wrong password accepted: %v %s", err, msg)
	}
}

// ffmpeg publishes a clip to our server (ANNOUNCE/RECORD over TCP and
// UDP, and with Digest credentials); our client reads it back whole. // MED-1
func TestFFmpegPublishes(t *testing.T) {
	t.Parallel()
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	runFFmpeg(t, ctx, "-v", "error", "-r", "25", "-i", filepath.Join("..", "..", "sim", "clips", "clip.h264"),
		"-i", filepath.Join("..", "..", "sim", "clips", "clip.aac"), "-c", "copy", "-shortest", clip)
	hub := media.NewHub()
	var refused atomic.Int32
	addr := startServer(t, &rtsp.Server{Hub: hub, Logf: t.Logf, Auth: func(r *rtsp.AuthRequest) error {
		if r.Action == rtsp.ActionPublish && r.Path == "pub-auth" && !(r.User == "cam" && r.CheckPassword("pw")) {
			refused.Add(1)
			return rtsp.ErrAuth // publishing there needs credentials; reading does not
		}
		return nil
	}})
	cases := []struct{ name, transport, user string }{
		{"pub-tcp", "tcp", ""},
		{"pub-udp", "udp", ""},
		{"pub-auth", "tcp", "cam:pw@"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One publisher at a time: three ffmpeg processes with -re at once
			// starved each other on a loaded 2-core machine.
			name := c.name
			pub := exec.CommandContext(ctx, testutil.Tool(t, "ffmpeg"), "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", clip,
				"-c", "copy", "-f", "rtsp", "-rtsp_transport", c.transport, "rtsp://"+c.user+addr+"/"+name)
			var perr bytes.Buffer
			pub.Stderr = &perr
			if err := pub.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { pub.Process.Kill(); pub.Wait() }()
			t.Cleanup(func() { // after the deferred Wait: perr is complete
				if t.Failed() {
					t.Logf("ffmpeg publisher: %s", perr.String())
				}
			})
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
			defer rcancel()
			rd, err := hub.SubscribeWait(rctx, name, media.ReaderOptions{})
			if err != nil {
				pub.Process.Kill()
				pub.Wait()
				t.Fatalf("%v; ffmpeg: %s", err, perr.String())
			}
			rd.Close()
			r := pull(t, "rtsp://"+addr+"/"+name, rtsp.ClientOptions{Transport: rtsp.TransportTCP}, 2500*time.Millisecond)
			_, vu := r.video(t)
			checkContiguous(t, vu, 40)
			path, n := r.writeMP4(t)
			p := probeFile(t, path)
			checkVideo(t, p, "h264", n)
			if p["audio"].CodecName != "aac" {
				t.Fatalf("audio %+v", p["audio"])
			}
			if c.user != "" && refused.Load() == 0 {
				t.Fatal("ffmpeg was never challenged")
			}
		})
	}
}
