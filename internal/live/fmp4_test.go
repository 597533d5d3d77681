package live_test

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vigil/internal/live"
	"vigil/internal/media"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/testutil"
)

// lockedBuffer collects a stream written from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// TestFMP4LiveDecodes: 3 s of the fMP4 live stream of a G.711 camera play
// in ffmpeg without an error, with H.264 video and FLAC audio; the info
// gives the MSE type; the view and its end are registered. MED-2, ACC-3.
func TestFMP4LiveDecodes(t *testing.T) {
	ffmpeg, ffprobe := testutil.Tool(t, "ffmpeg"), testutil.Tool(t, "ffprobe")
	for _, tc := range []struct {
		audio media.Codec
		codec string
		probe string
	}{
		{media.PCMA, "flac", "flac"},
		{media.AAC, "mp4a.40.2", "aac"},
	} {
		t.Run(string(tc.audio), func(t *testing.T) {
			f := newFixture(t, 1, tc.audio, live.Options{})
			inf, err := f.svc.Info(context.Background(), f.subj, "cam1")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(inf.MIME, `video/mp4; codecs="avc1.`) || !strings.Contains(inf.MIME, ","+tc.codec+`"`) || inf.Width != 1280 || !inf.WebRTC {
				t.Fatalf("info: %+v", inf)
			}
			if want := map[media.Codec]string{media.PCMA: "PCMA"}[tc.audio]; inf.WebRTCAudio != want {
				t.Errorf("WebRTC audio %q, want %q", inf.WebRTCAudio, want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var buf lockedBuffer
			var mime, access string
			err = f.svc.StreamFMP4(ctx, f.subj, "cam1", "核查", &buf, nil, func(a, m string) { access, mime = a, m })
			if err != nil {
				t.Fatal(err)
			}
			if mime != inf.MIME || access == "" {
				t.Errorf("stream started with %q (access %q), info said %q", mime, access, inf.MIME)
			}
			p := filepath.Join(t.TempDir(), "live.mp4")
			os.WriteFile(p, buf.Bytes(), 0o644)
			out, err := exec.Command(ffmpeg, "-v", "error", "-i", p, "-f", "null", "-").CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			out, err = exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", p).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			var frames int
			fields := strings.Split(strings.TrimSpace(string(out)), ",")
			if len(fields) == 4 {
				frames = atoi(fields[3])
			}
			if len(fields) != 4 || fields[0] != "h264" || fields[1] != "1280" || frames < 60 {
				t.Fatalf("ffprobe video: %q (want h264 1280x720, ≥ 60 frames in 3 s)", out)
			}
			out, _ = exec.Command(ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", p).CombinedOutput()
			if strings.TrimSpace(string(out)) != tc.probe {
				t.Errorf("audio codec %q, want %s", out, tc.probe)
			}
			recs := f.access(t, "cam1")
			if len(recs) != 1 || recs[0].Method != "fmp4" || recs[0].Purpose != "核查" || recs[0].EndedAt == nil {
				t.Fatalf("access registry: %+v", recs)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestSnapshotJPEG: a snapshot is a 1280x720 JPEG of the camera's latest
// keyframe, registered as its own access (action snapshot). ACC-3.
func TestSnapshotJPEG(t *testing.T) {
	testutil.Tool(t, "ffmpeg")
	f := newFixture(t, 1, "", live.Options{})
	jpg, d, err := f.svc.Snapshot(context.Background(), f.subj, "cam1", "取证")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(jpg))
	if err != nil || cfg.Width != 1280 || cfg.Height != 720 {
		t.Fatalf("snapshot: %v %dx%d", err, cfg.Width, cfg.Height)
	}
	recs := f.access(t, "cam1")
	if len(recs) != 1 || recs[0].ID != d.ID() || recs[0].Action != policy.Snapshot || recs[0].Purpose != "取证" {
		t.Fatalf("access registry: %+v", recs)
	}
	// Without a purpose: refused before any decoding.
	_, _, err = f.svc.Snapshot(context.Background(), f.subj, "cam1", "")
	if pe, ok := problem.As(err); !ok || pe.Code != "policy.purpose_required" {
		t.Fatalf("snapshot without purpose: %v", err)
	}
	// A camera that is not published: offline, 503.
	f2 := staticCameras{"cam9": {ID: "cam9", UnitID: "putuo", UnitPath: "/city/putuo/"}}
	svc, err := live.New(f.hub, f.gate, f2, live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, _, err = svc.Snapshot(context.Background(), f.subj, "cam9", "取证")
	if pe, ok := problem.As(err); !ok || pe.Code != "live.camera_offline" || pe.Status != 503 {
		t.Fatalf("offline camera: %v", err)
	}
}
