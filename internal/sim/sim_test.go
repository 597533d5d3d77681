package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/testutil"
)

// startSim runs Run in the background and returns the RTSP address.
func startSim(t *testing.T, opts Options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	opts.Listen = "127.0.0.1:0"
	opts.OnListen = func(a string) { addrc <- a }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim.Run: %v", err)
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-done:
		t.Fatalf("sim.Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("sim did not start")
	}
	return ""
}

type probeStream struct {
	CodecName  string `json:"codec_name"`
	CodecType  string `json:"codec_type"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	RFrameRate string `json:"r_frame_rate"`
	SampleRate string `json:"sample_rate"`
}

func ffprobe(t *testing.T, args ...string) []probeStream {
	t.Helper()
	bin := testutil.Tool(t, "ffprobe")
	out, err := exec.Command(bin, append([]string{"-v", "error", "-of", "json", "-show_streams"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	var r struct{ Streams []probeStream }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	return r.Streams
}

// Two simulated cameras, H.264 with AAC and H.265 with G.711, as ffprobe
// sees them. // MED-1
func TestSimProbe(t *testing.T) {
	cases := []struct {
		codec, audio       media.Codec
		vname, aname, rate string
	}{
		{media.H264, media.AAC, "h264", "aac", "48000"},
		{media.H265, media.PCMA, "hevc", "pcm_alaw", "8000"},
		{media.H264, media.PCMU, "h264", "pcm_mulaw", "8000"},
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		addr := startSim(t, Options{Count: 2, Codec: c.codec, Audio: c.audio})
		for _, cam := range []string{"cam1", "cam2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ss := ffprobe(t, "-rtsp_transport", "tcp", "rtsp://"+addr+"/"+cam)
				if len(ss) != 2 {
					t.Errorf("%s %s: %d streams, want video and audio: %+v", c.codec, cam, len(ss), ss)
					return
				}
				v, a := ss[0], ss[1]
				if v.CodecType != "video" {
					v, a = a, v
				}
				if v.CodecName != c.vname || v.Width != 1280 || v.Height != 720 || v.RFrameRate != "25/1" {
					t.Errorf("%s %s video: %+v", c.codec, cam, v)
				}
				if a.CodecName != c.aname || a.SampleRate != c.rate {
					t.Errorf("%s %s audio: %+v", c.codec, cam, a)
				}
			}()
		}
	}
	wg.Wait()
}

// ffmpeg decodes 5 s (over two loop boundaries of the 2 s clip) without a
// single error, and the timestamps it sees are continuous. // MED-1
func TestSimLoopContinuity(t *testing.T) {
	addr := startSim(t, Options{Count: 1, Codec: media.H264, Audio: media.AAC})
	ffmpeg := testutil.Tool(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, "-v", "error", "-rtsp_transport", "tcp", "-i", "rtsp://"+addr+"/cam1", "-t", "5", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Fatalf("ffmpeg reported errors:\n%s", s)
	}
	// Packet timestamps of the video stream over 5.5 s: strictly increasing
	// by one frame (40 ms) throughout.
	ffprobe := testutil.Tool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-read_intervals", "%+5.5",
		"-select_streams", "v", "-show_entries", "packet=pts_time", "-of", "csv=p=0", "rtsp://"+addr+"/cam1").Output()
	if err != nil {
		t.Fatalf("ffprobe packets: %v", err)
	}
	var prev float64
	n := 0
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64)
		if err != nil {
			continue
		}
		if n > 0 {
			if d := v - prev; d < 0.039 || d > 0.041 {
				t.Fatalf("packet %d: pts %.3f after %.3f (step %.3f), want 0.040", n, v, prev, d)
			}
		}
		prev = v
		n++
	}
	if n < 100 {
		t.Fatalf("only %d video packets in 5.5 s, want ≥ 100 (over two loops of a 50-frame clip)", n)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `vigil sim` parses its flags, serves, and stops when its context ends.
func TestCommand(t *testing.T) {
	for _, args := range [][]string{{"--codec", "vp8"}, {"--audio", "mp3"}, {"--count", "0"}, {"--nonsense"}} {
		var out, errb bytes.Buffer
		if code := Command(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if errb.Len() == 0 {
			t.Errorf("%v: no message on stderr", args)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Command(ctx, []string{"--rtsp", "127.0.0.1:0", "--count", "2", "--codec", "h265", "--audio", "pcmu"}, &stdout, &stderr)
	}()
	var addr string
	deadline := time.Now().Add(5 * time.Second)
	for addr == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no address printed; stderr: %s", stderr.String())
		}
		if _, rest, ok := strings.Cut(stdout.String(), "rtsp://"); ok {
			addr, _, _ = strings.Cut(rest, "/")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ss := ffprobe(t, "-rtsp_transport", "tcp", "rtsp://"+addr+"/cam2")
	if len(ss) != 2 || ss[0].CodecName != "hevc" || ss[1].CodecName != "pcm_mulaw" {
		t.Fatalf("cam2: %+v", ss)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Command did not stop")
	}
}
