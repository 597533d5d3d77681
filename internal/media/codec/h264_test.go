package codec

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"vigil/internal/testutil"
)

// TestParseH264SPSAgainstFFprobe checks the parsed picture size, profile and
// level of SPSs that libx264 writes against what ffprobe reads. // MED-1
func TestParseH264SPSAgainstFFprobe(t *testing.T) {
	cases := []struct {
		name, size string
		args       []string
		profileIDC uint8
		chroma     int
		depth      int
	}{
		{"720p high", "1280x720", nil, 100, 1, 8},
		{"1080p high cropped", "1920x1080", nil, 100, 1, 8},
		{"CIF baseline", "352x288", []string{"-profile:v", "baseline"}, 66, 1, 8},
		{"main odd mbs", "642x362", []string{"-profile:v", "main"}, 77, 1, 8},
		{"444 odd size", "641x361", []string{"-pix_fmt", "yuv444p"}, 244, 3, 8},
		{"high10", "640x360", []string{"-pix_fmt", "yuv420p10le"}, 110, 1, 10},
		{"interlaced PAL", "720x576", []string{"-flags", "+ildct+ilme"}, 100, 1, 8},
		{"scaling lists", "320x240", []string{"-x264-params", "cqm=jvt"}, 100, 1, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream, path := encodeClip(t, "libx264", c.size, 2, c.args...)
			p := ffprobe(t, path)
			s, err := ParseH264SPS(firstNALU(t, H264, stream, H264NALSPS))
			if err != nil {
				t.Fatal(err)
			}
			if s.Width != p.Width || s.Height != p.Height {
				t.Errorf("size %dx%d, ffprobe %dx%d", s.Width, s.Height, p.Width, p.Height)
			}
			if int(s.LevelIDC) != p.Level || s.ProfileIDC != c.profileIDC {
				t.Errorf("profile %d level %d, want profile %d (ffprobe %q) level %d", s.ProfileIDC, s.LevelIDC, c.profileIDC, p.Profile, p.Level)
			}
			if s.ChromaFormatIDC != c.chroma || s.BitDepthLuma != c.depth || s.BitDepthChroma != c.depth {
				t.Errorf("chroma %d depth %d/%d, want %d/%d", s.ChromaFormatIDC, s.BitDepthLuma, s.BitDepthChroma, c.chroma, c.depth)
			}
			if s.FrameRate != 25 {
				t.Errorf("frame rate %v, want 25", s.FrameRate)
			}
			if !s.BitstreamRestriction {
				t.Errorf("x264 writes bitstream_restriction; not parsed")
			}
		})
	}
}

// TestH264ConfigRecordMatchesFFmpeg compares our avcC with the one ffmpeg's
// MP4 muxer writes for the same stream.
func TestH264ConfigRecordMatchesFFmpeg(t *testing.T) {
	for _, args := range [][]string{nil, {"-profile:v", "baseline"}, {"-pix_fmt", "yuv420p10le"}} {
		stream, path := encodeClip(t, "libx264", "320x240", 2, args...)
		got, err := H264ConfigRecord(firstNALU(t, H264, stream, H264NALSPS), firstNALU(t, H264, stream, H264NALPPS))
		if err != nil {
			t.Fatal(err)
		}
		want := mp4Box(t, path, "avcC")
		// ffmpeg 5.1 omits the high-profile extension bytes; the rest must match.
		if !bytes.Equal(got[:len(want)], want) {
			t.Errorf("%v: avcC\n got %x\nwant %x", args, got, want)
		}
	}
}

// mp4Box remuxes an elementary stream into MP4 with ffmpeg and returns the
// payload of the first box of the given type.
func mp4Box(t *testing.T, path, typ string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "x.mp4")
	if b, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-r", "25", "-i", path, "-c", "copy", "-tag:v", "hvc1", out).CombinedOutput(); err != nil {
		// -tag:v hvc1 is refused for H.264; retry without it.
		if b2, err2 := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-y", "-r", "25", "-i", path, "-c", "copy", out).CombinedOutput(); err2 != nil {
			t.Fatalf("ffmpeg mp4: %v %s %s", err2, b, b2)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(typ))
	if i < 4 {
		t.Fatalf("no %s box", typ)
	}
	size := int(data[i-4])<<24 | int(data[i-3])<<16 | int(data[i-2])<<8 | int(data[i-1])
	return data[i+4 : i-4+size]
}

// Real SPSs written by libx264 (ffmpeg 5.1), committed so that the
// parser's expectations and the fuzz seeds do not depend on the encoder.
var h264SPSSeeds = []struct {
	hex                  string
	w, h, profile, level int
}{
	{"67640028acd940780227e5c044000003000400000300c83c60c658", 1920, 1080, 100, 40},
	{"6742c00dd9016096c044000003000400000300c83c50a920", 352, 288, 66, 13},
	{"674d401eeca05217f1126022000003000200000300641e2c5b2c", 642, 362, 77, 30},
}

func TestParseH264SPSCommitted(t *testing.T) {
	for _, c := range h264SPSSeeds {
		b, _ := hex.DecodeString(c.hex)
		s, err := ParseH264SPS(b)
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		if s.Width != c.w || s.Height != c.h || int(s.ProfileIDC) != c.profile || int(s.LevelIDC) != c.level {
			t.Errorf("%s: %dx%d profile %d level %d, want %dx%d %d %d", c.hex, s.Width, s.Height, s.ProfileIDC, s.LevelIDC, c.w, c.h, c.profile, c.level)
		}
	}
}

func TestParseH264SPSErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {0x67}, {0x68, 1, 2, 3, 4}, {0x67, 0x64, 0, 0x1f}, {0x67, 0x64, 0, 0x1f, 0, 0, 0, 0, 0, 0}} {
		if _, err := ParseH264SPS(b); err == nil {
			t.Errorf("ParseH264SPS(%x) accepted bad input", b)
		}
	}
}
