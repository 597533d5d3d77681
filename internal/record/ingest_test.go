package record

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/sim"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestRunCamerasTellsTheTruth_RET3_RET5_MED4 records a simulated camera
// whose RTP time jumps +1 h and then −5 s (`vigil sim --fault ts-jump`),
// beside a camera that never connects. Before, the +1 h went into the
// index (a segment 1 h long, everything after it an hour ahead), and the
// dead camera had no gap and no state. Now: segments stay true to the
// clock, the jumps are discontinuities with their cause, the dead camera
// has a gap with a cause from the start and reads failing, and every gap
// has cause and detail.
func TestRunCamerasTellsTheTruth_RET3_RET5_MED4(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The transport is per camera (the registry's setting, MED-1).
		var mu sync.Mutex
		online := map[string][]bool{}
		g := newRig(t, db, Options{SegmentLength: 2 * time.Second, CameraTransport: func(_ context.Context, id string) (string, error) {
			if id == "camJ" {
				return "tcp", nil
			}
			return "udp", nil
		}, OnIngest: func(_ context.Context, id string, streaming bool) {
			mu.Lock()
			online[id] = append(online[id], streaming)
			mu.Unlock()
		}})
		registryCamera(t, db, "camJ")
		registryCamera(t, db, "camX")
		addr := make(chan string, 1)
		go sim.Run(ctx, sim.Options{Listen: "127.0.0.1:0", Count: 1, Misbehave: rtsp.Faults{TimestampJump: 2 * time.Second},
			OnListen: func(a string) { addr <- a }})
		jURL := "rtsp://" + <-addr + "/cam1"
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		xURL := "rtsp://" + ln.Addr().String() + "/dead"
		ln.Close() // nothing listens there: connection refused
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.rec.RunCameras(ctx, db, func(_ context.Context, id string) (string, error) {
				if id == "camJ" {
					return jURL, nil
				}
				return xURL, nil
			}, rtsp.ClientOptions{}, 200*time.Millisecond)
		}()
		deadline := time.Now().Add(20 * time.Second)
		for {
			j, _ := g.rec.Ingest("camJ")
			x, _ := g.rec.Ingest("camX")
			if j.State == IngestStreaming && j.Counters.TimestampJumps >= 2 && time.Since(start) > 7*time.Second && x.State == IngestFailing {
				t.Logf("camJ %+v\ncamX %+v", j, x)
				if x.LastError == "" || j.LastEvent == "" || j.Transport != "tcp" || x.Transport != "udp" {
					t.Errorf("ingest states: %+v %+v", j, x)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ingest states: %+v %+v", j, x)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
		end := time.Now()
		mu.Lock()
		if fmt.Sprint(online) != "map[camJ:[true] camX:[false]]" {
			t.Errorf("online/offline told %v, want each camera once", online)
		}
		mu.Unlock()

		bg := context.Background()
		segs, _ := g.index.Chain(bg, "camJ")
		if len(segs) < 2 {
			t.Fatalf("%d segments", len(segs))
		}
		for _, s := range segs {
			if s.Duration() > 5*time.Second || s.End.After(end.Add(2*time.Second)) || s.Start.Before(start.Add(-2*time.Second)) {
				t.Errorf("segment %d: %s – %s (%s): not true to the clock (run %s – %s)", s.Seq, s.Start, s.End, s.Duration(), start, end)
			}
		}
		gaps, _ := g.index.Gaps(bg, "camJ", start.Add(-time.Minute), end.Add(time.Minute))
		jumps := 0
		for _, gp := range gaps {
			if gp.Cause == CauseTimestampJump {
				jumps++
			}
		}
		if jumps < 2 {
			t.Errorf("discontinuities of camJ: %+v", gaps)
		}
		xg, _ := g.index.Gaps(bg, "camX", start.Add(-time.Minute), end.Add(time.Minute))
		if len(xg) == 0 || xg[0].Cause != CauseCameraOffline || xg[0].Start.After(start.Add(2*time.Second)) {
			t.Errorf("gaps of the camera that never connected: %+v", xg)
		}
		var empty int
		if err := db.QueryRow(bg, `SELECT COUNT(*) FROM recording_gaps WHERE cause = '' OR detail = ''`).Scan(&empty); err != nil || empty != 0 {
			t.Errorf("%d gaps without cause or detail (%v)", empty, err)
		}
	})
}

// TestHoleInsideSegmentIsAGap_RET5: two seconds of frames that never came
// (the stream went on after them) sit inside a segment. Before, the index
// showed nothing; now the hole is a gap with its cause and detail.
func TestHoleInsideSegmentIsAGap_RET5(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		g := newRig(t, db, Options{SegmentLength: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		inner := media.NewHub()
		go sim.Publish(ctx, inner, "raw", sim.Options{})
		go func() { // relay, leaving out video units 40..89 (2 s)
			rd, err := inner.SubscribeWait(ctx, "raw", media.ReaderOptions{})
			if err != nil {
				return
			}
			var src *media.Source
			n := 0
			for {
				u, err := rd.Next(ctx)
				if err != nil {
					if src != nil {
						src.Close()
					}
					return
				}
				if src == nil {
					if src, err = g.hub.Publish("camH", rd.Tracks()); err != nil {
						return
					}
				}
				n++
				if n > 40 && n <= 90 {
					continue
				}
				src.Write(u)
			}
		}()
		done := make(chan struct{})
		go func() { defer close(done); g.rec.Record(ctx, "camH", "camH") }()
		deadline := time.Now().Add(15 * time.Second)
		var gaps []Gap
		for {
			gaps, _ = g.index.Gaps(context.Background(), "camH", time.Now().Add(-time.Minute), time.Now().Add(time.Minute))
			if len(gaps) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
		if len(gaps) != 1 || gaps[0].Cause != CauseFramesMissing || d(gaps[0]) < 1900*time.Millisecond || d(gaps[0]) > 2100*time.Millisecond {
			t.Fatalf("gaps %+v, want one of 2 s with cause %s", gaps, CauseFramesMissing)
		}
	})
}

func d(g Gap) time.Duration { return g.End.Sub(g.Start) }

// TestBurstySenderNoFalseGap_RET5_MED4: a camera that holds its stream for
// 3.5 s and then bursts it (`vigil sim --fault burst=3.5s/5s`). Before, a
// segment opened on a late keyframe was re-anchored on the local clock,
// leaving a false gap of the hold in the index. Now segments abut and no gap is
// marked.
func TestBurstySenderNoFalseGap_RET5_MED4(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := newRig(t, db, Options{SegmentLength: time.Second})
		registryCamera(t, db, "camB")
		addr := make(chan string, 1)
		go sim.Run(ctx, sim.Options{Listen: "127.0.0.1:0", Count: 1,
			Misbehave: rtsp.Faults{Burst: 3500 * time.Millisecond, BurstEvery: 5 * time.Second},
			OnListen:  func(a string) { addr <- a }})
		url := "rtsp://" + <-addr + "/cam1"
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.rec.RunCameras(ctx, db, func(context.Context, string) (string, error) { return url, nil },
				rtsp.ClientOptions{Transport: rtsp.TransportTCP}, time.Minute)
		}()
		deadline := time.Now().Add(30 * time.Second)
		for {
			segs, _ := g.index.Chain(context.Background(), "camB")
			if len(segs) > 0 && segs[len(segs)-1].End.Sub(segs[0].Start) > 10*time.Second {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("recorded %d segments", len(segs))
			}
			time.Sleep(100 * time.Millisecond)
		}
		gaps, _ := g.index.Gaps(context.Background(), "camB", start.Add(-time.Minute), time.Now())
		cancel()
		<-done
		segs, _ := g.index.Chain(context.Background(), "camB")
		for i := 1; i < len(segs); i++ {
			if !segs[i].Start.Equal(segs[i-1].End) {
				t.Errorf("segment %d starts %s after the previous ended: a false gap", segs[i].Seq, segs[i].Start.Sub(segs[i-1].End))
			}
		}
		if len(gaps) != 0 {
			t.Errorf("gaps while the camera streamed in bursts: %+v", gaps)
		}
	})
}
