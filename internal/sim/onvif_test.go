package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"vigil/internal/onvif"
)

// startWithONVIF runs opts with an ONVIF endpoint and returns the RTSP and
// ONVIF addresses.
func startWithONVIF(t *testing.T, opts Options) (rtspAddr, onvifAddr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rtspCh, onvifCh, done := make(chan string, 1), make(chan string, 1), make(chan error, 1)
	opts.Listen, opts.ONVIF = "127.0.0.1:0", "127.0.0.1:0"
	opts.OnListen = func(a string) { rtspCh <- a }
	opts.OnONVIF = func(a string) { onvifCh <- a }
	go func() { done <- Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim.Run: %v", err)
		}
	})
	select {
	case onvifAddr = <-onvifCh:
		rtspAddr = <-rtspCh
	case err := <-done:
		t.Fatalf("sim.Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the simulator did not start")
	}
	return rtspAddr, onvifAddr
}

// TestONVIFEndpointPerCamera: each simulated camera has its own ONVIF
// device that requires the RTSP credentials, announces its own camera's
// RTSP URL and moves under PTZ commands. // MED-3
func TestONVIFEndpointPerCamera(t *testing.T) {
	rtspAddr, onvifAddr := startWithONVIF(t, Options{Count: 2, Username: "sim", Password: "sim-pass", Audio: ""})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for n := 1; n <= 2; n++ {
		c := onvif.NewClient("http://"+onvifAddr+ONVIFPath(n), "sim", "sim-pass")
		h, profiles, err := onvif.Connect(ctx, c)
		if err != nil {
			t.Fatalf("cam%d: connect: %v", n, err)
		}
		uri, err := c.GetStreamUri(ctx, profiles[0].Token)
		if want := fmt.Sprintf("rtsp://%s/cam%d", rtspAddr, n); err != nil || uri.URI != want {
			t.Errorf("cam%d: stream URI %q %v, want %s", n, uri.URI, err, want)
		}
		// Each camera's device is its own: cam2 has not moved with cam1.
		if st, err := c.GetStatus(ctx, h.Profile); err != nil || st.Position.Pan != 0 {
			t.Errorf("cam%d: status before any move %+v %v", n, st, err)
		}
		if err := h.ContinuousMove(ctx, 0.5, 0, 0, 10*time.Second); err != nil {
			t.Fatalf("cam%d: move: %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
		if err := h.Stop(ctx); err != nil {
			t.Fatalf("cam%d: stop: %v", n, err)
		}
		st, err := c.GetStatus(ctx, h.Profile)
		if err != nil || st.Position.Pan <= 0 || st.Moving {
			t.Errorf("cam%d: status after a pan right %+v %v", n, st, err)
		}
	}
	bad := onvif.NewClient("http://"+onvifAddr+ONVIFPath(1), "sim", "wrong")
	_, _, err := onvif.Connect(ctx, bad)
	var fault *onvif.Fault
	if !errors.As(err, &fault) {
		t.Errorf("connect with a wrong password: %v, want a SOAP fault", err)
	}
}

func TestStreamHost(t *testing.T) {
	for _, tc := range []struct{ rtsp, req, want string }{
		{"127.0.0.1", "127.0.0.1:8000", "127.0.0.1"},
		{"0.0.0.0", "192.168.1.20:8000", "192.168.1.20"},
		{"", "cam.example:8000", "cam.example"},
		{"::", "[fe80::1]:8000", "fe80::1"},
		{"0.0.0.0", "", "127.0.0.1"},
		{"sim.local", "10.0.0.1:80", "sim.local"},
	} {
		if got := streamHost(tc.rtsp, tc.req); got != tc.want {
			t.Errorf("streamHost(%q, %q) = %q, want %q", tc.rtsp, tc.req, got, tc.want)
		}
	}
}

// TestONVIFDiscovery: the WS-Discovery responder answers one probe with
// every camera's device, each with its own endpoint reference and address.
// // MED-3
func TestONVIFDiscovery(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	disco := pc.LocalAddr().String()
	pc.Close()
	_, onvifAddr := startWithONVIF(t, Options{Count: 3, ONVIFDiscovery: disco})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	devs, err := onvif.Discover(ctx, onvif.DiscoverOptions{Addr: disco, Wait: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range devs {
		got[d.XAddrs[0]] = d.Address
	}
	for n := 1; n <= 3; n++ {
		x := "http://" + onvifAddr + ONVIFPath(n)
		if got[x] == "" {
			t.Errorf("no device announced at %s: %v", x, got)
		}
	}
	if len(devs) != 3 {
		t.Errorf("%d devices announced, want 3: %+v", len(devs), devs)
	}
	// The announced address works.
	if _, _, err := onvif.Connect(ctx, onvif.NewClient(devs[0].XAddrs[0], "", "")); err != nil {
		t.Errorf("connect to the announced %s: %v", devs[0].XAddrs[0], err)
	}
}

// `vigil sim --onvif` prints where the devices answer; they require the
// RTSP credentials and announce the cameras' RTSP URLs. // MED-3
func TestCommandONVIF(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Command(context.Background(), []string{"--onvif-discovery"}, &out, &errb); code != 2 || errb.Len() == 0 {
		t.Errorf("--onvif-discovery without --onvif: exit %d, stderr %q", code, errb.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Command(ctx, []string{"--rtsp", "127.0.0.1:0", "--onvif", "127.0.0.1:0", "--count", "2", "--audio", "none",
			"--user", "op", "--pass", "pw"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	}()
	var dev2, rtspAddr string
	for deadline := time.Now().Add(10 * time.Second); dev2 == "" || rtspAddr == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no addresses printed: %q; stderr: %s", stdout.String(), stderr.String())
		}
		s := stdout.String()
		if _, rest, ok := strings.Cut(s, "… http://"); ok {
			dev2, _, _ = strings.Cut(rest, "\n")
			dev2 = "http://" + dev2
		}
		if _, rest, ok := strings.Cut(s, "rtsp://"); ok {
			rtspAddr, _, _ = strings.Cut(rest, "/")
		}
	}
	if !strings.HasSuffix(dev2, ONVIFPath(2)) {
		t.Fatalf("printed device %q", dev2)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	c := onvif.NewClient(dev2, "op", "pw")
	_, ps, err := onvif.Connect(cctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.GetStreamUri(cctx, ps[0].Token); err != nil || u.URI != "rtsp://"+rtspAddr+"/cam2" {
		t.Errorf("stream URI %q %v, want rtsp://%s/cam2", u.URI, err, rtspAddr)
	}
}
