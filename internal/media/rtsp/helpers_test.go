package rtsp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/media/mp4"
	"vigil/internal/media/rtsp"
	"vigil/internal/sim"
	"vigil/internal/testutil"
)

// startServer starts an RTSP server on a free loopback port.
func startServer(t *testing.T, srv *rtsp.Server) string {
	t.Helper()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr().String()
}

// publishSim feeds a simulated camera into hub under name.
func publishSim(t *testing.T, hub *media.Hub, name string, vc, ac media.Codec) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sim.Publish(ctx, hub, name, sim.Options{Codec: vc, Audio: ac}); err != nil {
			t.Errorf("sim.Publish: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 3*time.Second, func() bool {
		for _, n := range hub.Names() {
			if n == name {
				return true
			}
		}
		return false
	})
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is what a pull collected.
type received struct {
	mu     sync.Mutex
	units  []media.Unit
	tracks []media.Track
	stats  rtsp.StatsSnapshot
	kind   rtsp.TransportKind
}

// pull pulls url for d and returns what arrived.
func pull(t *testing.T, url string, opts rtsp.ClientOptions, d time.Duration) *received {
	t.Helper()
	r := &received{}
	if opts.Stats == nil {
		opts.Stats = &rtsp.Stats{}
	}
	opts.OnUnit = func(u media.Unit) {
		r.mu.Lock()
		r.units = append(r.units, u)
		r.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := rtsp.Pull(ctx, url, opts)
	if err != nil {
		t.Fatalf("Pull %s: %v", url, err)
	}
	r.kind = sess.Transport()
	select {
	case <-time.After(d):
	case <-sess.Done():
		t.Fatalf("session ended early: %v", sess.Wait())
	}
	r.tracks = sess.Tracks()
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	r.stats = opts.Stats.Snapshot()
	return r
}

// video returns the video track index and its units from the first
// keyframe on.
func (r *received) video(t *testing.T) (int, []media.Unit) {
	t.Helper()
	vi := -1
	for i, tr := range r.tracks {
		if tr.Codec.IsVideo() {
			vi = i
		}
	}
	if vi < 0 {
		t.Fatalf("no video track in %+v", r.tracks)
	}
	var out []media.Unit
	for _, u := range r.units {
		if u.Track == vi && (len(out) > 0 || u.Key) {
			out = append(out, u)
		}
	}
	return vi, out
}

// checkContiguous asserts the video units are every frame of a 25 fps
// stream: DTS strictly increasing by 3600 ticks, none missing.
func checkContiguous(t *testing.T, units []media.Unit, least int) {
	t.Helper()
	if len(units) < least {
		t.Fatalf("%d video units, want at least %d", len(units), least)
	}
	for i := 1; i < len(units); i++ {
		if d := units[i].DTS - units[i-1].DTS; d != 3600 {
			for j := max(0, i-3); j < min(len(units), i+3); j++ {
				t.Logf("unit %d: pts %d dts %d key %v", j, units[j].PTS, units[j].DTS, units[j].Key)
			}
			t.Fatalf("unit %d: DTS step %d, want 3600 (a lost or repeated frame)", i, d)
		}
	}
}

// checkMonotonic asserts DTS grow, by one 25 fps frame on average: for
// servers (VLC) whose RTP timestamps follow their own jittery clock. That no
// frame is missing is checkIdentical's to prove.
func checkMonotonic(t *testing.T, units []media.Unit, least int) {
	t.Helper()
	if len(units) < least {
		t.Fatalf("%d video units, want at least %d", len(units), least)
	}
	for i := 1; i < len(units); i++ {
		if d := units[i].DTS - units[i-1].DTS; d <= 0 || d > 3*3600 {
			t.Fatalf("unit %d: DTS step %d, want ≈3600", i, d)
		}
	}
	avg := float64(units[len(units)-1].DTS-units[0].DTS) / float64(len(units)-1)
	if avg < 3400 || avg > 3800 {
		t.Fatalf("mean DTS step %.0f, want ≈3600", avg)
	}
}

// writeMP4 writes the units (from the first video keyframe) as fMP4.
func (r *received) writeMP4(t *testing.T) (string, int) {
	t.Helper()
	vi, _ := r.video(t)
	path := filepath.Join(t.TempDir(), "out.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fw, err := mp4.NewFragmentWriter(f, r.tracks, mp4.FragmentOptions{})
	if err != nil {
		t.Fatalf("fmp4: %v (tracks %+v)", err, r.tracks)
	}
	started := false
	n := 0
	for _, u := range r.units {
		if u.Track == vi && u.Key {
			started = true
		}
		if !started {
			continue
		}
		if u.Track == vi {
			n++
		}
		if err := fw.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	return path, n
}

type probed struct {
	CodecName    string `json:"codec_name"`
	CodecType    string `json:"codec_type"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	NbReadFrames string `json:"nb_read_frames"`
	SampleRate   string `json:"sample_rate"`
}

// probeFile runs ffprobe -count_frames on path and checks ffmpeg decodes it
// without a word of complaint.
func probeFile(t *testing.T, path string) map[string]probed {
	t.Helper()
	m := probeStreams(t, path)
	var stderr bytes.Buffer
	cmd := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-i", path, "-f", "null", "-")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || strings.TrimSpace(stderr.String()) != "" {
		t.Fatalf("ffmpeg decode of %s: %v\n%s", path, err, stderr.String())
	}
	return m
}

// probeStreams is ffprobe's view of the file's streams, frames counted by
// decoding (without failing on decode errors: see probeFile).
func probeStreams(t *testing.T, path string) map[string]probed {
	t.Helper()
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-count_frames", "-of", "json",
		"-show_entries", "stream=codec_name,codec_type,width,height,nb_read_frames,sample_rate", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var res struct{ Streams []probed }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	m := map[string]probed{}
	for _, s := range res.Streams {
		m[s.CodecType] = s
	}
	return m
}

func checkVideo(t *testing.T, p map[string]probed, codec string, frames int) {
	t.Helper()
	v, ok := p["video"]
	if !ok {
		t.Fatalf("no video stream: %+v", p)
	}
	if v.CodecName != codec || v.Width != 1280 || v.Height != 720 {
		t.Fatalf("video %+v, want %s 1280x720", v, codec)
	}
	if frames >= 0 && v.NbReadFrames != fmt.Sprint(frames) {
		t.Fatalf("ffprobe counts %s frames, want %d", v.NbReadFrames, frames)
	}
}

// clipAUs returns the simulator's clip as access units, parameter sets and
// delimiters and SEI removed (servers may drop or repeat them), to compare received units byte for byte.
func clipAUs(t *testing.T, file string, v codec.Video) [][][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "sim", "clips", file))
	if err != nil {
		t.Fatal(err)
	}
	var out [][][]byte
	for _, au := range codec.SplitAccessUnits(v, codec.SplitAnnexB(raw)) {
		out = append(out, stripParams(v, au))
	}
	return out
}

func stripParams(v codec.Video, au [][]byte) [][]byte {
	var out [][]byte
	for _, n := range codec.CleanAU(v, append([][]byte(nil), au...)) {
		t := codec.NALType(v, n)
		sei := v == codec.H264 && t == codec.H264NALSEI || v == codec.H265 && (t == 39 || t == 40)
		if !codec.IsParameterSet(v, n) && !sei {
			out = append(out, n)
		}
	}
	return out
}

// checkIdentical asserts each received unit equals a clip AU, in order.
func checkIdentical(t *testing.T, units []media.Unit, clip [][][]byte, v codec.Video) {
	t.Helper()
	// Find where in the clip the first unit is.
	first := stripParams(v, units[0].NALUs)
	start := -1
	for i, au := range clip {
		if equalAU(au, first) {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("first received unit is not in the clip")
	}
	for i, u := range units {
		want := clip[(start+i)%len(clip)]
		if got := stripParams(v, u.NALUs); !equalAU(got, want) {
			for _, n := range got {
				t.Logf("got  NAL type %d len %d", codec.NALType(v, n), len(n))
			}
			for _, n := range want {
				t.Logf("want NAL type %d len %d", codec.NALType(v, n), len(n))
			}
			t.Fatalf("unit %d differs from clip AU %d", i, (start+i)%len(clip))
		}
	}
}

func equalAU(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
