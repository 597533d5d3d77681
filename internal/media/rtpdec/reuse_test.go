package rtpdec

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"

	"vigil/internal/media"
)

// The receiver copies what it keeps of a packet, so a caller may reuse one
// packet and one payload buffer for every read (the RTSP client does): fed
// out of order through a buffer that is scribbled over after each call, it
// must emit exactly what it emits from packets it is given to keep. MED-1
func TestReceiverCopiesLentPackets(t *testing.T) {
	for _, c := range []media.Codec{media.H264, media.H265} {
		t.Run(string(c), func(t *testing.T) {
			cl := encodeVideo(t, c, "640x360", 30, "-bf", "2", "-g", "10")
			pkts := packetize(t, cl.track, cl.units(), 1000, nil)
			rng := rand.New(rand.NewPCG(3, 4))
			var mixed []*rtp.Packet
			for i := 0; i < len(pkts); i += 6 {
				w := append([]*rtp.Packet(nil), pkts[i:min(i+6, len(pkts))]...)
				rng.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
				mixed = append(mixed, w...)
			}
			want, _ := receive(t, cl.track, ReceiverOptions{}, mixed)

			r, err := NewReceiver(cl.track, 3, ReceiverOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var pkt rtp.Packet
			buf := make([]byte, 0, 1500)
			now := testNow
			var got []media.Unit
			for _, p := range mixed {
				pkt.Header = p.Header
				pkt.Payload = append(buf[:0], p.Payload...)
				now = now.Add(5 * time.Millisecond)
				got = append(got, r.HandleRTP(&pkt, now)...)
				for i := range pkt.Payload {
					pkt.Payload[i] = 0xAA
				}
				pkt.Header = rtp.Header{}
			}
			got = append(got, r.Flush()...)
			if len(got) != len(want) || len(got) != len(cl.aus) {
				t.Fatalf("%d units from lent packets, %d from kept ones, %d access units", len(got), len(want), len(cl.aus))
			}
			for i := range want {
				if got[i].PTS != want[i].PTS || got[i].DTS != want[i].DTS || got[i].Key != want[i].Key || !equalNALUs(got[i].NALUs, want[i].NALUs) {
					t.Fatalf("unit %d differs", i)
				}
			}
			if s := r.Stats(); s.Reordered == 0 || s.Lost != 0 {
				t.Fatalf("stats %+v: the reorder buffer was not exercised", s)
			}
		})
	}
}

// Access units are gathered in a pooled scratch buffer and copied out
// whole: the NAL units that come out must be exactly the ones that went
// in, in order, also when a single NAL unit arrives while a fragmented one
// is unfinished (it goes first) and when a fragmented unit is large.
func TestDepacketizeScratchLayout(t *testing.T) {
	sps, pps := seedSPS264, seedPPS264
	stapA := append(append(append([]byte{24, 0, byte(len(sps))}, sps...), 0, byte(len(pps))), pps...)
	// Longer than the fragment gathered before it, and shorter.
	sei := []byte{0x06, 0x05, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x80}
	aud := []byte{0x09, 0x10}
	big := make([]byte, 200_000)
	for i := range big {
		big[i] = byte(i%251 + 1)
	}
	fuA := func(hdr byte, data []byte, size int) [][]byte {
		var out [][]byte
		for i := 0; i < len(data); i += size {
			fu := hdr&0x1f | 0
			if i == 0 {
				fu |= 0x80
			}
			if i+size >= len(data) {
				fu |= 0x40
			}
			out = append(out, append([]byte{hdr&0xe0 | 28, fu}, data[i:min(i+size, len(data))]...))
		}
		return out
	}
	idr := append([]byte{0x65}, big...)
	cases := []struct {
		name     string
		payloads [][]byte
		want     [][]byte
	}{
		{"NAL inside FU-A", append(append([][]byte{stapA, fuA(0x65, big[:10], 4)[0]}, sei), fuA(0x65, big[:10], 4)[1:]...), [][]byte{sps, pps, sei, append([]byte{0x65}, big[:10]...)}},
		{"short NAL inside FU-A", append(append([][]byte{stapA, fuA(0x65, big[:30], 12)[0]}, aud), fuA(0x65, big[:30], 12)[1:]...), [][]byte{sps, pps, append([]byte{0x65}, big[:30]...)}},
		{"large FU-A", append([][]byte{stapA}, fuA(0x65, big, 1400)...), [][]byte{sps, pps, idr}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReceiver(media.Track{Codec: media.H264, ClockRate: 90000, SPS: sps, PPS: pps}, 0, ReceiverOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var units []media.Unit
			for i, p := range c.payloads {
				pkt := rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(100 + i), Timestamp: 9000, Marker: i == len(c.payloads)-1}, Payload: p}
				units = append(units, r.HandleRTP(&pkt, time.Unix(5, 0))...)
			}
			units = append(units, r.Flush()...)
			if len(units) != 1 {
				t.Fatalf("%d units; %+v", len(units), r.Stats())
			}
			if !equalNALUs(units[0].NALUs, c.want) {
				t.Fatalf("NAL units differ: got %d, want %d", len(units[0].NALUs), len(c.want))
			}
		})
	}
}
