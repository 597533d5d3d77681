package codec

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vigil/internal/testutil"
)

// packetTimes returns each packet's (pts, dts) in 90 kHz ticks, in decode
// order, as ffmpeg's MP4 muxer assigns them to a 25 fps elementary stream.
func packetTimes(t *testing.T, path string) [][2]int64 {
	t.Helper()
	mp4 := filepath.Join(t.TempDir(), "x.mp4")
	if b, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-r", "25", "-i", path, "-c", "copy", mp4).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-show_entries", "stream=time_base:packet=pts,dts", "-of", "csv=p=0", mp4).Output()
	if err != nil {
		t.Fatal(err)
	}
	var r [][2]int64
	den := int64(0)
	for _, line := range strings.Fields(string(out)) {
		if strings.HasPrefix(line, "1/") {
			den, _ = strconv.ParseInt(line[2:], 10, 64)
			continue
		}
		f := strings.Split(line, ",")
		p, _ := strconv.ParseInt(f[0], 10, 64)
		d, _ := strconv.ParseInt(f[1], 10, 64)
		r = append(r, [2]int64{p, d})
	}
	if den == 0 {
		t.Fatalf("no time base in %s", out)
	}
	for i := range r {
		r[i][0], r[i][1] = r[i][0]*90000/den, r[i][1]*90000/den
	}
	return r
}

type dtsExtractor interface {
	Extract([][]byte, int64) (int64, error)
}

// TestDTSExtractors feeds real B-frame and P-only streams to the extractors
// and checks DTS ≤ PTS, monotonicity, and that the decode times are a shift
// of the presentation times as ffmpeg's muxer makes them. // MED-2
func TestDTSExtractors(t *testing.T) {
	cases := []struct {
		name, enc string
		args      []string
		newX      func() dtsExtractor
		adaptive  bool
	}{
		{"h264 bframes", "libx264", []string{"-bf", "3", "-g", "30"}, func() dtsExtractor { return NewH264DTSExtractor() }, false},
		{"h264 no bframes", "libx264", []string{"-bf", "0"}, func() dtsExtractor { return NewH264DTSExtractor() }, false},
		{"h264 bframes unsignalled", "libx264", []string{"-bf", "2", "-g", "30"}, nil, true},
		{"h265 bframes", "libx265", []string{"-bf", "4", "-g", "30"}, func() dtsExtractor { return NewH265DTSExtractor() }, false},
		{"h265 no bframes", "libx265", []string{"-bf", "0"}, func() dtsExtractor { return NewH265DTSExtractor() }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream, path := encodeClip(t, c.enc, "320x240", 75, c.args...)
			v := H264
			if c.enc == "libx265" {
				v = H265
			}
			aus := SplitAccessUnits(v, SplitAnnexB(stream))
			times := packetTimes(t, path)
			if len(aus) != len(times) || len(aus) != 75 {
				t.Fatalf("%d access units, ffprobe counts %d packets", len(aus), len(times))
			}
			var x dtsExtractor
			if c.adaptive {
				h := NewH264DTSExtractor()
				if err := h.SetSPS(firstNALU(t, H264, stream, H264NALSPS)); err != nil {
					t.Fatal(err)
				}
				h.sps.BitstreamRestriction = false
				h.adapt, h.d.reorder = true, 0 // as if the SPS had no VUI bitstream_restriction
				x = dtsFunc(func(au [][]byte, pts int64) (int64, error) {
					var rest [][]byte
					for _, n := range au {
						if H264NALType(n) != H264NALSPS {
							rest = append(rest, n)
						}
					}
					return h.Extract(rest, pts)
				})
			} else {
				x = c.newX()
			}
			prev := int64(-1 << 62)
			offset := int64(0)
			for i, au := range aus {
				pts := times[i][0] + 1_000_000 // not at zero, as RTP time never is
				dts, err := x.Extract(au, pts)
				if err != nil {
					t.Fatalf("AU %d: %v", i, err)
				}
				if dts > pts || dts < prev {
					t.Fatalf("AU %d: dts %d pts %d prev dts %d", i, dts, pts, prev)
				}
				if !c.adaptive && dts == prev {
					t.Errorf("AU %d: repeated dts %d", i, dts)
				}
				if i == 0 {
					offset = (times[0][1] + 1_000_000) - dts
				}
				if want := times[i][1] + 1_000_000 - offset; !c.adaptive && dts != want {
					t.Errorf("AU %d: dts %d, ffmpeg's shifted %d", i, dts, want)
				}
				prev = dts
			}
		})
	}
}

type dtsFunc func([][]byte, int64) (int64, error)

func (f dtsFunc) Extract(au [][]byte, pts int64) (int64, error) { return f(au, pts) }

func TestDTSRejectsTooDeepReordering(t *testing.T) {
	d := dtsReorder{reorder: 0, frameDur: 3600}
	if _, err := d.next(7200); err != nil {
		t.Fatal(err)
	}
	if _, err := d.next(3600); err == nil {
		t.Fatal("a PTS before the previous DTS was accepted")
	}
	if dts, err := d.next(10800); err != nil || dts != 10800 {
		t.Fatalf("after an error: %d %v", dts, err)
	}
}
