package rtpdec

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pion/rtp"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/testutil"
)

// aacClip returns the raw frames and config of one second of ffmpeg's AAC.
func aacClip(t testing.TB) ([][]byte, codec.AACConfig) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.aac")
	if b, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "1",
		"-c:a", "aac", "-b:a", "256k", "-f", "adts", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	data, _ := os.ReadFile(path)
	frames, cfg, err := codec.SplitADTS(data)
	if err != nil || len(frames) < 40 {
		t.Fatalf("%d frames: %v", len(frames), err)
	}
	return frames, cfg
}

// TestAACRoundTrip packetizes ffmpeg's AAC frames as AAC-hbr, whole and
// fragmented over small packets, and receives them back. // MED-1
func TestAACRoundTrip(t *testing.T) {
	frames, cfg := aacClip(t)
	track := media.Track{Codec: media.AAC, ClockRate: cfg.SampleRate, SampleRate: cfg.SampleRate, Channels: cfg.Channels, AACConfig: cfg.Marshal()}
	units := make([]media.Unit, len(frames))
	for i, f := range frames {
		units[i] = media.Unit{PTS: int64(i) * 1024, Data: f}
	}
	for _, mtu := range []int{1400, 100} {
		pkts := packetize(t, track, units, mtu, func(p *Packetizer) { p.SetTimestampOffset(0) })
		if mtu == 100 && len(pkts) < 2*len(frames) {
			t.Fatalf("MTU 100 gave %d packets for %d frames: no fragmentation", len(pkts), len(frames))
		}
		got, r := receive(t, track, ReceiverOptions{}, pkts)
		if len(got) != len(frames) {
			t.Fatalf("MTU %d: %d frames, want %d; %+v", mtu, len(got), len(frames), r.Stats())
		}
		for i, u := range got {
			if !bytes.Equal(u.Data, frames[i]) || u.PTS != int64(i)*1024 || !u.Key {
				t.Fatalf("MTU %d: frame %d differs (pts %d)", mtu, i, u.PTS)
			}
		}
		// Lose one fragment: that frame, and only it, is gone.
		if mtu == 100 {
			got, r := receive(t, track, ReceiverOptions{}, append(append([]*rtp.Packet(nil), pkts[:11]...), pkts[12:]...))
			if len(got) != len(frames)-1 || r.Stats().Lost != 1 {
				t.Errorf("after one lost fragment: %d frames of %d; %+v", len(got), len(frames), r.Stats())
			}
		}
	}
}

// TestAACSeveralAUsPerPacket reads a packet with three AU headers, as
// cameras and ffmpeg send at low bitrates.
func TestAACSeveralAUsPerPacket(t *testing.T) {
	track := media.Track{Codec: media.AAC, ClockRate: 16000, SampleRate: 16000, Channels: 1}
	payload := []byte{0, 48, 0, 3 << 3, 0, 2 << 3, 0, 1 << 3, 1, 2, 3, 4, 5, 6}
	r, _ := NewReceiver(track, 0, ReceiverOptions{ReorderDelay: 1})
	var units []media.Unit
	units = append(units, r.HandleRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: 7, Timestamp: 1000, Marker: true}, Payload: payload}, testNow)...)
	units = append(units, r.Flush()...)
	want := [][]byte{{1, 2, 3}, {4, 5}, {6}}
	if len(units) != 3 {
		t.Fatalf("%d units", len(units))
	}
	for i, u := range units {
		if !bytes.Equal(u.Data, want[i]) || u.PTS != 1000+int64(i)*1024 {
			t.Errorf("AU %d: %v at %d", i, u.Data, u.PTS)
		}
	}
}

// TestG711RoundTrip sends a tone through our A-law and µ-law encoders,
// packetizer and receiver.
func TestG711RoundTrip(t *testing.T) {
	for _, c := range []media.Codec{media.PCMA, media.PCMU} {
		track := media.Track{Codec: c, ClockRate: 8000, SampleRate: 8000, Channels: 1}
		pcm := make([]int16, 160)
		var units []media.Unit
		for i := 0; i < 50; i++ {
			for j := range pcm {
				pcm[j] = int16(8000 * math.Sin(float64(i*160+j)*2*math.Pi*440/8000))
			}
			data := make([]byte, 160)
			if c == media.PCMA {
				codec.PCM16ToALaw(data, pcm)
			} else {
				codec.PCM16ToMuLaw(data, pcm)
			}
			units = append(units, media.Unit{PTS: int64(i) * 160, Data: data})
		}
		pkts := packetize(t, track, units, 1400, func(p *Packetizer) { p.SetTimestampOffset(0) })
		got, _ := receive(t, track, ReceiverOptions{}, pkts)
		if len(got) != len(units) {
			t.Fatalf("%s: %d units", c, len(got))
		}
		for i := range got {
			if !bytes.Equal(got[i].Data, units[i].Data) || got[i].PTS != units[i].PTS {
				t.Fatalf("%s: unit %d differs", c, i)
			}
		}
	}
}
