package media

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

var testTracks = []Track{
	{Codec: H264, ClockRate: 90000, Width: 1280, Height: 720},
	{Codec: AAC, ClockRate: 8000, SampleRate: 8000, Channels: 1},
}

// gopUnits returns n video units, a keyframe every gop, with one audio unit
// after each video unit.
func gopUnits(n, gop int) []Unit {
	var us []Unit
	for i := range n {
		ts := int64(i) * 3600
		us = append(us, Unit{Track: 0, PTS: ts, DTS: ts, Key: i%gop == 0, NALUs: [][]byte{{0x65, byte(i)}}})
		us = append(us, Unit{Track: 1, PTS: int64(i) * 320, DTS: int64(i) * 320, Data: []byte{byte(i)}})
	}
	return us
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// drain reads until io.EOF.
func drain(t *testing.T, r *Reader) []Unit {
	t.Helper()
	var got []Unit
	for {
		u, err := r.Next(ctxT(t))
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, u)
	}
}

// TestHubFanout: every reader of a source receives every unit in order. MED-2
func TestHubFanout(t *testing.T) {
	h := NewHub()
	src, err := h.Publish("cam1", testTracks)
	if err != nil {
		t.Fatal(err)
	}
	const readers = 20
	units := gopUnits(200, 25)
	var wg sync.WaitGroup
	results := make([][]Unit, readers)
	for i := range readers {
		r, err := h.Subscribe("cam1", ReaderOptions{QueueLen: len(units)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = drain(t, r)
			if r.Dropped() != 0 {
				t.Errorf("reader %d dropped %d", i, r.Dropped())
			}
		}()
	}
	for _, u := range units {
		src.Write(u)
	}
	src.Close()
	wg.Wait()
	for i, got := range results {
		if len(got) != len(units) {
			t.Fatalf("reader %d got %d units, want %d", i, len(got), len(units))
		}
		for j := range got {
			if got[j].Track != units[j].Track || got[j].DTS != units[j].DTS {
				t.Fatalf("reader %d unit %d = track %d dts %d, want track %d dts %d", i, j, got[j].Track, got[j].DTS, units[j].Track, units[j].DTS)
			}
		}
	}
}

// TestHubSlowReaderDrops: a stalled reader loses units and restarts at a
// keyframe; a fast reader alongside it receives everything. MED-2
func TestHubSlowReaderDrops(t *testing.T) {
	h := NewHub()
	src, _ := h.Publish("cam", testTracks)
	slow, _ := h.Subscribe("cam", ReaderOptions{QueueLen: 8})
	fast, _ := h.Subscribe("cam", ReaderOptions{QueueLen: 4})
	units := gopUnits(100, 10)

	var fastGot []Unit
	done := make(chan struct{})
	go func() {
		defer close(done)
		fastGot = drain(t, fast)
	}()
	start := time.Now()
	var slowGot []Unit
	for i, u := range units {
		src.Write(u)
		if i%40 == 39 { // the slow reader wakes up now and then, briefly
			for range 4 {
				v, err := slow.Next(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				slowGot = append(slowGot, v)
			}
		}
		// Give the fast reader time to keep up; the slow one never reads.
		deadline := time.Now().Add(time.Second)
		for {
			fast.mu.Lock()
			n := fast.n
			fast.mu.Unlock()
			if n == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Microsecond)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("writing took %v: the stalled reader slowed the source", el)
	}
	src.Close()
	<-done
	if len(fastGot) != len(units) || fast.Dropped() != 0 {
		t.Fatalf("fast reader got %d of %d units, dropped %d", len(fastGot), len(units), fast.Dropped())
	}

	got := append(slowGot, drain(t, slow)...)
	if slow.Dropped() == 0 || uint64(len(got))+slow.Dropped() != uint64(len(units)) {
		t.Fatalf("slow reader got %d, dropped %d, of %d", len(got), slow.Dropped(), len(units))
	}
	// After the first 8 queued units, video must resume at a keyframe and
	// then be continuous up to the end.
	var lastVideo = -1
	resumed := false
	for i, u := range got {
		if u.Track != 0 {
			continue
		}
		seq := int(u.DTS / 3600)
		if lastVideo >= 0 && seq != lastVideo+1 {
			if !u.Key {
				t.Fatalf("unit %d: video resumed at frame %d after %d without a keyframe", i, seq, lastVideo)
			}
			resumed = true
		}
		lastVideo = seq
	}
	if !resumed {
		t.Fatalf("slow reader never skipped: %d units", len(got))
	}
}

// TestHubGOPCache: a late reader starts at the latest keyframe, with the
// audio written alongside it. MED-2
func TestHubGOPCache(t *testing.T) {
	h := NewHub()
	src, _ := h.Publish("cam", testTracks)
	units := gopUnits(37, 10) // keyframes at 0, 10, 20, 30
	for _, u := range units {
		src.Write(u)
	}
	tests := []struct {
		name string
		opts ReaderOptions
		want int // units before the next write
	}{
		{"cache", ReaderOptions{}, 14}, // frames 30..36 with their audio
		{"no cache", ReaderOptions{NoGOPCache: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := h.Subscribe("cam", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i := range tt.want {
				u, err := r.Next(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 && (!u.Key || u.DTS != 30*3600) {
					t.Fatalf("first unit key=%v dts=%d, want the keyframe at %d", u.Key, u.DTS, 30*3600)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if u, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("after the cache: unit %+v, err %v; want a timeout", u, err)
			}
		})
	}
	// A reader without cache skips video until a keyframe.
	r, _ := h.Subscribe("cam", ReaderOptions{NoGOPCache: true})
	src.Write(Unit{Track: 0, DTS: 37 * 3600})                                     // not key: skipped
	src.Write(Unit{Track: 1, DTS: 37 * 320})                                      // audio passes
	src.Write(Unit{Track: 0, DTS: 40 * 3600, Key: true, NALUs: [][]byte{{0x65}}}) // key
	for _, want := range []struct {
		track int
		key   bool
	}{{1, false}, {0, true}} {
		u, err := r.Next(ctxT(t))
		if err != nil || u.Track != want.track || u.Key != want.key {
			t.Fatalf("got track %d key %v err %v, want track %d key %v", u.Track, u.Key, err, want.track, want.key)
		}
	}
}

// TestHubCloseSemantics covers source and reader close, republish and
// waiting for a source. MED-2
func TestHubCloseSemantics(t *testing.T) {
	h := NewHub()
	if _, err := h.Subscribe("cam", ReaderOptions{}); !errors.Is(err, ErrNoSource) {
		t.Fatalf("subscribe to missing source: %v", err)
	}

	waited := make(chan *Reader)
	go func() {
		r, err := h.SubscribeWait(ctxT(t), "cam", ReaderOptions{})
		if err != nil {
			t.Error(err)
		}
		waited <- r
	}()
	time.Sleep(10 * time.Millisecond)
	src, err := h.Publish("cam", testTracks)
	if err != nil {
		t.Fatal(err)
	}
	wr := <-waited
	if _, err := h.Publish("cam", testTracks); !errors.Is(err, ErrSourceExists) {
		t.Fatalf("second publish: %v", err)
	}
	if got := h.Names(); len(got) != 1 || got[0] != "cam" {
		t.Fatalf("Names = %v", got)
	}

	closing, _ := h.Subscribe("cam", ReaderOptions{})
	pending := make(chan error, 1)
	go func() {
		_, err := closing.Next(context.Background())
		pending <- err
	}()
	time.Sleep(10 * time.Millisecond)
	closing.Close()
	if err := <-pending; !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("Next across Close: %v", err)
	}
	if src.Readers() != 1 {
		t.Fatalf("Readers = %d after one closed, want 1", src.Readers())
	}

	src.Write(Unit{Track: 0, Key: true, NALUs: [][]byte{{0x65}}})
	src.Close()
	src.Write(Unit{Track: 0, Key: true}) // ignored
	if u, err := wr.Next(ctxT(t)); err != nil || !u.Key {
		t.Fatalf("queued unit after close: %+v %v", u, err)
	}
	if _, err := wr.Next(ctxT(t)); !errors.Is(err, io.EOF) {
		t.Fatalf("after drain: %v, want EOF", err)
	}
	if _, err := h.Subscribe("cam", ReaderOptions{}); !errors.Is(err, ErrNoSource) {
		t.Fatalf("subscribe after close: %v", err)
	}
	src2, err := h.Publish("cam", testTracks[:1])
	if err != nil {
		t.Fatalf("republish after close: %v", err)
	}
	r2, _ := h.Subscribe("cam", ReaderOptions{})
	if len(r2.Tracks()) != 1 || r2.Generation() != 1 {
		t.Fatalf("tracks %v gen %d", r2.Tracks(), r2.Generation())
	}
	newTracks := []Track{{Codec: H264, ClockRate: 90000, Width: 1920, Height: 1080}}
	src2.SetTracks(newTracks)
	src2.Write(Unit{Track: 0, Key: true})
	if _, err := r2.Next(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if r2.Tracks()[0].Width != 1920 || r2.Generation() != 2 {
		t.Fatalf("after SetTracks: %+v gen %d", r2.Tracks(), r2.Generation())
	}
}

// BenchmarkHubFanout: one source, 50 readers draining concurrently; ns/op is
// per unit written.
func BenchmarkHubFanout(b *testing.B) {
	h := NewHub()
	src, _ := h.Publish("cam", testTracks)
	var wg sync.WaitGroup
	for range 50 {
		r, _ := h.Subscribe("cam", ReaderOptions{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := r.Next(context.Background()); err != nil {
					return
				}
			}
		}()
	}
	u := Unit{Track: 0, Key: true, NALUs: [][]byte{{0x65}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		u.DTS = int64(i)
		u.Key = i%50 == 0
		src.Write(u)
	}
	b.StopTimer()
	src.Close()
	wg.Wait()
}
