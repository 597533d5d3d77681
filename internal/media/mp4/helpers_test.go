package mp4

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"vigil/internal/media"
	"vigil/internal/testutil"
)

// clipDir holds the ffmpeg-made source clips, shared by the tests of one
// run (made on first use).
var (
	clipMu   sync.Mutex
	clipDir  string
	clipMade = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if clipDir != "" {
		os.RemoveAll(clipDir)
	}
	os.Exit(code)
}

// clip returns the path of a source clip made by ffmpeg with args (the
// output file name is appended).
func clip(t testing.TB, name string, args ...string) string {
	t.Helper()
	clipMu.Lock()
	defer clipMu.Unlock()
	if p, ok := clipMade[name]; ok {
		return p
	}
	if clipDir == "" {
		d, err := os.MkdirTemp("", "mp4clips")
		if err != nil {
			t.Fatal(err)
		}
		clipDir = d
	}
	p := filepath.Join(clipDir, name)
	ff := testutil.Tool(t, "ffmpeg")
	cmd := exec.Command(ff, append(append([]string{"-v", "error", "-y"}, args...), p)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	clipMade[name] = p
	return p
}

// Source clips: 1280x720 25 fps, 2 s, GOP 25.
func clipH264BF(t testing.TB) string {
	return clip(t, "h264bf.mp4", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=2",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "2", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-shortest")
}

func clipH264(t testing.TB) string {
	return clip(t, "h264.mp4", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=2",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "0", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "32k", "-shortest")
}

func clipH265(t testing.TB) string {
	return clip(t, "h265.mp4", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=2",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:bframes=2:log-level=error",
		"-pix_fmt", "yuv420p", "-tag:v", "hvc1")
}

func clipALaw(t testing.TB) string {
	return clip(t, "audio.alaw", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=2",
		"-c:a", "pcm_alaw", "-f", "alaw")
}

// demux reads an MP4 with ReadFile and returns its tracks and units,
// interleaved by decode time as a live source would deliver them.
func demux(t testing.TB, path string) ([]media.Track, []media.Unit) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("ReadFile %s: %v", path, err)
	}
	var units []media.Unit
	for ti, tr := range f.Tracks {
		for i := range tr.Samples {
			u, err := f.ReadUnit(bytes.NewReader(b), ti, i)
			if err != nil {
				t.Fatal(err)
			}
			units = append(units, u)
		}
	}
	tracks := f.MediaTracks()
	sort.SliceStable(units, func(i, j int) bool {
		a, b := units[i], units[j]
		return a.DTS*int64(tracks[b.Track].ClockRate) < b.DTS*int64(tracks[a.Track].ClockRate)
	})
	return tracks, units
}

// g711Units chops a raw G.711 file into 20 ms units.
func g711Units(t testing.TB, path string, track int) []media.Unit {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var us []media.Unit
	for off := 0; off < len(b); off += 160 {
		end := min(off+160, len(b))
		us = append(us, media.Unit{Track: track, PTS: int64(off), DTS: int64(off), Key: true, Data: b[off:end]})
	}
	return us
}

// probeStream is the part of ffprobe's stream report the tests check.
type probeStream struct {
	CodecName   string `json:"codec_name"`
	CodecType   string `json:"codec_type"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	NbReadFrame string `json:"nb_read_frames"`
	Duration    string `json:"duration"`
	SampleRate  string `json:"sample_rate"`
}

type probeResult struct {
	Streams []probeStream `json:"streams"`
	Packets []struct {
		StreamIndex int    `json:"stream_index"`
		PTS         *int64 `json:"pts"`
		DTS         *int64 `json:"dts"`
	} `json:"packets"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// probe runs ffprobe on path with the stream, packet and format report.
func probe(t testing.TB, path string) probeResult {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-count_frames",
		"-show_streams", "-show_packets", "-show_format", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probeResult
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe json: %v", err)
	}
	return p
}

// decodeClean asserts ffmpeg decodes path without a single error line.
func decodeClean(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decode %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// checkPackets asserts every stream's DTS grow strictly.
func checkPackets(t testing.TB, p probeResult) {
	t.Helper()
	last := map[int]int64{}
	for i, pk := range p.Packets {
		if pk.DTS == nil {
			t.Fatalf("packet %d of stream %d has no DTS", i, pk.StreamIndex)
		}
		if l, ok := last[pk.StreamIndex]; ok && *pk.DTS <= l {
			t.Fatalf("stream %d: DTS %d after %d", pk.StreamIndex, *pk.DTS, l)
		}
		last[pk.StreamIndex] = *pk.DTS
	}
}

func atof(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// countTrack counts units of track ti.
func countTrack(us []media.Unit, ti int) int {
	n := 0
	for _, u := range us {
		if u.Track == ti {
			n++
		}
	}
	return n
}
