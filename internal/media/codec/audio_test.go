package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"vigil/internal/testutil"
)

func TestParseAACConfig(t *testing.T) {
	cases := []struct {
		hex  string
		want AACConfig
	}{
		{"1190", AACConfig{2, 48000, 2}},
		{"1210", AACConfig{2, 44100, 2}},
		{"1408", AACConfig{2, 16000, 1}},
		{"1588", AACConfig{2, 8000, 1}},
		{"2b118800", AACConfig{5, 48000, 2}},  // HE-AAC, explicit SBR: core 24 kHz, output 48 kHz
		{"f8c620", AACConfig{38, 48000, 1}},   // escaped object type (32+6)
		{"178001f408", AACConfig{2, 1000, 1}}, // explicit sampling frequency (index 15)
		{"13b8", AACConfig{2, 22050, 8}},      // channel configuration 7 = 7.1
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		got, err := ParseAACConfig(b)
		if err != nil || got != c.want {
			t.Errorf("ParseAACConfig(%s) = %+v, %v; want %+v", c.hex, got, err, c.want)
			continue
		}
		if c.want.ObjectType == AACSBR {
			continue // Marshal writes the plain form only
		}
		if back, err := ParseAACConfig(got.Marshal()); err != nil || back != c.want {
			t.Errorf("Marshal round trip of %s: %x → %+v %v", c.hex, got.Marshal(), back, err)
		}
	}
	for _, bad := range []string{"", "10", "0000", "17", "13f8", "16"} {
		b, _ := hex.DecodeString(bad)
		if _, err := ParseAACConfig(b); err == nil {
			t.Errorf("ParseAACConfig(%s) accepted bad input", bad)
		}
	}
}

// TestADTSAgainstFFmpeg splits ffmpeg's ADTS output, checks the config
// against ffprobe and against the AudioSpecificConfig ffmpeg puts in MP4,
// and rebuilds every header byte for byte.
func TestADTSAgainstFFmpeg(t *testing.T) {
	for _, c := range []struct{ rate, ch int }{{48000, 1}, {44100, 2}, {16000, 1}, {8000, 1}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.aac")
		args := []string{"-v", "error", "-f", "lavfi", "-i", "sine=f=440:r=" + strconv.Itoa(c.rate), "-t", "1", "-ac", strconv.Itoa(c.ch), "-c:a", "aac", "-f", "adts", path}
		if b, err := exec.Command(testutil.Tool(t, "ffmpeg"), args...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v %s", err, b)
		}
		data, _ := os.ReadFile(path)
		frames, cfg, err := SplitADTS(data)
		if err != nil {
			t.Fatal(err)
		}
		p := ffprobe(t, path)
		if strconv.Itoa(cfg.SampleRate) != p.SampleRate || cfg.Channels != p.Channels || cfg.ObjectType != AACLC {
			t.Errorf("config %+v, ffprobe rate %s channels %d", cfg, p.SampleRate, p.Channels)
		}
		if want := c.rate/1024 + 1; len(frames) < want {
			t.Errorf("%d frames in 1 s at %d Hz, want ≥ %d", len(frames), c.rate, want)
		}
		var rebuilt []byte
		for _, f := range frames {
			if rebuilt, err = AppendADTS(rebuilt, cfg, f); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(rebuilt, data) {
			t.Errorf("rebuilt ADTS stream differs from ffmpeg's")
		}
		mp4 := filepath.Join(dir, "x.mp4")
		if b, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-i", path, "-c", "copy", mp4).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v %s", err, b)
		}
		esds, _ := os.ReadFile(mp4)
		asc := cfg.Marshal()
		if !bytes.Contains(esds, append([]byte{0x05, byte(len(asc))}, asc...)) && !bytes.Contains(esds, append([]byte{0x05, 0x80, 0x80, 0x80, byte(len(asc))}, asc...)) {
			t.Errorf("ffmpeg's esds does not carry our AudioSpecificConfig %x", asc)
		}
	}
	if _, err := ParseADTS([]byte{0xff, 0xf1, 0x50, 0x80, 0x00, 0x1f, 0xfc}); err == nil {
		t.Error("frame length 0 accepted")
	}
}

// TestG711AgainstFFmpeg decodes every A-law and µ-law code with ffmpeg and
// with us, and encodes a sweep of samples with both. // MED-3
func TestG711AgainstFFmpeg(t *testing.T) {
	ffmpeg := testutil.Tool(t, "ffmpeg")
	dir := t.TempDir()
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	pcm := make([]int16, 0, 65536)
	for v := -32768; v < 32768; v++ {
		pcm = append(pcm, int16(v))
	}
	pcmBytes := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(pcmBytes[2*i:], uint16(s))
	}
	run := func(args ...string) []byte {
		out := filepath.Join(dir, "out")
		args = append([]string{"-v", "error", "-y"}, append(args, out)...)
		if b, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v %s", args, err, b)
		}
		b, _ := os.ReadFile(out)
		return b
	}
	in := filepath.Join(dir, "in")
	os.WriteFile(in, codes, 0o600)
	raw := filepath.Join(dir, "pcm")
	os.WriteFile(raw, pcmBytes, 0o600)
	for _, law := range []struct {
		name   string
		decode func([]int16, []byte)
		encode func([]byte, []int16)
	}{{"alaw", ALawToPCM16, PCM16ToALaw}, {"mulaw", MuLawToPCM16, PCM16ToMuLaw}} {
		want := run("-f", law.name, "-ar", "8000", "-ac", "1", "-i", in, "-f", "s16le")
		got := make([]int16, 256)
		law.decode(got, codes)
		for i := range got {
			if w := int16(binary.LittleEndian.Uint16(want[2*i:])); got[i] != w {
				t.Errorf("%s decode %#02x: %d, ffmpeg %d", law.name, i, got[i], w)
			}
		}
		wantEnc := run("-f", "s16le", "-ar", "8000", "-ac", "1", "-i", raw, "-f", law.name)
		gotEnc := make([]byte, len(pcm))
		law.encode(gotEnc, pcm)
		diff := 0
		for i := range gotEnc {
			if gotEnc[i] != wantEnc[i] {
				diff++
			}
		}
		if diff != 0 {
			t.Errorf("%s encode: %d of %d samples differ from ffmpeg", law.name, diff, len(pcm))
		}
	}
}
