package rtsp_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/media/rtsp"
)

// Our client pulls from our server, over each transport; what arrives is
// every frame of the clip, byte for byte, and makes a clean fMP4. // MED-1
func TestPullFromOwnServer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		vc, ac    media.Codec
		kind      rtsp.TransportKind
		wantKind  rtsp.TransportKind
		file      string
		v         codec.Video
		probeName string
		audio     string
	}{
		{"h264-aac-tcp", media.H264, media.AAC, rtsp.TransportTCP, rtsp.TransportTCP, "clip.h264", codec.H264, "h264", "aac"},
		{"h264-pcma-udp", media.H264, media.PCMA, rtsp.TransportUDP, rtsp.TransportUDP, "clip.h264", codec.H264, "h264", "pcm_alaw"},
		{"h265-aac-auto", media.H265, media.AAC, rtsp.TransportAuto, rtsp.TransportUDP, "clip.h265", codec.H265, "hevc", "aac"},
	}
	hub := media.NewHub()
	addr := startServer(t, &rtsp.Server{Hub: hub})
	for _, c := range cases {
		publishSim(t, hub, c.name, c.vc, c.ac)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := pull(t, "rtsp://"+addr+"/"+c.name, rtsp.ClientOptions{Transport: c.kind}, 3*time.Second)
			if r.kind != c.wantKind {
				t.Fatalf("transport %s, want %s", r.kind, c.wantKind)
			}
			_, vu := r.video(t)
			checkContiguous(t, vu, 60)
			checkIdentical(t, vu, clipAUs(t, c.file, c.v), c.v)
			path, n := r.writeMP4(t)
			p := probeFile(t, path)
			checkVideo(t, p, c.probeName, n)
			if p["audio"].CodecName != c.audio {
				t.Fatalf("audio %+v, want %s", p["audio"], c.audio)
			}
			if r.stats.Connects != 1 || r.stats.Packets == 0 {
				t.Fatalf("stats %+v", r.stats)
			}
		})
	}
}

// A server that refuses UDP (461) makes TransportAuto fall back to TCP;
// one that answers but sends nothing over UDP does too. // MED-1
func TestFallbackToTCP(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, "")
	refusing := startServer(t, &rtsp.Server{Hub: hub, Faults: rtsp.Faults{RefuseUDP: true}})
	r := pull(t, "rtsp://"+refusing+"/cam", rtsp.ClientOptions{}, time.Second)
	if r.kind != rtsp.TransportTCP || r.stats.Fallbacks != 1 {
		t.Fatalf("transport %s, fallbacks %d; want tcp after one fallback", r.kind, r.stats.Fallbacks)
	}
	_, vu := r.video(t)
	checkContiguous(t, vu, 20)

	// UDP explicitly asked for against the refusing server: a typed error.
	_, err := rtsp.Pull(context.Background(), "rtsp://"+refusing+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportUDP})
	if !errors.Is(err, rtsp.ErrTransport) {
		t.Fatalf("UDP against a TCP-only server: %v, want ErrTransport", err)
	}

	// A firewall eats UDP: the server accepts the SETUP, nothing arrives.
	silent := startServer(t, &rtsp.Server{Hub: hub, Faults: rtsp.Faults{DropPercent: 100}})
	st := &rtsp.Stats{}
	sess, err := rtsp.Pull(context.Background(), "rtsp://"+silent+"/cam", rtsp.ClientOptions{UDPTimeout: 700 * time.Millisecond, Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if sess.Transport() != rtsp.TransportTCP || st.Fallbacks.Load() != 1 {
		t.Fatalf("transport %s, fallbacks %d", sess.Transport(), st.Fallbacks.Load())
	}
}

// Digest and Basic auth between our client and server; a wrong password
// is ErrAuth and counted. // MED-1
func TestAuth(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, "")
	var seen []rtsp.AuthRequest
	srv := &rtsp.Server{Hub: hub, AllowBasic: false, Auth: func(r *rtsp.AuthRequest) error {
		seen = append(seen, *r)
		if r.User == "admin" && r.CheckPassword("s3cret") && r.Path == "cam" && r.Action == rtsp.ActionRead {
			return nil
		}
		return rtsp.ErrAuth
	}}
	addr := startServer(t, srv)
	r := pull(t, "rtsp://admin:s3cret@"+addr+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportTCP}, 500*time.Millisecond)
	if len(r.units) == 0 {
		t.Fatal("no units with the right password")
	}
	st := &rtsp.Stats{}
	_, err := rtsp.Pull(context.Background(), "rtsp://admin:wrong@"+addr+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportTCP, Stats: st})
	if !errors.Is(err, rtsp.ErrAuth) || st.ErrAuth.Load() != 1 {
		t.Fatalf("wrong password: %v (ErrAuth count %d)", err, st.ErrAuth.Load())
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error leaks the password: %v", err)
	}
	_, err = rtsp.Pull(context.Background(), "rtsp://"+addr+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportTCP})
	if !errors.Is(err, rtsp.ErrAuth) {
		t.Fatalf("no credentials: %v", err)
	}
	_, err = rtsp.Pull(context.Background(), "rtsp://admin:s3cret@"+addr+"/nothere", rtsp.ClientOptions{Transport: rtsp.TransportTCP})
	if !errors.Is(err, rtsp.ErrAuth) { // the hook refuses other paths
		t.Fatalf("other path: %v", err)
	}
}

// A 302 from one server leads the client to another. // MED-1
func TestRedirect(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, "")
	target := startServer(t, &rtsp.Server{Hub: hub})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				c := rtsp.NewConn(nc)
				for {
					m, err := c.ReadMessage()
					if err != nil {
						return
					}
					req, ok := m.(*rtsp.Request)
					if !ok {
						continue
					}
					resp := &rtsp.Response{StatusCode: rtsp.StatusFound, Header: rtsp.Header{}}
					resp.Header.Set("CSeq", req.Header.Get("CSeq"))
					resp.Header.Set("Location", "rtsp://"+target+"/cam")
					c.WriteResponse(resp)
				}
			}()
		}
	}()
	r := pull(t, "rtsp://"+ln.Addr().String()+"/old", rtsp.ClientOptions{Transport: rtsp.TransportTCP}, 500*time.Millisecond)
	if r.stats.Redirects != 1 || len(r.units) == 0 {
		t.Fatalf("redirects %d, units %d", r.stats.Redirects, len(r.units))
	}
}

// The supervisor reconnects after the server drops it, publishing the
// camera again under its name; a camera that is not there counts errors
// and backs off. // MED-1
func TestSupervisorReconnects(t *testing.T) {
	t.Parallel()
	camHub := media.NewHub()
	publishSim(t, camHub, "cam", media.H264, media.AAC)
	addr := startServer(t, &rtsp.Server{Hub: camHub, Faults: rtsp.Faults{DisconnectEvery: 700 * time.Millisecond}})

	hub := media.NewHub()
	sup := &rtsp.Supervisor{Hub: hub, Name: "front-door", URL: "rtsp://" + addr + "/cam",
		Options:    rtsp.ClientOptions{Transport: rtsp.TransportTCP, Timeout: 2 * time.Second},
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	rd, err := hub.SubscribeWait(ctx, "front-door", media.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr := rd.Tracks(); len(tr) != 2 || tr[0].Codec != media.H264 || tr[1].Codec != media.AAC {
		t.Fatalf("published tracks %+v", tr)
	}
	waitFor(t, 8*time.Second, func() bool { return sup.Stats().Reconnects.Load() >= 2 })
	rd.Close()
	rd2, err := hub.SubscribeWait(ctx, "front-door", media.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nctx, ncancel := context.WithTimeout(ctx, 3*time.Second)
	u, err := rd2.Next(nctx)
	ncancel()
	if err != nil || !u.Key && u.Track == 0 {
		t.Fatalf("after reconnect: %+v %v", u, err)
	}
	rd2.Close()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if n := len(hub.Names()); n != 0 {
		t.Fatalf("%d sources left after Run", n)
	}

	// Nothing listening: connection errors are counted, Run keeps trying.
	sup2 := &rtsp.Supervisor{Hub: hub, Name: "gone", URL: "rtsp://127.0.0.1:1/x",
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	sup2.Run(ctx2)
	if n := sup2.Stats().ErrConnect.Load(); n < 3 {
		t.Fatalf("ErrConnect = %d after 1 s, want several attempts", n)
	}
	if !errors.Is(sup2.LastError(), rtsp.ErrConnect) {
		t.Fatalf("LastError = %v", sup2.LastError())
	}
}

// A camera whose SDP lacks its parameter sets is published at once; the
// hub's tracks gain them when the stream delivers them. // MED-1
func TestSupervisorUpdatesTracks(t *testing.T) {
	t.Parallel()
	camHub := media.NewHub()
	publishSim(t, camHub, "cam", media.H265, "")
	addr := startServer(t, &rtsp.Server{Hub: camHub, Faults: rtsp.Faults{OmitSprop: true}, NoGOPCache: true})
	hub := media.NewHub()
	sup := &rtsp.Supervisor{Hub: hub, Name: "cam", URL: "rtsp://" + addr + "/cam",
		Options: rtsp.ClientOptions{Transport: rtsp.TransportTCP}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rd, err := hub.SubscribeWait(ctx, "cam", media.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if tr := rd.Tracks(); len(tr) != 1 || len(tr[0].SPS) != 0 {
		t.Fatalf("tracks before the first keyframe: %+v", tr)
	}
	gen := rd.Generation()
	u, err := rd.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr := rd.Tracks()[0]
	if !u.Key || rd.Generation() == gen || len(tr.VPS) == 0 || len(tr.SPS) == 0 || len(tr.PPS) == 0 || tr.Width != 1280 || tr.Height != 720 {
		t.Fatalf("first unit key=%v, generation %d→%d, track %+v", u.Key, gen, rd.Generation(), tr)
	}
}
