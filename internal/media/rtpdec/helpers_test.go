package rtpdec

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/testutil"
)

// clip is a real ffmpeg-made video stream cut into access units with their
// presentation times (90 kHz, from ffmpeg's MP4 muxer), in decode order.
type clip struct {
	path  string
	codec media.Codec
	aus   [][][]byte
	pts   []int64
	track media.Track
}

func encodeVideo(t testing.TB, c media.Codec, size string, frames int, extra ...string) clip {
	t.Helper()
	ffmpeg := testutil.Tool(t, "ffmpeg")
	dir := t.TempDir()
	enc, format, v := "libx264", "h264", codec.H264
	if c == media.H265 {
		enc, format, v = "libx265", "hevc", codec.H265
		extra = append(extra, "-x265-params", "log-level=error")
	}
	path := filepath.Join(dir, "clip."+format)
	args := append([]string{"-v", "error", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=25",
		"-frames:v", strconv.Itoa(frames), "-c:v", enc}, extra...)
	if b, err := exec.Command(ffmpeg, append(args, "-f", format, path)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	data, _ := os.ReadFile(path)
	cl := clip{path: path, codec: c, aus: codec.SplitAccessUnits(v, codec.SplitAnnexB(data))}
	for i := range cl.aus {
		cl.aus[i] = codec.CleanAU(v, cl.aus[i])
	}
	// PTS from ffmpeg's MP4 muxer.
	mp4 := filepath.Join(dir, "clip.mp4")
	if b, err := exec.Command(ffmpeg, "-v", "error", "-r", "25", "-i", path, "-c", "copy", mp4).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-show_entries", "stream=time_base:packet=pts", "-of", "csv=p=0", mp4).Output()
	if err != nil {
		t.Fatal(err)
	}
	den := int64(0)
	var pts []int64
	for _, line := range strings.Fields(string(out)) {
		if strings.HasPrefix(line, "1/") {
			den, _ = strconv.ParseInt(line[2:], 10, 64)
			continue
		}
		p, _ := strconv.ParseInt(strings.TrimSuffix(line, ","), 10, 64)
		pts = append(pts, p)
	}
	if den == 0 || len(pts) != len(cl.aus) {
		t.Fatalf("%d access units, %d packets, time base 1/%d", len(cl.aus), len(pts), den)
	}
	for _, p := range pts {
		cl.pts = append(cl.pts, p*90000/den)
	}
	cl.track = media.Track{Codec: c, ClockRate: 90000}
	// Times relative to the first unit, as the receiver's are to its first packet.
	for i := len(cl.pts) - 1; i >= 0; i-- {
		cl.pts[i] -= cl.pts[0]
	}
	return cl
}

// packetize runs the whole clip through a packetizer and marshals and
// unmarshals each packet, as the network would.
func packetize(t testing.TB, track media.Track, units []media.Unit, mtu int, setup func(*Packetizer)) []*rtp.Packet {
	t.Helper()
	pk, err := NewPacketizer(track, 96, 0x1234, mtu)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(pk)
	}
	var out []*rtp.Packet
	for _, u := range units {
		pkts, err := pk.Packetize(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			if p.MarshalSize() > mtu {
				t.Fatalf("packet of %d bytes exceeds MTU %d", p.MarshalSize(), mtu)
			}
			b, _ := p.Marshal()
			var q rtp.Packet
			if err := q.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			out = append(out, &q)
		}
	}
	return out
}

func (c clip) units() []media.Unit {
	us := make([]media.Unit, len(c.aus))
	for i, au := range c.aus {
		us[i] = media.Unit{PTS: c.pts[i], NALUs: au}
	}
	return us
}

var testNow = time.Unix(1_700_000_000, 0)

// receive feeds packets to a new receiver, 5 ms apart, and collects units.
func receive(t testing.TB, track media.Track, opts ReceiverOptions, pkts []*rtp.Packet) ([]media.Unit, *Receiver) {
	t.Helper()
	r, err := NewReceiver(track, 3, opts)
	if err != nil {
		t.Fatal(err)
	}
	now := testNow
	var out []media.Unit
	for _, p := range pkts {
		now = now.Add(5 * time.Millisecond)
		out = append(out, r.HandleRTP(p, now)...)
	}
	return append(out, r.Flush()...), r
}

func equalNALUs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
