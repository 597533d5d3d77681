package mp4

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"vigil/internal/media"
	"vigil/internal/testutil"
)

// perTrack splits live-ordered units into per-track lists.
func perTrack(n int, units []media.Unit) [][]media.Unit {
	out := make([][]media.Unit, n)
	for _, u := range units {
		out[u.Track] = append(out[u.Track], u)
	}
	return out
}

// TestWriteMP4Peers exports every source clip whole as a faststart MP4 and
// has ffprobe and ffmpeg judge it. EXP-1
func TestWriteMP4Peers(t *testing.T) {
	for _, src := range sources(t) {
		t.Run(src.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMP4(&buf, src.tracks, perTrack(len(src.tracks), src.units), MP4Options{UserData: map[string]string{"case": "42"}}); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			top, err := parseBoxes(b)
			if err != nil || len(top) != 3 || top[0].typ != "ftyp" || top[1].typ != "moov" || top[2].typ != "mdat" {
				t.Fatalf("top-level boxes %v (%v), want ftyp, moov, mdat", top, err)
			}
			p := filepath.Join(t.TempDir(), "export.mp4")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			// The edit list starts every track at the first picture: audio
			// before it (here up to 80 ms of 21 ms frames) is hidden.
			checkProbe(t, p, src, 4)
			pr := probe(t, p)
			if d := atof(t, pr.Streams[0].Duration); math.Abs(d-2.0) > 0.04 {
				t.Errorf("video duration %.3f s, want 2.0", d)
			}
			f, err := ReadFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if f.Fragmented || f.UserData["case"] != "42" {
				t.Fatalf("Fragmented %v, UserData %v", f.Fragmented, f.UserData)
			}
			compareRead(t, f, b, src)
		})
	}
}

// TestWriteMP4EditList: an export that starts mid-GOP stores the pre-roll
// from the keyframe before and hides it with an edit list; ffprobe reports
// the requested duration and the first picture shown is the one at the
// requested time. EXP-1
func TestWriteMP4EditList(t *testing.T) {
	srcPath := clipH264BF(t)
	tracks, units := demux(t, srcPath)
	const fps = 25
	const startFrame = 33 // 1.32 s: keyframes are at 0 and 25
	clock := int64(tracks[0].ClockRate)
	// Presentation time of frame n, from the first picture.
	var minPTS int64 = math.MaxInt64
	for _, u := range units {
		if u.Track == 0 {
			minPTS = min(minPTS, u.PTS)
		}
	}
	keyAt := minPTS + 25*clock/fps
	var cut []media.Unit
	for _, u := range units {
		sec := float64(u.DTS) / float64(tracks[u.Track].ClockRate)
		if u.Track == 0 && u.DTS >= keyAt-2*clock/fps || u.Track == 1 && sec >= 1.0 {
			cut = append(cut, u)
		}
	}
	per := perTrack(2, cut)
	// Drop leading non-key video (B-frames decoded before the keyframe).
	for len(per[0]) > 0 && !per[0][0].Key {
		per[0] = per[0][1:]
	}
	firstPTS := per[0][0].PTS
	for _, u := range per[0] {
		firstPTS = min(firstPTS, u.PTS)
	}
	startPTS := minPTS + startFrame*clock/fps
	start := media.Duration(startPTS-firstPTS, int(clock))

	var buf bytes.Buffer
	if err := WriteMP4(&buf, tracks, per, MP4Options{Start: start}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "cut.mp4")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	decodeClean(t, p)
	pr := probe(t, p)
	want := 2.0 - float64(startFrame)/fps
	if d := atof(t, pr.Format.Duration); math.Abs(d-want) > 1.0/fps {
		t.Errorf("format duration %.3f s, want %.3f ± one frame", d, want)
	}
	if d := atof(t, pr.Streams[0].Duration); math.Abs(d-want) > 1.0/fps {
		t.Errorf("video duration %.3f s, want %.3f ± one frame", d, want)
	}
	if n, w := atoi(pr.Streams[0].NbReadFrame), 50-startFrame; n != w {
		t.Errorf("%d frames shown, want %d", n, w)
	}

	// The first picture shown is the source's frame at the start.
	ff := testutil.Tool(t, "ffmpeg")
	frame := func(args ...string) []byte {
		out, err := exec.Command(ff, append(append([]string{"-v", "error"}, args...), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-")...).Output()
		if err != nil || len(out) != 1280*720 {
			t.Fatalf("ffmpeg frame %v: %v (%d bytes)", args, err, len(out))
		}
		return out
	}
	got := frame("-i", p)
	wantFrame := frame("-i", srcPath, "-vf", "select=eq(n\\,33)")
	if !bytes.Equal(got, wantFrame) {
		t.Errorf("first shown picture differs from source frame %d", startFrame)
	}
	if bytes.Equal(got, frame("-i", srcPath, "-vf", "select=eq(n\\,32)")) {
		t.Errorf("test is blind: frames 32 and 33 are identical")
	}
}
