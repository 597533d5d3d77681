package rtsp_test

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/sim"
)

// The client copes with cameras that misbehave. // MED-1
func TestClientSurvivesMisbehaviour(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, media.AAC)
	cases := []struct {
		name   string
		faults rtsp.Faults
		kind   rtsp.TransportKind
		check  func(t *testing.T, r *received)
	}{
		{"early RTP", rtsp.Faults{EarlyRTP: true}, rtsp.TransportTCP, func(t *testing.T, r *received) {
			_, vu := r.video(t)
			checkContiguous(t, vu, 20)
		}},
		{"no sprop", rtsp.Faults{OmitSprop: true}, rtsp.TransportTCP, func(t *testing.T, r *received) {
			// The parameter sets come from the stream.
			if len(r.tracks[0].SPS) == 0 || len(r.tracks[0].PPS) == 0 || r.tracks[0].Width != 1280 {
				t.Fatalf("track after stream: %+v", r.tracks[0])
			}
			_, vu := r.video(t)
			checkContiguous(t, vu, 20)
			path, n := r.writeMP4(t)
			checkVideo(t, probeFile(t, path), "h264", n)
		}},
		{"garbage", rtsp.Faults{GarbagePercent: 5}, rtsp.TransportUDP, func(t *testing.T, r *received) {
			_, vu := r.video(t)
			checkContiguous(t, vu, 20)
			if r.stats.Discarded == 0 {
				t.Fatal("no garbage discarded")
			}
		}},
		{"loss", rtsp.Faults{DropPercent: 0.5}, rtsp.TransportUDP, func(t *testing.T, r *received) {
			// Units touched by loss are passed on marked Damaged (or
			// dropped when nothing of them is left), as received (RET-3).
			// A damaged unit, and the units that refer to it until the next
			// keyframe, may not decode (ffmpeg does not show frames whose
			// references are broken); every unit before the first damage
			// does, and the file is a valid H.264 recording.
			vi, vu := r.video(t)
			if len(vu) == 0 {
				t.Fatal("nothing survived 0.5% loss")
			}
			path, n := r.writeMP4(t)
			p := probeStreams(t, path)
			checkVideo(t, p, "h264", -1)
			if n < 20 {
				t.Fatalf("%d video units written", n)
			}
			clean, started := 0, false // whole units written before the first damaged one
			for _, u := range r.units {
				if u.Track != vi {
					continue
				}
				started = started || u.Key
				if !started {
					continue
				}
				if u.Damaged {
					break
				}
				clean++
			}
			if dec, _ := strconv.Atoi(p["video"].NbReadFrames); dec < clean {
				t.Fatalf("ffmpeg decodes %d of %d units written; the %d before the first damaged one must all decode", dec, n, clean)
			}
		}},
		{"stall", rtsp.Faults{StallEvery: 500 * time.Millisecond, Stall: 800 * time.Millisecond}, rtsp.TransportTCP, func(t *testing.T, r *received) {
			_, vu := r.video(t)
			if len(vu) < 20 {
				t.Fatalf("%d units across stalls", len(vu))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := startServer(t, &rtsp.Server{Hub: hub, Faults: c.faults})
			r := pull(t, "rtsp://"+addr+"/cam", rtsp.ClientOptions{Transport: c.kind, Timeout: 3 * time.Second}, 2500*time.Millisecond)
			c.check(t, r)
		})
	}
}

// A camera that goes silent ends the session with ErrTimeout.
func TestClientTimeout(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, "")
	addr := startServer(t, &rtsp.Server{Hub: hub, Faults: rtsp.Faults{StallEvery: 300 * time.Millisecond, Stall: 5 * time.Second}})
	st := &rtsp.Stats{}
	sess, err := rtsp.Pull(context.Background(), "rtsp://"+addr+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportTCP, Timeout: time.Second, Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-sess.Done():
	case <-time.After(4 * time.Second):
		t.Fatal("silent session still alive")
	}
	if err := sess.Wait(); err == nil || st.ErrTimeout.Load() != 1 {
		t.Fatalf("Wait = %v, ErrTimeout count %d", err, st.ErrTimeout.Load())
	}
}

// Server and client leave no goroutine behind. Not parallel: it counts
// goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		hub := media.NewHub()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv := &rtsp.Server{Hub: hub}
		if err := srv.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			sim.Publish(ctx, hub, "cam", sim.Options{})
		}()
		waitFor(t, 3*time.Second, func() bool { return len(hub.Names()) == 1 })
		for _, k := range []rtsp.TransportKind{rtsp.TransportTCP, rtsp.TransportUDP} {
			sess, err := rtsp.Pull(ctx, "rtsp://"+srv.Addr().String()+"/cam", rtsp.ClientOptions{Transport: k})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			sess.Close()
		}
		// A client that vanishes without TEARDOWN.
		sess, err := rtsp.Pull(ctx, "rtsp://"+srv.Addr().String()+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportTCP})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
		<-done
		sess.Close()
		srv.Close()
	}()
	waitFor(t, 3*time.Second, func() bool { return runtime.NumGoroutine() <= before })
}

// The client keeps a UDP session alive with GET_PARAMETER at half the
// server's session timeout; a connection that does nothing is closed after
// the timeout. // MED-1
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, "")
	addr := startServer(t, &rtsp.Server{Hub: hub, SessionTimeout: 2 * time.Second})
	r := pull(t, "rtsp://"+addr+"/cam", rtsp.ClientOptions{Transport: rtsp.TransportUDP}, 4500*time.Millisecond)
	_, vu := r.video(t)
	checkContiguous(t, vu, 100)

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("idle connection got data")
	}
	if d := time.Since(start); d < 1500*time.Millisecond || d > 4*time.Second {
		t.Fatalf("idle connection closed after %s, want ≈2 s", d)
	}
}
