package codec

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vigil/internal/testutil"
)

// encodeClip has ffmpeg encode a few frames of testsrc2 at size with the
// given encoder ("libx264" or "libx265") and extra arguments, and returns
// the elementary stream and its path.
func encodeClip(t testing.TB, encoder, size string, frames int, extra ...string) ([]byte, string) {
	t.Helper()
	ffmpeg := testutil.Tool(t, "ffmpeg")
	format, ext := "h264", ".h264"
	if encoder == "libx265" {
		format, ext = "hevc", ".h265"
		extra = append(extra, "-x265-params", "log-level=error")
	}
	out := filepath.Join(t.TempDir(), "clip"+ext)
	args := []string{"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=25",
		"-frames:v", itoa(frames), "-c:v", encoder}
	args = append(args, extra...)
	args = append(args, "-f", format, out)
	if b, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data, out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// probed is what ffprobe -show_streams says of a stream.
type probed struct {
	Width, Height int
	Profile       string
	Level         int
	PixFmt        string `json:"pix_fmt"`
	SampleRate    string `json:"sample_rate"`
	Channels      int
	RFrameRate    string `json:"r_frame_rate"`
	HasBFrames    int    `json:"has_b_frames"`
}

func ffprobe(t testing.TB, path string) probed {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-of", "json", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r struct{ Streams []probed }
	if err := json.Unmarshal(out, &r); err != nil || len(r.Streams) == 0 {
		t.Fatalf("ffprobe %s: %v %s", path, err, out)
	}
	return r.Streams[0]
}

// firstNALU returns the first NAL unit of type typ in an Annex-B stream.
func firstNALU(t testing.TB, v Video, stream []byte, typ uint8) []byte {
	t.Helper()
	for _, n := range SplitAnnexB(stream) {
		if NALType(v, n) == typ {
			return n
		}
	}
	t.Fatalf("no NAL unit of type %d in the stream", typ)
	return nil
}
