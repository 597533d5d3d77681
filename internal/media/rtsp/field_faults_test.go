package rtsp_test

import (
	"sync"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
)

// events collects the client's fault events.
type events struct {
	mu   sync.Mutex
	seen map[string]int
}

func (e *events) on(ev rtsp.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[string]int{}
	}
	e.seen[ev.Kind]++
}

func (e *events) count(kind string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seen[kind]
}

// checkTimeline asserts video units step forward by about a frame (25 fps
// in ticks of clock), never back, never by more than maxStep.
func checkTimeline(t *testing.T, units []media.Unit, least int, clock int64, maxStep int64) {
	t.Helper()
	if len(units) < least {
		t.Fatalf("%d video units, want at least %d", len(units), least)
	}
	for i := 1; i < len(units); i++ {
		if d := units[i].DTS - units[i-1].DTS; d <= 0 || d > maxStep {
			t.Fatalf("unit %d: DTS step %d ticks of %d Hz", i, d, clock)
		}
	}
}

// TestFieldCameraFaults plays each `vigil sim --fault` mode against the
// client; each plants the fault and fails on the old behaviour. // MED-1, MED-4, RET-3
func TestFieldCameraFaults(t *testing.T) {
	t.Parallel()
	hub := media.NewHub()
	publishSim(t, hub, "cam", media.H264, "")
	cases := []struct {
		name   string
		faults rtsp.Faults
		kind   rtsp.TransportKind
		auth   bool
		check  func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters)
	}{
		// MED-1: 1 % UDP loss with reordering. Before, any loss dropped
		// everything up to the next keyframe (~15 % of frames kept).
		{"loss 1% reordered", rtsp.Faults{DropPercent: 1, ReorderPercent: 1}, rtsp.TransportUDP, false, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			_, vu := r.video(t)
			whole := 0
			for _, u := range vu {
				if !u.Damaged {
					whole++
				}
			}
			sent := int(sc.VideoWhole.Load())
			t.Logf("%d video units kept whole (%d damaged) of %d sent whole; stats %+v; first unit %d", whole, len(vu)-whole, sent, r.stats, r.units[0].DTS-vu[0].DTS)
			// Every frame missing from the timeline after the first is one
			// that did not arrive whole (dropped by the receiver).
			missing := int64(0)
			for i := 1; i < len(vu); i++ {
				missing += (vu[i].DTS-vu[i-1].DTS)/3600 - 1
			}
			if missing > r.stats.FramesDropped || whole < sent/2 {
				t.Fatalf("%d frames missing, %d did not arrive whole; %d of %d kept", missing, r.stats.FramesDropped, whole, sent)
			}
		}},
		// MED-4, RET-3: RTP time +1 h after 1 s, −5 s after 2 s.
		{"timestamp jumps", rtsp.Faults{TimestampJump: time.Second}, rtsp.TransportTCP, false, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			_, vu := r.video(t)
			checkTimeline(t, vu, 60, 90000, 90000/2)
			if r.stats.TimestampJumps < 2 || ev.count(rtsp.EventTimestampJump) < 2 {
				t.Fatalf("jumps %d, events %v", r.stats.TimestampJumps, ev.seen)
			}
		}},
		// MED-4: H.264 announced at 1000 Hz.
		{"wrong clock rate", rtsp.Faults{ClockRate: 1000}, rtsp.TransportTCP, false, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			_, vu := r.video(t)
			vu = vu[25:] // the GOP burst at PLAY is timed by arrival until the rate is known
			if r.tracks[0].ClockRate != 1000 {
				t.Fatalf("track clock %d", r.tracks[0].ClockRate)
			}
			checkTimeline(t, vu, 60, 1000, 500)
			span := vu[len(vu)-1].DTS - vu[0].DTS
			want := int64(len(vu)-1) * 40
			if span < want*9/10 || span > want*11/10 {
				t.Fatalf("%d frames span %d ms, want ≈%d", len(vu), span, want)
			}
			if r.stats.ClockCorrections != 1 || ev.count(rtsp.EventClockRate) != 1 {
				t.Fatalf("corrections %d, events %v", r.stats.ClockCorrections, ev.seen)
			}
		}},
		// MED-1: SSRC changes every second. Before, ~1.9 s lost per change.
		{"ssrc changes", rtsp.Faults{SSRCEvery: time.Second}, rtsp.TransportTCP, false, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			_, vu := r.video(t)
			checkTimeline(t, vu, 60, 90000, 90000/2)
			sent := int(sc.VideoUnits.Load())
			if len(vu) < sent-30 || r.stats.SSRCChanges < 2 || ev.count(rtsp.EventSSRC) < 2 {
				t.Fatalf("%d of %d frames, %d SSRC changes, events %v", len(vu), sent, r.stats.SSRCChanges, ev.seen)
			}
		}},
		// MED-1: a header line without a colon. Before, DESCRIBE failed.
		{"bad header line", rtsp.Faults{BadHeader: true}, rtsp.TransportTCP, false, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			_, vu := r.video(t)
			checkContiguous(t, vu, 60)
			if r.stats.BadHeaderLines == 0 || ev.count(rtsp.EventBadHeader) != 1 {
				t.Fatalf("bad lines %d, events %v", r.stats.BadHeaderLines, ev.seen)
			}
		}},
		// MED-1: keep-alives answered 401 stale. Before, they were not retried.
		{"stale nonce", rtsp.Faults{StaleNonce: time.Second}, rtsp.TransportTCP, true, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			if sc.StaleNonces.Load() == 0 || r.stats.AuthRetries == 0 || sc.KeepAlives.Load() < 2 || ev.count(rtsp.EventAuthRetry) == 0 {
				t.Fatalf("stale 401s %d, retries %d, keep-alives answered 200 %d", sc.StaleNonces.Load(), r.stats.AuthRetries, sc.KeepAlives.Load())
			}
		}},
		// MED-4: a sender that holds 1.5 s and bursts is not a jump, and
		// loses nothing.
		{"bursty", rtsp.Faults{BurstEvery: 2 * time.Second, Burst: 1500 * time.Millisecond}, rtsp.TransportTCP, false, func(t *testing.T, r *received, ev *events, sc *rtsp.ServerCounters) {
			_, vu := r.video(t)
			checkContiguous(t, vu, 50)
			if r.stats.TimestampJumps != 0 || r.stats.ClockCorrections != 0 {
				t.Fatalf("stats %+v", r.stats)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sc := &rtsp.ServerCounters{}
			srv := &rtsp.Server{Hub: hub, Faults: c.faults, Counters: sc, SessionTimeout: 2 * time.Second}
			url := "rtsp://"
			if c.auth {
				srv.Auth = rtsp.StaticAuth("u", "p")
				url += "u:p@"
			}
			addr := startServer(t, srv)
			ev := &events{}
			r := pull(t, url+addr+"/cam", rtsp.ClientOptions{Transport: c.kind, Timeout: 3 * time.Second, OnEvent: ev.on}, 4500*time.Millisecond)
			c.check(t, r, ev, sc)
		})
	}
}
