package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigil/internal/live"
	"vigil/internal/live/whepclient"
	"vigil/internal/media"
	"vigil/internal/testutil"
)

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestWHEPFirewallOptions: with a single UDP port every session's media
// uses that port; with ICE-TCP a viewer that cannot use UDP still gets
// video. MED-2
func TestWHEPFirewallOptions(t *testing.T) {
	udp, tcp := freePort(t, "udp"), freePort(t, "tcp")
	f := newFixture(t, 1, "", live.Options{WebRTC: live.WebRTCOptions{Interfaces: []string{"lo"}, IncludeLoopback: true, UDPPort: udp, TCPPort: tcp}})
	srv := whepServer(t, f)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		tcpOnly bool
	}{{"udp mux", false}, {"second session on the same port", false}, {"ice-tcp", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := whepclient.Dial(ctx, srv.URL+"/cameras/cam1/whep?purpose=p", whepclient.Options{Loopback: true, TCPOnly: tc.tcpOnly})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			for _, l := range strings.Split(c.Answer, "\n") {
				if !strings.HasPrefix(l, "a=candidate:") {
					continue
				}
				fs := strings.Fields(l)
				if fs[2] == "udp" && fs[5] != fmt.Sprint(udp) || fs[2] == "tcp" && fs[5] != fmt.Sprint(tcp) && fs[5] != "9" {
					t.Errorf("candidate outside the configured ports: %s", l)
				}
			}
			if !strings.Contains(c.Answer, " tcp ") {
				t.Errorf("no ICE-TCP candidate in the answer:\n%s", c.Answer)
			}
			deadline := time.Now().Add(10 * time.Second)
			for c.Units() < 25 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if c.Units() < 25 {
				t.Fatalf("%d frames in 10 s (state %s)", c.Units(), c.State())
			}
		})
	}
	if f.svc.UDPAddr() == nil || f.svc.TCPAddr() == nil {
		t.Fatal("the shared ports are not reported")
	}
}

// TestWHEPEndsWhenCameraStops: a camera that goes offline ends its
// viewers' sessions, and their ends are registered. ACC-3
func TestWHEPEndsWhenCameraStops(t *testing.T) {
	f := newFixture(t, 1, "", live.Options{})
	srv := whepServer(t, f)
	c, err := whepclient.Dial(context.Background(), srv.URL+"/cameras/cam1/whep?purpose=p", whepclient.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseQuietly()
	ss := f.svc.Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	s, _ := f.svc.Session(ss[0].ID)
	f.stop()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived its camera by 10 s")
	}
	if recs := f.access(t, "cam1"); len(recs) != 1 || recs[0].EndedAt == nil {
		t.Fatalf("end not registered: %+v", recs)
	}
}

// TestH265Camera: WebRTC here carries H.264 only, so an H.265 camera is
// refused over WHEP with a problem that points to the fMP4 stream, whose
// info names hvc1 and whose bytes ffmpeg decodes. MED-2
func TestH265Camera(t *testing.T) {
	ffmpeg := testutil.Tool(t, "ffmpeg")
	f := newFixtureCodec(t, 1, media.H265, media.AAC, live.Options{})
	srv := whepServer(t, f)
	_, err := whepclient.Dial(context.Background(), srv.URL+"/cameras/cam1/whep?purpose=p", whepclient.Options{Loopback: true})
	var he *whepclient.HTTPError
	if !errors.As(err, &he) || he.Status != 422 || !strings.Contains(string(he.Body), "live.webrtc_codec") {
		t.Fatalf("H.265 over WHEP: %v", err)
	}
	if recs := f.access(t, "cam1"); len(recs) != 1 || recs[0].EndedAt == nil {
		t.Fatalf("the refused view must be closed in the registry: %+v", recs)
	}
	inf, err := f.svc.Info(context.Background(), f.subj, "cam1")
	if err != nil || inf.WebRTC || !strings.Contains(inf.MIME, `"hvc1.`) {
		t.Fatalf("info: %+v %v", inf, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var buf lockedBuffer
	if err := f.svc.StreamFMP4(ctx, f.subj, "cam1", "p", &buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "h265.mp4")
	os.WriteFile(p, buf.Bytes(), 0o644)
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", p, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}
