package rtpdec

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"vigil/internal/media"
)

// BenchmarkReceiverH264 feeds a 1280x720 3 Mbit/s H.264 stream, packetised
// at 1400 bytes and looped with continuous sequence numbers and
// timestamps, through a Receiver in order, as TCP delivers it: one op per
// packet. The packet is the caller's and reused, as a session's is. Issue 3.
func BenchmarkReceiverH264(b *testing.B) {
	cl := encodeVideo(b, media.H264, "1280x720", 50, "-b:v", "3M", "-g", "50", "-bf", "0")
	pkts := packetize(b, cl.track, cl.units(), 1400, nil)
	span := uint32(cl.pts[len(cl.pts)-1] + 3600)
	r, err := NewReceiver(cl.track, 0, ReceiverOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var bytes int
	for _, p := range pkts {
		bytes += len(p.Payload)
	}
	b.SetBytes(int64(bytes / len(pkts)))
	b.ReportAllocs()
	now := testNow
	units := 0
	var pkt rtp.Packet
	payload := make([]byte, 0, 1500)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		loop, k := i/len(pkts), i%len(pkts)
		src := pkts[k]
		pkt.Header = src.Header
		pkt.SequenceNumber = uint16(i)
		pkt.Timestamp = src.Timestamp + uint32(loop)*span
		pkt.Payload = append(payload[:0], src.Payload...)
		now = now.Add(time.Millisecond)
		units += len(r.HandleRTP(&pkt, now))
	}
	b.StopTimer()
	if b.N > 2*len(pkts) && units == 0 {
		b.Fatal("no units")
	}
	if s := r.Stats(); s.Lost != 0 || s.Malformed != 0 {
		b.Fatalf("stats %+v", s)
	}
}
