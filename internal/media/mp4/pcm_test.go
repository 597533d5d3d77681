package mp4

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/testutil"
)

// TestG711Conversions: ffmpeg decodes our LPCM and FLAC tracks to exactly
// the PCM that G.711 expands to (both are lossless). MED-1 MED-2
func TestG711Conversions(t *testing.T) {
	tracks, units := g711Source(t)
	var alaw []byte
	for _, u := range units {
		if u.Track == 1 {
			alaw = append(alaw, u.Data...)
		}
	}
	want := make([]int16, len(alaw))
	codec.ALawToPCM16(want, alaw)

	for _, tt := range []struct {
		name    string
		convert func([]media.Track, []media.Unit) ([]media.Track, []media.Unit, error)
		codec   string
	}{
		{"lpcm", G711ToLPCM, "pcm_s16le"},
		{"flac", G711ToFLAC, "flac"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct, cu, err := tt.convert(tracks, units)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := writeFragmented(t, ct, cu, FragmentOptions{})
			p := filepath.Join(t.TempDir(), "a.mp4")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			checkProbe(t, p, source{tt.name, ct, cu, []string{"h264", tt.codec}}, 0)
			out, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-i", p, "-map", "0:a", "-f", "s16le", "-").Output()
			if err != nil {
				t.Fatalf("ffmpeg: %v", err)
			}
			got := make([]int16, len(out)/2)
			for i := range got {
				got[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
			}
			if len(got) != len(want) {
				t.Fatalf("decoded %d samples, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("sample %d = %d, want %d", i, got[i], want[i])
				}
			}
			f, err := ReadFile(bytes.NewReader(b), int64(len(b)))
			if err != nil || f.Tracks[1].Codec != ct[1].Codec {
				t.Fatalf("read back: %v %+v", err, f)
			}
		})
	}
}

// TestFLACNumber checks the UTF-8-like frame numbers against known codes.
func TestFLACNumber(t *testing.T) {
	for _, tt := range []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0}},
		{0x7f, []byte{0x7f}},
		{0x80, []byte{0xc2, 0x80}},
		{0x7ff, []byte{0xdf, 0xbf}},
		{0x800, []byte{0xe0, 0xa0, 0x80}},
		{0xffff, []byte{0xef, 0xbf, 0xbf}},
		{0x10000, []byte{0xf0, 0x90, 0x80, 0x80}},
		{1<<36 - 1, []byte{0xfe, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf}},
	} {
		if got := appendFLACNumber(nil, tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("%#x: % x, want % x", tt.v, got, tt.want)
		}
	}
}
