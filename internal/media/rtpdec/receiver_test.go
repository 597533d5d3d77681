package rtpdec

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// TestVideoRoundTrip packetizes real H.264 and H.265 streams (B-frames,
// several slices per picture, fragments), disturbs the packet order as a
// network does, and checks what comes out. // MED-1
func TestVideoRoundTrip(t *testing.T) {
	clips := map[string]clip{
		"H264": encodeVideo(t, media.H264, "640x360", 60, "-bf", "2", "-g", "20", "-x264-params", "slices=3"),
		"H265": encodeVideo(t, media.H265, "640x360", 60, "-bf", "2", "-g", "20"),
	}
	for name, cl := range clips {
		pkts := packetize(t, cl.track, cl.units(), 1200, func(p *Packetizer) { p.SetTimestampOffset(1 << 20) })
		byPTS := map[int64][][]byte{}
		for i, au := range cl.aus {
			byPTS[cl.pts[i]] = au
		}
		t.Run(name+"/in order", func(t *testing.T) {
			units, r := receive(t, cl.track, ReceiverOptions{}, pkts)
			checkAll(t, cl, units)
			if s := r.Stats(); s.Lost != 0 || s.Packets != uint64(len(pkts)) || s.Units != uint64(len(cl.aus)) {
				t.Errorf("stats %+v", s)
			}
			tr := r.Track()
			if len(tr.SPS) == 0 || len(tr.PPS) == 0 || tr.Width != 640 || tr.Height != 360 || (cl.codec == media.H265) != (len(tr.VPS) > 0) {
				t.Errorf("track not learnt from the stream: %dx%d sps %d pps %d vps %d", tr.Width, tr.Height, len(tr.SPS), len(tr.PPS), len(tr.VPS))
			}
		})
		t.Run(name+"/shuffled and duplicated", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var mixed []*rtp.Packet
			for i := 0; i < len(pkts); i += 8 {
				w := append([]*rtp.Packet(nil), pkts[i:min(i+8, len(pkts))]...)
				rng.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
				for _, p := range w {
					mixed = append(mixed, p)
					if rng.IntN(20) == 0 {
						mixed = append(mixed, p)
					}
				}
			}
			units, r := receive(t, cl.track, ReceiverOptions{}, mixed)
			t.Logf("%+v", r.Stats())
			checkAll(t, cl, units)
			s := r.Stats()
			if s.Lost != 0 || s.Reordered == 0 || s.Duplicates != uint64(len(mixed)-len(pkts)) {
				t.Errorf("stats %+v, %d duplicates sent", s, len(mixed)-len(pkts))
			}
		})
		t.Run(name+"/lossy", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			var kept []*rtp.Packet
			dropped, whole, au, hit := 0, 0, 0, false
			for i, p := range pkts {
				if i > 5 && i < len(pkts)-5 && rng.IntN(40) == 0 {
					dropped++
					hit = true
				} else {
					kept = append(kept, p)
				}
				if p.Marker {
					if !hit {
						whole++
					}
					au, hit = au+1, false
				}
			}
			units, r := receive(t, cl.track, ReceiverOptions{}, kept)
			s := r.Stats()
			if s.Lost != uint64(dropped) {
				t.Errorf("dropped %d packets; stats %+v", dropped, s)
			}
			// MED-1: every unit that arrived whole is kept.
			if got := int(s.Units - s.DamagedUnits); got < whole {
				t.Fatalf("%d whole units kept, %d arrived whole (stats %+v)", got, whole, s)
			}
			for i, u := range units {
				if u.Damaged {
					continue
				}
				if !equalNALUs(u.NALUs, byPTS[u.PTS-base(r)]) {
					t.Fatalf("unit %d (pts %d) is not an access unit of the clip", i, u.PTS)
				}
			}
			prevDTS := int64(-1 << 62)
			for i, u := range units {
				if u.DTS > u.PTS || u.DTS < prevDTS {
					t.Fatalf("unit %d: dts %d pts %d prev %d", i, u.DTS, u.PTS, prevDTS)
				}
				prevDTS = u.DTS
			}
		})
	}
}

// base is the receiver time of clip time 0 in the tests that offset RTP
// time by 1<<20.
func base(*Receiver) int64 { return 1 << 20 }

// checkAll asserts that units are exactly the clip's access units.
func checkAll(t *testing.T, cl clip, units []media.Unit) {
	t.Helper()
	if len(units) != len(cl.aus) {
		t.Fatalf("%d units, want %d", len(units), len(cl.aus))
	}
	v := codec.H264
	if cl.codec == media.H265 {
		v = codec.H265
	}
	prevDTS := int64(-1 << 62)
	for i, u := range units {
		if u.PTS-units[0].PTS != cl.pts[i] || !equalNALUs(u.NALUs, cl.aus[i]) || u.Track != 3 {
			t.Fatalf("unit %d differs: pts %d want %d, %d NALUs want %d", i, u.PTS, cl.pts[i], len(u.NALUs), len(cl.aus[i]))
		}
		if u.Key != codec.IsKey(v, cl.aus[i]) {
			t.Errorf("unit %d: key %v", i, u.Key)
		}
		if u.DTS > u.PTS || u.DTS <= prevDTS {
			t.Errorf("unit %d: dts %d pts %d prev %d", i, u.DTS, u.PTS, prevDTS)
		}
		prevDTS = u.DTS
	}
}

// TestWrapAround runs a clip across the 16-bit sequence and 32-bit
// timestamp wraps. // MED-1
func TestWrapAround(t *testing.T) {
	cl := encodeVideo(t, media.H264, "320x240", 40, "-bf", "0", "-g", "10")
	pkts := packetize(t, cl.track, cl.units(), 300, func(p *Packetizer) {
		p.SetSequence(65535 - 30)
		p.SetTimestampOffset(1<<32 - 20*3600)
	})
	units, r := receive(t, cl.track, ReceiverOptions{}, pkts)
	if len(units) != len(cl.aus) {
		t.Fatalf("%d units, want %d; stats %+v", len(units), len(cl.aus), r.Stats())
	}
	for i, u := range units {
		if u.PTS-units[0].PTS != cl.pts[i]-cl.pts[0] {
			t.Fatalf("unit %d: pts %d not %d after the first", i, u.PTS-units[0].PTS, cl.pts[i]-cl.pts[0])
		}
	}
	if last := units[len(units)-1].PTS; last < 1<<32 {
		t.Errorf("last pts %d did not pass 2^32", last)
	}
}

// TestSenderReportMapping checks that Unit.Wall follows RTCP sender
// reports: the receiver maps RTP time to the sender's NTP clock. // MED-1
func TestSenderReportMapping(t *testing.T) {
	track := media.Track{Codec: media.PCMA, ClockRate: 8000}
	pk, _ := NewPacketizer(track, 8, 99, 1400)
	pk.SetTimestampOffset(1<<32 - 8000) // the report's RTP time wraps before the units do
	r, _ := NewReceiver(track, 0, ReceiverOptions{})
	wall := time.Date(2026, 3, 1, 8, 0, 0, 250_000_000, time.UTC)
	sr := pk.SenderReport(wall, 4000)
	b, _ := sr.Marshal()
	parsed, err := rtcp.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var units []media.Unit
	for i := 0; i < 200; i++ {
		pkts, _ := pk.Packetize(media.Unit{PTS: int64(i) * 160, Data: make([]byte, 160)})
		if i == 10 {
			r.HandleRTCP(parsed[0])
		}
		units = append(units, r.HandleRTP(pkts[0], start.Add(time.Duration(i)*20*time.Millisecond))...)
	}
	if units[0].Wall != start || units[1].Wall != start.Add(20*time.Millisecond) {
		t.Errorf("before a report Wall is %v, want the arrival time %v", units[0].Wall, start)
	}
	if len(units) != 200 {
		t.Fatalf("%d units", len(units))
	}
	for _, u := range units[10:] {
		want := wall.Add(media.Duration(u.PTS-units[0].PTS-4000, 8000))
		if d := u.Wall.Sub(want); d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("pts %d: wall %v, want %v", u.PTS, u.Wall, want)
		}
	}
	if r.Stats().SenderReports != 1 {
		t.Errorf("stats %+v", r.Stats())
	}
}

// TestLossKeepsWholeFrames_MED1: a lost packet costs only the access unit
// it belonged to. Every later whole unit is kept (before: everything up to
// the next keyframe was dropped), and a unit that lost one of its slices
// is passed on as received, marked Damaged.
func TestLossKeepsWholeFrames_MED1(t *testing.T) {
	cl := encodeVideo(t, media.H264, "320x240", 30, "-bf", "0", "-g", "10", "-x264-params", "slices=4")
	pkts := packetize(t, cl.track, cl.units(), 1400, nil)
	// Drop the first packet of access unit 3, a P-frame of 4 slices.
	var kept []*rtp.Packet
	au := 0
	for i, p := range pkts {
		if au == 3 && (i == 0 || pkts[i-1].Marker) {
			if p.Marker {
				au++
			}
			continue
		}
		kept = append(kept, p)
		if p.Marker {
			au++
		}
	}
	units, r := receive(t, cl.track, ReceiverOptions{}, kept)
	s := r.Stats()
	if s.Lost != 1 {
		t.Fatalf("lost %d", s.Lost)
	}
	if len(units) != 30 || s.DamagedUnits != 1 {
		t.Fatalf("%d units (%d damaged), want 30 with 1 damaged", len(units), s.DamagedUnits)
	}
	for i, u := range units {
		if u.Damaged != (i == 3) {
			t.Errorf("unit %d damaged=%v", i, u.Damaged)
		}
		if i != 3 && !equalNALUs(u.NALUs, cl.aus[i]) {
			t.Errorf("unit %d is not the clip's", i)
		}
	}
	if len(units[3].NALUs) != len(cl.aus[3])-1 {
		t.Errorf("damaged unit has %d NAL units, want the %d that arrived", len(units[3].NALUs), len(cl.aus[3])-1)
	}
}

// TestClockRateObserved: a camera that declares 16 kHz but stamps 8 kHz
// audio is noticed; one that tells the truth is not.
func TestClockRateObserved(t *testing.T) {
	for _, declared := range []int{8000, 16000} {
		track := media.Track{Codec: media.PCMU, ClockRate: declared}
		r, _ := NewReceiver(track, 0, ReceiverOptions{})
		start := time.Unix(1000, 0)
		for i := 0; i < 500; i++ { // 10 s of 20 ms packets at 8 kHz
			r.HandleRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 160)}, Payload: make([]byte, 160)},
				start.Add(time.Duration(i)*20*time.Millisecond))
		}
		s := r.Stats()
		if s.ObservedClockRate < 7900 || s.ObservedClockRate > 8100 || s.ClockMismatch != (declared != 8000) {
			t.Errorf("declared %d: observed %.0f mismatch %v", declared, s.ObservedClockRate, s.ClockMismatch)
		}
	}
}
