package mp4

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vigil/internal/media"
	"vigil/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/vigil-*.mp4 from the ffmpeg-made seeds")

// writeFragmented writes units as fMP4 and returns the bytes and the
// fragments written.
func writeFragmented(t testing.TB, tracks []media.Track, units []media.Unit, opts FragmentOptions) ([]byte, []FragmentInfo) {
	t.Helper()
	var buf bytes.Buffer
	var frags []FragmentInfo
	opts.OnFragment = func(fi FragmentInfo) error { frags = append(frags, fi); return nil }
	fw, err := NewFragmentWriter(&buf, tracks, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := fw.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), frags
}

// TestGenerateTestdata keeps testdata/vigil-frag.mp4 (a seed of
// FuzzReadFile) made by this package's writer; -update rewrites it.
func TestGenerateTestdata(t *testing.T) {
	tracks, units := demux(t, "testdata/ffmpeg-plain.mp4")
	b, _ := writeFragmented(t, tracks, units, FragmentOptions{Duration: 400e6, UserData: map[string]string{"stream": "seed"}})
	var plain bytes.Buffer
	if err := WriteMP4(&plain, tracks, perTrack(len(tracks), units), MP4Options{Start: 300e6}); err != nil {
		t.Fatal(err)
	}
	for p, b := range map[string][]byte{"testdata/vigil-frag.mp4": b, "testdata/vigil-plain.mp4": plain.Bytes()} {
		if *update {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		old, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(old, b) {
			t.Fatalf("%s: writer output changed; check and run with -update", p)
		}
	}
}

// TestReadFileFFmpeg reads ffmpeg's fragmented and plain MP4 and compares
// the samples with what ffprobe counts. MED-1
func TestReadFileFFmpeg(t *testing.T) {
	for _, name := range []string{"ffmpeg-frag.mp4", "ffmpeg-plain.mp4", "ffmpeg-hevc.mp4"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join("testdata", name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := ReadFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if f.ValidSize != int64(len(b)) || f.TailErr != nil {
				t.Fatalf("ValidSize %d of %d: %v", f.ValidSize, len(b), f.TailErr)
			}
			if f.Fragmented != strings.Contains(name, "frag") {
				t.Fatalf("Fragmented = %v", f.Fragmented)
			}
			pr := probe(t, p)
			if len(pr.Streams) != len(f.Tracks) {
				t.Fatalf("%d tracks, ffprobe %d", len(f.Tracks), len(pr.Streams))
			}
			for i, tr := range f.Tracks {
				n := 0
				for _, pk := range pr.Packets {
					if pk.StreamIndex == i {
						n++
					}
				}
				if n != len(tr.Samples) {
					t.Errorf("track %d: %d samples, ffprobe %d packets", i, len(tr.Samples), n)
				}
				if tr.Codec.IsVideo() && (tr.Width != 64 || tr.Height != 48 || len(tr.SPS) == 0 || len(tr.PPS) == 0 || !tr.Samples[0].Key) {
					t.Errorf("track %d: %+v", i, tr.Track)
				}
				if tr.Codec == media.AAC && (len(tr.AACConfig) == 0 || tr.SampleRate != 8000) {
					t.Errorf("track %d: %+v", i, tr.Track)
				}
			}
		})
	}
}

// TestReadFileTornTail cuts a fragmented file at every kind of place and
// checks ValidSize falls back to the last complete fragment. RET-5
func TestReadFileTornTail(t *testing.T) {
	tracks, units := demux(t, clipH264(t))
	b, frags := writeFragmented(t, tracks, units, FragmentOptions{Duration: 500e6})
	if len(frags) < 3 {
		t.Fatalf("%d fragments", len(frags))
	}
	initEnd := frags[0].Offset
	var cuts []int64
	for _, fr := range frags {
		cuts = append(cuts, fr.Offset, fr.Offset+4, fr.Offset+20, fr.Offset+fr.Size/2, fr.Offset+fr.Size-1)
	}
	for _, cut := range cuts {
		f, err := ReadFile(bytes.NewReader(b[:cut]), cut)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		want, nfr := initEnd, 0
		for _, fr := range frags {
			if fr.Offset+fr.Size <= cut {
				want, nfr = fr.Offset+fr.Size, nfr+1
			}
		}
		if f.ValidSize != want || len(f.Fragments) != nfr {
			t.Fatalf("cut at %d: ValidSize %d (%d fragments), want %d (%d)", cut, f.ValidSize, len(f.Fragments), want, nfr)
		}
		if (cut != want) != (f.TailErr != nil) {
			t.Fatalf("cut at %d: TailErr %v", cut, f.TailErr)
		}
		for ti, tr := range f.Tracks {
			for _, s := range tr.Samples {
				if s.Offset+int64(s.Size) > want {
					t.Fatalf("cut at %d: track %d has a sample past ValidSize", cut, ti)
				}
			}
		}
	}
	if _, err := ReadFile(bytes.NewReader(b[:initEnd-1]), initEnd-1); err == nil {
		t.Fatal("a torn moov read without error")
	}
	// Truncated to ValidSize, ffmpeg decodes it cleanly.
	f, _ := ReadFile(bytes.NewReader(b[:frags[1].Offset+10]), frags[1].Offset+10)
	p := filepath.Join(t.TempDir(), "torn.mp4")
	if err := os.WriteFile(p, b[:f.ValidSize], 0o644); err != nil {
		t.Fatal(err)
	}
	decodeClean(t, p)
}

// FuzzReadFile: no input may panic the reader or make it read samples
// outside the file. Seeds: testdata/*.mp4 (ffmpeg's and ours).
func FuzzReadFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.mp4")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'v'})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ReadFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if file.ValidSize > int64(len(b)) {
			t.Fatalf("ValidSize %d > %d", file.ValidSize, len(b))
		}
		for ti, tr := range file.Tracks {
			for i, s := range tr.Samples {
				if s.Offset < 0 || s.Offset+int64(s.Size) > int64(len(b)) {
					t.Fatalf("track %d sample %d at %d+%d outside %d bytes", ti, i, s.Offset, s.Size, len(b))
				}
				if i < 4 {
					file.ReadUnit(bytes.NewReader(b), ti, i)
				}
			}
		}
	})
}

// TestFFmpegRemuxesOurFragments: ffmpeg copies our fMP4 into its own MP4
// without complaint (a second consumer besides ffprobe's reader).
func TestFFmpegRemuxesOurFragments(t *testing.T) {
	p := filepath.Join(t.TempDir(), "remux.mp4")
	out, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-i", "testdata/vigil-frag.mp4", "-c", "copy", p).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg remux: %v\n%s", err, out)
	}
}
