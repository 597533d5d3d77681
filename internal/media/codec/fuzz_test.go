package codec

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// addEncoderSeeds adds the parameter sets of a fresh ffmpeg clip.
func addEncoderSeeds(f *testing.F, enc string, v Video) {
	stream, _ := encodeClip(f, enc, "1280x720", 1)
	for _, n := range SplitAnnexB(stream) {
		if IsParameterSet(v, n) {
			f.Add(n)
		}
	}
}

func FuzzParseH264SPS(f *testing.F) {
	for _, s := range h264SPSSeeds {
		f.Add(mustHex(s.hex))
	}
	addEncoderSeeds(f, "libx264", H264)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseH264SPS(b)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 {
			t.Fatalf("accepted %dx%d", s.Width, s.Height)
		}
		if _, err := H264ConfigRecord(b, []byte{0x68, 0xce}); err != nil {
			t.Fatalf("parsed SPS but no avcC: %v", err)
		}
		x := NewH264DTSExtractor()
		for i := int64(0); i < 4; i++ {
			if _, err := x.Extract([][]byte{b, {0x65, 0x88, 0x80}}, i*3600); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseH265SPS(f *testing.F) {
	for _, s := range h265Seeds {
		f.Add(mustHex(s.sps))
	}
	addEncoderSeeds(f, "libx265", H265)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseH265SPS(b)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.MaxNumReorderPics > 16 {
			t.Fatalf("accepted %+v", s)
		}
		if _, err := H265ConfigRecord(mustHex(h265Seeds[0].vps), b, mustHex(h265Seeds[0].pps)); err != nil {
			t.Fatalf("parsed SPS but no hvcC: %v", err)
		}
	})
}

func FuzzParseAACConfig(f *testing.F) {
	for _, s := range []string{"1190", "1210", "1588", "2b1188", "f8c620", "178001f408", "13b8"} {
		f.Add(mustHex(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseAACConfig(b)
		if err != nil {
			return
		}
		if c.SampleRate <= 0 || c.Channels > 8 {
			t.Fatalf("accepted %+v", c)
		}
		if c.ObjectType != AACSBR && c.ObjectType != AACPS {
			if back, err := ParseAACConfig(c.Marshal()); err != nil || back != c {
				t.Fatalf("round trip %+v → %+v %v", c, back, err)
			}
		}
		SplitADTS(b)
	})
}

func FuzzSplitAnnexB(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0})
	f.Add([]byte{0, 0, 1, 0x65, 0, 0, 3, 1, 0, 0, 0})
	stream, _ := encodeClip(f, "libx264", "64x64", 2)
	f.Add(stream)
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus := SplitAnnexB(b)
		for _, n := range nalus {
			if len(n) == 0 || n[len(n)-1] == 0 || bytes.Contains(n, []byte{0, 0, 1}) {
				t.Fatalf("bad unit %x", n)
			}
		}
		again := SplitAnnexB(JoinAnnexB(nalus))
		if len(again) != len(nalus) {
			t.Fatalf("round trip: %d units, then %d", len(nalus), len(again))
		}
		if avcc, err := SplitAVCC(JoinAVCC(nalus), 4); err != nil || len(avcc) != len(nalus) {
			t.Fatalf("AVCC round trip: %v", err)
		}
		SplitAVCC(b, 4)
		SplitAVCC(b, 2)
		for _, v := range []Video{H264, H265} {
			SplitAccessUnits(v, nalus)
			CleanAU(v, append([][]byte(nil), nalus...))
		}
	})
}
