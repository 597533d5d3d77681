package rtpdec

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"vigil/internal/media"
)

// paced feeds packets to a receiver as a real-time sender would: the
// packets of frame i arrive at i·40 ms. mutate, if set, may change each
// packet (frame index given) before it is handed in.
func paced(t *testing.T, track media.Track, pkts []*rtp.Packet, mutate func(frame int, p *rtp.Packet)) ([]media.Unit, *Receiver, []Event) {
	t.Helper()
	var events []Event
	r, err := NewReceiver(track, 0, ReceiverOptions{OnEvent: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	var out []media.Unit
	frame := 0
	for _, p := range pkts {
		q := *p
		if mutate != nil {
			mutate(frame, &q)
		}
		out = append(out, r.HandleRTP(&q, testNow.Add(time.Duration(frame)*40*time.Millisecond))...)
		if p.Marker {
			frame++
		}
	}
	return append(out, r.Flush()...), r, events
}

// checkTimeline asserts the units are every frame, in order, 40 ms apart
// within tolerance ticks.
func checkTimeline(t *testing.T, units []media.Unit, frames int, clock int64, tolerance int64) {
	t.Helper()
	if len(units) != frames {
		t.Fatalf("%d units, want every one of %d frames", len(units), frames)
	}
	want := clock * 40 / 1000
	for i := 1; i < len(units); i++ {
		d := units[i].DTS - units[i-1].DTS
		if d < want-tolerance || d > want+tolerance {
			t.Fatalf("unit %d: DTS step %d ticks, want %d±%d", i, d, want, tolerance)
		}
	}
}

// TestTimestampJumpsReanchored_MED4_RET3 plants the `vigil sim --fault
// ts-jump` faults: RTP time jumps +1 h, later −5 s. Before, the +1 h went
// into the timeline and the −5 s step dropped 125 frames. Every frame must
// be kept on a timeline that follows arrival time, and each jump reported.
func TestTimestampJumpsReanchored_MED4_RET3(t *testing.T) {
	cl := encodeVideo(t, media.H264, "160x120", 100, "-bf", "0", "-g", "25")
	pkts := packetize(t, cl.track, cl.units(), 1400, nil)
	units, r, events := paced(t, cl.track, pkts, func(f int, p *rtp.Packet) {
		if f >= 30 {
			p.Timestamp += 3600 * 90000
		}
		if f >= 60 {
			p.Timestamp -= 5 * 90000
		}
	})
	checkTimeline(t, units, 100, 90000, 90)
	s := r.Stats()
	if s.TimestampJumps != 2 || len(events) != 2 || events[0].Kind != EventTimestampJump || events[1].Kind != EventTimestampJump {
		t.Fatalf("jumps %d, events %+v", s.TimestampJumps, events)
	}
	t.Log(events)
}

// TestWrongClockRateCorrected_MED4 plants `vigil sim --fault clock-rate`:
// H.264 stamped at 90 kHz but announced at 1000 Hz, so time ran 90× fast.
// The receiver must notice against arrival times, time the stream at
// 90 kHz (in the declared 1000 Hz ticks) and report it.
func TestWrongClockRateCorrected_MED4(t *testing.T) {
	cl := encodeVideo(t, media.H264, "160x120", 150, "-bf", "0", "-g", "25")
	pkts := packetize(t, cl.track, cl.units(), 1400, nil)
	declared := media.Track{Codec: media.H264, ClockRate: 1000}
	units, r, events := paced(t, declared, pkts, nil)
	if len(units) != 150 {
		t.Fatalf("%d units", len(units))
	}
	span := units[len(units)-1].DTS - units[0].DTS // 149 frames of 40 ms: 5.96 s
	if span < 5800 || span > 6200 {
		t.Errorf("timeline spans %d ms of 1000 Hz ticks for 5.96 s of frames", span)
	}
	// After the correction, steps are exactly 40 ms.
	checkTimeline(t, units[75:], 75, 1000, 1)
	s := r.Stats()
	if s.ClockCorrections != 1 || s.ClockRate != 90000 || !s.ClockMismatch {
		t.Errorf("stats %+v", s)
	}
	var rate bool
	for _, e := range events {
		rate = rate || e.Kind == EventClockRate
	}
	if !rate || len(events) > 2 {
		t.Errorf("events %+v", events)
	}
	t.Log(events)
}

// TestSSRCChangeKeepsFrames_MED1 plants `vigil sim --fault ssrc-every`: the
// sender restarts its RTP stream (new SSRC, sequence and timestamp
// offset) between two frames. Before, ~1.9 s was lost per change. No frame
// may be lost, the timeline must go on and the change be reported.
func TestSSRCChangeKeepsFrames_MED1(t *testing.T) {
	cl := encodeVideo(t, media.H264, "160x120", 60, "-bf", "0", "-g", "25")
	pkts := packetize(t, cl.track, cl.units(), 1400, nil)
	units, r, events := paced(t, cl.track, pkts, func(f int, p *rtp.Packet) {
		if f >= 30 {
			p.SSRC, p.SequenceNumber, p.Timestamp = 0xbeef, p.SequenceNumber+20000, p.Timestamp+123456789
		}
	})
	checkTimeline(t, units, 60, 90000, 90)
	if s := r.Stats(); s.SSRCChanges != 1 || len(events) != 1 || events[0].Kind != EventSSRC {
		t.Fatalf("stats %+v events %+v", s, events)
	}
}

// TestBurstyArrivalNoJump_MED4: a sender that stalls 2.5 s and then
// bursts the frames it held is not a timestamp jump: its timeline stays
// the media clock's.
func TestBurstyArrivalNoJump_MED4(t *testing.T) {
	cl := encodeVideo(t, media.H264, "160x120", 100, "-bf", "0", "-g", "25")
	pkts := packetize(t, cl.track, cl.units(), 1400, nil)
	r, _ := NewReceiver(cl.track, 0, ReceiverOptions{})
	var units []media.Unit
	frame := 0
	for _, p := range pkts {
		at := time.Duration(frame) * 40 * time.Millisecond
		if frame >= 20 && frame < 83 { // held back 2.5 s, then sent in a burst
			at = 3280*time.Millisecond + time.Duration(frame-20)*500*time.Microsecond
		}
		units = append(units, r.HandleRTP(p, testNow.Add(at))...)
		if p.Marker {
			frame++
		}
	}
	units = append(units, r.Flush()...)
	checkTimeline(t, units, 100, 90000, 1)
	if s := r.Stats(); s.TimestampJumps != 0 || s.ClockCorrections != 0 {
		t.Fatalf("stats %+v", s)
	}
}
