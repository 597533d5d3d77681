package codec

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestParseH265SPSAgainstFFprobe checks the parsed picture size, profile and
// level of SPSs that libx265 writes against what ffprobe reads. // MED-1
func TestParseH265SPSAgainstFFprobe(t *testing.T) {
	cases := []struct {
		name, size string
		args       []string
		profileIDC uint8
		chroma     int
		depth      int
	}{
		{"720p main", "1280x720", nil, 1, 1, 8},
		{"1080p main cropped", "1920x1080", nil, 1, 1, 8},
		{"CIF main", "352x288", nil, 1, 1, 8},
		{"odd ctus", "642x362", nil, 1, 1, 8},
		{"main10", "640x360", []string{"-pix_fmt", "yuv420p10le"}, 2, 1, 10},
		{"rext 444 odd", "641x361", []string{"-pix_fmt", "yuv444p"}, 4, 3, 8},
		{"scaling lists", "320x240", []string{"-x265-params", "scaling-list=default"}, 1, 1, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream, path := encodeClip(t, "libx265", c.size, 2, c.args...)
			p := ffprobe(t, path)
			s, err := ParseH265SPS(firstNALU(t, H265, stream, H265NALSPS))
			if err != nil {
				t.Fatal(err)
			}
			if s.Width != p.Width || s.Height != p.Height {
				t.Errorf("size %dx%d, ffprobe %dx%d", s.Width, s.Height, p.Width, p.Height)
			}
			if int(s.GeneralLevelIDC) != p.Level || s.GeneralProfileIDC != c.profileIDC {
				t.Errorf("profile %d level %d, want profile %d (ffprobe %q) level %d", s.GeneralProfileIDC, s.GeneralLevelIDC, c.profileIDC, p.Profile, p.Level)
			}
			if s.ChromaFormatIDC != c.chroma || s.BitDepthLuma != c.depth || s.BitDepthChroma != c.depth {
				t.Errorf("chroma %d depth %d/%d, want %d/%d", s.ChromaFormatIDC, s.BitDepthLuma, s.BitDepthChroma, c.chroma, c.depth)
			}
			if s.FrameRate != 25 {
				t.Errorf("frame rate %v, want 25", s.FrameRate)
			}
		})
	}
}

// TestH265ConfigRecordMatchesFFmpeg compares our hvcC with the one ffmpeg's
// MP4 muxer writes for the same stream: the header fields, and the VPS, SPS
// and PPS arrays.
func TestH265ConfigRecordMatchesFFmpeg(t *testing.T) {
	for _, args := range [][]string{nil, {"-pix_fmt", "yuv420p10le"}, {"-pix_fmt", "yuv444p"}} {
		stream, path := encodeClip(t, "libx265", "320x240", 2, args...)
		got, err := H265ConfigRecord(firstNALU(t, H265, stream, H265NALVPS), firstNALU(t, H265, stream, H265NALSPS), firstNALU(t, H265, stream, H265NALPPS))
		if err != nil {
			t.Fatal(err)
		}
		want := mp4Box(t, path, "hvcC")
		// Bytes 13..14 hold min_spatial_segmentation_idc and parallelismType,
		// which ffmpeg derives from the VUI and PPS; we write 0 ("unknown").
		g, w := append([]byte(nil), got[:22]...), append([]byte(nil), want[:22]...)
		g[13], g[14], w[13], w[14] = 0, 0, 0, 0
		if !bytes.Equal(g, w) {
			t.Errorf("%v: hvcC header\n got %x\nwant %x", args, g, w)
		}
		// ffmpeg may add an SEI array after ours; the first three must match.
		if !bytes.Equal(want[23:len(got)], got[23:]) {
			t.Errorf("%v: hvcC arrays\n got %x\nwant %x", args, got[23:], want[23:])
		}
	}
}

// Real VPS/SPS/PPS written by libx265 (ffmpeg 5.1): 1920x1080 and 642x362.
var h265Seeds = []struct {
	vps, sps, pps string
	w, h          int
	level         uint8
}{
	{"40010c01ffff016000000300900000030000030078959809",
		"420101016000000300900000030000030078a003c08010e596566924caf0168080000003008000000c84",
		"4401c172b46240", 1920, 1080, 120},
	{"40010c01ffff01600000030090000003000003003f959809",
		"42010101600000030090000003000003003fa005120171c9265959a4932bc05a020000030002000003003210",
		"4401c172b46240", 642, 362, 63},
}

func TestParseH265SPSCommitted(t *testing.T) {
	for _, c := range h265Seeds {
		vps, _ := hex.DecodeString(c.vps)
		sps, _ := hex.DecodeString(c.sps)
		pps, _ := hex.DecodeString(c.pps)
		s, err := ParseH265SPS(sps)
		if err != nil {
			t.Fatal(err)
		}
		if s.Width != c.w || s.Height != c.h || s.GeneralLevelIDC != c.level || s.GeneralProfileIDC != 1 || s.FrameRate != 25 {
			t.Errorf("%dx%d level %d profile %d fps %v, want %dx%d level %d Main 25", s.Width, s.Height, s.GeneralLevelIDC, s.GeneralProfileIDC, s.FrameRate, c.w, c.h, c.level)
		}
		rec, err := H265ConfigRecord(vps, sps, pps)
		if err != nil {
			t.Fatal(err)
		}
		if rec[0] != 1 || rec[21]&3 != 3 || rec[22] != 3 || rec[12] != c.level {
			t.Errorf("hvcC header %x", rec[:23])
		}
	}
}

func TestParseH265SPSErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {0x42}, {0x42, 0x01}, {0x40, 0x01, 0x0c}, {0x42, 0x01, 0x01, 0x01, 0x60}} {
		if _, err := ParseH265SPS(b); err == nil {
			t.Errorf("ParseH265SPS(%x) accepted bad input", b)
		}
	}
	if _, err := H265ConfigRecord(nil, nil, nil); err == nil {
		t.Error("H265ConfigRecord accepted nothing")
	}
}
