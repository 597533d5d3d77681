package rtpdec

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"vigil/internal/media"
)

// TestDepacketizeStructures feeds hand-built payloads of each RTP payload
// structure and checks what comes out and what is counted.
func TestDepacketizeStructures(t *testing.T) {
	sps, pps := seedSPS264, seedPPS264
	stapA := append(append(append([]byte{24, 0, byte(len(sps))}, sps...), 0, byte(len(pps))), pps...)
	idr := []byte{0x65, 0x88, 0x84, 0x21, 0x01, 0x02}
	fuStart := []byte{0x7c, 0x85, 0x88, 0x84}
	fuEnd := []byte{0x7c, 0x45, 0x21, 0x01, 0x02}
	// H.265: VPS/SPS/PPS-like AP, an IDR_N_LP in two FUs.
	hvps, hsps, hpps := []byte{0x40, 0x01, 0xaa}, []byte{0x42, 0x01, 0xbb}, []byte{0x44, 0x01, 0xcc}
	ap := []byte{0x60, 0x01}
	for _, n := range [][]byte{hvps, hsps, hpps} {
		ap = append(append(ap, 0, byte(len(n))), n...)
	}
	hfuStart := []byte{0x62, 0x01, 0x80 | 20, 0xaf, 0x01}
	hfuEnd := []byte{0x62, 0x01, 0x40 | 20, 0x02}
	cases := []struct {
		name        string
		codec       media.Codec
		payloads    [][]byte
		markers     []bool
		wantNALUs   [][]int // NAL unit lengths of each emitted unit
		unsupp, bad uint64
	}{
		{"STAP-A + FU-A", media.H264, [][]byte{stapA, fuStart, fuEnd}, []bool{false, false, true}, [][]int{{len(sps), len(pps), len(idr)}}, 0, 0},
		{"single NALs", media.H264, [][]byte{sps, pps, idr}, []bool{false, false, true}, [][]int{{len(sps), len(pps), len(idr)}}, 0, 0},
		{"STAP-B dropped", media.H264, [][]byte{stapA, {25, 0, 0, 1, 0x65}, idr}, []bool{false, false, true}, nil, 1, 0},
		{"MTAP16 dropped", media.H264, [][]byte{stapA, {26, 1}, idr}, []bool{false, false, true}, nil, 1, 0},
		{"FU-B dropped", media.H264, [][]byte{stapA, {29, 0x85, 0, 1, 2}, idr}, []bool{false, false, true}, nil, 1, 0},
		{"FU-A without start", media.H264, [][]byte{stapA, fuEnd}, []bool{false, true}, nil, 0, 1},
		{"FU-A without end", media.H264, [][]byte{stapA, fuStart}, []bool{false, true}, nil, 0, 0},
		{"truncated STAP-A", media.H264, [][]byte{{24, 0, 9, 0x67}, idr}, []bool{false, true}, nil, 0, 1},
		{"AP + FU", media.H265, [][]byte{ap, hfuStart, hfuEnd}, []bool{false, false, true}, [][]int{{3, 3, 3, 2 + 3}}, 0, 0},
		{"PACI dropped", media.H265, [][]byte{ap, {0x64, 0x01, 0, 0}, hfuStart, hfuEnd}, []bool{false, false, false, true}, nil, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			track := media.Track{Codec: c.codec, ClockRate: 90000}
			if c.codec == media.H264 {
				track.SPS, track.PPS = sps, pps
			} else {
				track.VPS, track.SPS, track.PPS = hvps, hsps, hpps
			}
			r, err := NewReceiver(track, 0, ReceiverOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var units []media.Unit
			for i, p := range c.payloads {
				units = append(units, r.HandleRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(100 + i), Timestamp: 9000, Marker: c.markers[i]}, Payload: p}, time.Unix(5, 0))...)
			}
			units = append(units, r.Flush()...)
			if len(units) != len(c.wantNALUs) {
				t.Fatalf("%d units, want %d; %+v", len(units), len(c.wantNALUs), r.Stats())
			}
			for i, u := range units {
				if len(u.NALUs) != len(c.wantNALUs[i]) || !u.Key {
					t.Fatalf("unit %d: %d NALUs key %v", i, len(u.NALUs), u.Key)
				}
				for j, n := range u.NALUs {
					if len(n) != c.wantNALUs[i][j] {
						t.Errorf("unit %d NALU %d: %d bytes, want %d", i, j, len(n), c.wantNALUs[i][j])
					}
				}
			}
			if s := r.Stats(); s.Unsupported != c.unsupp || s.Malformed != c.bad {
				t.Errorf("unsupported %d malformed %d, want %d %d", s.Unsupported, s.Malformed, c.unsupp, c.bad)
			}
		})
	}
}

// TestStreamRestart: a new SSRC or a jump in sequence numbers starts over
// without time going backwards.
func TestStreamRestart(t *testing.T) {
	track := media.Track{Codec: media.PCMA, ClockRate: 8000}
	r, _ := NewReceiver(track, 0, ReceiverOptions{ReorderDelay: time.Nanosecond})
	var units []media.Unit
	send := func(ssrc uint32, seq uint16, ts uint32) {
		units = append(units, r.HandleRTP(&rtp.Packet{Header: rtp.Header{SSRC: ssrc, SequenceNumber: seq, Timestamp: ts}, Payload: []byte{1}}, time.Unix(int64(len(units)), 0))...)
	}
	send(1, 100, 50000)
	send(1, 101, 50160)
	send(2, 7, 10) // new SSRC, earlier timestamp
	send(2, 8, 170)
	send(2, 30000, 330) // sequence jump
	send(2, 30001, 490)
	units = append(units, r.Flush()...)
	if len(units) != 6 || r.Stats().Resets != 2 {
		t.Fatalf("%d units, %+v", len(units), r.Stats())
	}
	for i := 1; i < len(units); i++ {
		if units[i].PTS <= units[i-1].PTS {
			t.Errorf("unit %d: pts %d after %d", i, units[i].PTS, units[i-1].PTS)
		}
	}
}
