package record

import (
	"context"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/sim"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestCameraClockDriftIsReportedNotRecorded: a camera whose clock is 30 s
// fast (its RTCP wall clock) is reported as drifting, and its footage is
// still placed at the local time it arrived, so the timeline stays true. // MED-4
func TestCameraClockDriftIsReportedNotRecorded(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	g := newRig(t, db, Options{SegmentLength: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The simulator publishes into an inner hub; a relay shifts each
	// unit's wall clock by +30 s into the recorder's hub.
	inner := media.NewHub()
	go sim.Publish(ctx, inner, "raw", sim.Options{})
	go func() {
		rd, err := inner.SubscribeWait(ctx, "raw", media.ReaderOptions{})
		if err != nil {
			return
		}
		var src *media.Source
		for {
			u, err := rd.Next(ctx)
			if err != nil {
				if src != nil {
					src.Close()
				}
				return
			}
			if src == nil {
				if src, err = g.hub.Publish("camD", rd.Tracks()); err != nil {
					return
				}
			}
			u.Wall = u.Wall.Add(30 * time.Second)
			src.Write(u)
		}
	}()
	began := time.Now()
	done := make(chan struct{})
	go func() { defer close(done); g.rec.Record(ctx, "camD", "camD") }()
	time.Sleep(3 * time.Second)
	st, _ := g.rec.State("camD")
	cancel()
	<-done
	if !st.ClockDrift || st.ClockOffset < 29*time.Second || st.ClockOffset > 31*time.Second {
		t.Errorf("state: %+v; want clock drift of about +30 s", st)
	}
	segs, _ := g.index.Chain(context.Background(), "camD")
	if len(segs) == 0 {
		t.Fatal("nothing recorded")
	}
	if d := segs[0].Start.Sub(began); d < -2*time.Second || d > 2*time.Second {
		t.Errorf("first segment starts %v from the local start: the camera's clock leaked into the timeline", d)
	}
	for i := 1; i < len(segs); i++ {
		if !segs[i].Start.Equal(segs[i-1].End) {
			t.Errorf("segment %d does not abut the previous", segs[i].Seq)
		}
	}
}
