package main

// Product mode (--product) measures `vigil serve` as a user runs it: a
// fresh data directory, the server started as its own process (pinned with
// taskset to --server-cpus), N cameras registered through the HTTP API with
// their RTSP URLs on the in-process simulator (pin the benchmark itself to
// the other cores: `taskset -c 1 ingest --product --server-cpus 0`). For
// each N it reports the server's CPU and RSS per stream, the frames the
// simulator sent beside the frames found in the recorded segments after the
// server stopped (KB/str is the mean RSS over the measurement less the
// idle server's, per stream), whether the simulator was slowed below real time (the
// server not keeping up pushes back through TCP), and whether a sample of
// the segments decodes without error (ffmpeg). "holes" are video frames
// missing inside a segment (between its first and last frame), so that
// frames missing at a camera's start (its first GOP) can be told from loss
// while streaming. --capacity searches the
// largest N that holds: no frame lost, the send rate ≥ 99 % of real time.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vigil/internal/media/mp4"
	"vigil/internal/media/rtsp"
)

// productOptions are the flags of product mode.
type productOptions struct {
	vigil      string // the vigil binary; empty builds ./cmd/vigil
	serverCPUs string // taskset CPU list for the server; empty: not pinned
	vcodec     string
	audio      string
	warmup     time.Duration
	dur        time.Duration
	fps        int
	transport  string // the cameras' transport as registered: auto, tcp, udp
	profiles   string // directory for pprof profiles of the server and of the simulator; empty: none
}

type productResult struct {
	cpu, rssKB, meanRSSKB float64
	idleKB                float64 // the server's RSS before any camera was registered
	sent, recorded        int64
	holes                 int64   // video frames missing inside a segment (between its first and last frame)
	sendRate              float64 // video frames per second per stream while measured
	simCPU                float64 // this process's CPU % (simulator and bench) while measured
	decodeErrors          int     // ffmpeg error lines over the sampled segments
	sampled               int     // segments decoded
	load                  string
	ingest                string // the server's ingest counters summed over the cameras (GET /api/v1/ingest)
	playable              string // how far behind now the playable footage ends (GET …/recordings), over a sample of cameras
}

// holds reports whether the run kept real time with no frame lost: every
// frame sent is in the recording (one frame per stream of slack for the
// frame in flight when the simulator stopped), the simulator was not slowed,
// and the sampled segments decode.
func (r *productResult) holds(n, fps int) bool {
	return r.sent-r.recorded <= int64(n) && r.sendRate >= 0.99*float64(fps) && r.decodeErrors == 0
}

func runProduct(counts []int, capacity bool, o productOptions) {
	if o.vigil == "" {
		bin, err := buildVigil()
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(filepath.Dir(bin))
		o.vigil = bin
	}
	fmt.Printf("# product ingest benchmark: vigil serve (%s), cameras registered through the API (transport %s), %s %s, %d s per count after warm-up\n",
		pinned(o.serverCPUs), o.transport, o.vcodec, o.audio, int(o.dur.Seconds()))
	fmt.Printf("%6s %8s %12s %8s %11s %11s %10s %10s %7s %6s %9s %8s %8s %6s %s\n", "N", "CPU%", "CPU%/stream", "RSS MB", "idle MB",
		"KB/str", "sent", "recorded", "lost", "holes", "fps/str", "decode", "sim CPU%", "load1", "holds")
	best := 0
	for _, n := range counts {
		r, err := productOne(n, o)
		if err != nil {
			fatal(fmt.Errorf("N=%d: %w", n, err))
		}
		ok := r.holds(n, o.fps)
		fmt.Printf("%6d %8.1f %12.3f %8.1f %11.0f %11.0f %10d %10d %7d %6d %9.2f %8s %8.1f %6s %v\n", n, r.cpu, r.cpu/float64(n), r.rssKB/1024,
			r.idleKB/1024, (r.meanRSSKB-r.idleKB)/float64(n), r.sent, r.recorded, max(r.sent-r.recorded, 0), r.holes, r.sendRate,
			fmt.Sprintf("%d/%d", r.sampled-min(r.decodeErrors, r.sampled), r.sampled), r.simCPU, r.load, ok)
		fmt.Printf("#   N=%d ingest counters before the simulator stopped: %s\n", n, r.ingest)
		fmt.Printf("#   N=%d arrival to playable (now − end of the footage the recordings listing offers): %s\n", n, r.playable)
		if ok {
			best = max(best, n)
		} else if capacity {
			break
		}
	}
	if capacity {
		fmt.Printf("# capacity: %d streams held real time with no frame lost for %d s\n", best, int(o.dur.Seconds()))
	}
}

func pinned(cpus string) string {
	if cpus == "" {
		return "not pinned"
	}
	return "pinned to CPU " + cpus
}

func buildVigil() (string, error) {
	dir, err := os.MkdirTemp("", "ingest-vigil-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "vigil")
	cmd := exec.Command("go", "build", "-o", bin, "vigil/cmd/vigil")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build vigil: %w", err)
	}
	return bin, nil
}

// drainWait is how long the server gets to read what is still in its
// sockets and close the sessions' segments after the simulator stopped.
var drainWait = func() time.Duration {
	d, err := time.ParseDuration(os.Getenv("INGEST_DRAIN"))
	if err != nil {
		return 2 * time.Second
	}
	return d
}()

const benchPassword = "Bench-Passw0rd-Ingest-1"

func productOne(n int, o productOptions) (*productResult, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	counters := &rtsp.ServerCounters{}
	simAddr, stopSim, err := startSim(ctx, n, "", o.vcodec, o.audio, counters)
	if err != nil {
		return nil, err
	}
	defer stopSim()

	data, err := os.MkdirTemp("", "ingest-product-")
	if err != nil {
		return nil, err
	}
	if os.Getenv("INGEST_KEEP") == "" {
		defer os.RemoveAll(data)
	} else {
		fmt.Fprintln(os.Stderr, "data directory kept:", data)
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{o.vigil, "serve", "--data", data, "--listen", listen, "--demo", "0", "--log-level", "warn"}
	if o.serverCPUs != "" {
		args = append([]string{"taskset", "-c", o.serverCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "VIGIL_ADMIN_PASSWORD="+benchPassword)
	var pprofAddr string
	if o.profiles != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "VIGIL_PPROF="+pprofAddr)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start vigil serve: %w", err)
	}
	stopped := false
	stopServer := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	defer stopServer()
	base := "http://" + listen
	api, err := signIn(base, cmd, &logs)
	if err != nil {
		return nil, err
	}
	idle, _ := rssKB(cmd.Process.Pid)
	if err := registerCameras(api, n, simAddr, o.transport); err != nil {
		return nil, err
	}
	// Warm up: every camera connected (the send rate reaches N×fps), then
	// the requested warm-up.
	if err := waitRate(counters, n, o.fps, 90*time.Second); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(logs.String(), 20))
	}
	time.Sleep(o.warmup)

	pid := cmd.Process.Pid // taskset execs vigil in place
	t0, c0, err := cpuTicks(pid)
	if err != nil {
		return nil, err
	}
	_, s0, _ := cpuTicks(os.Getpid())
	v0 := counters.VideoUnits.Load()
	var profDone chan error
	if o.profiles != "" {
		profDone = make(chan error, 1)
		go func() {
			profDone <- fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, int(o.dur.Seconds())-1),
				filepath.Join(o.profiles, fmt.Sprintf("server-cpu-%d.pprof", n)))
		}()
		f, err := os.Create(filepath.Join(o.profiles, fmt.Sprintf("sim-cpu-%d.pprof", n)))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var peak, sum float64
	var samples int
	for deadline := time.Now().Add(o.dur); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		if kb, err := rssKB(pid); err == nil {
			peak, sum, samples = max(peak, kb), sum+kb, samples+1
		}
	}
	t1, c1, err := cpuTicks(pid)
	if err != nil {
		return nil, err
	}
	v1 := counters.VideoUnits.Load()
	_, s1, _ := cpuTicks(os.Getpid())
	if profDone != nil {
		pprof.StopCPUProfile()
		if err := <-profDone; err != nil {
			return nil, err
		}
		if err := fetch("http://"+pprofAddr+"/debug/pprof/heap", filepath.Join(o.profiles, fmt.Sprintf("server-heap-%d.pprof", n))); err != nil {
			return nil, err
		}
	}
	el := t1.Sub(t0).Seconds()
	r := &productResult{cpu: 100 * float64(c1-c0) / clkTck / el, rssKB: peak, idleKB: idle, meanRSSKB: sum / float64(max(samples, 1)),
		sendRate: float64(v1-v0) / el / float64(n), simCPU: 100 * float64(s1-s0) / clkTck / el, load: loadAvg()}
	r.ingest = ingestCounters(api)
	r.playable = playableLag(api, n)
	stopSim()
	r.sent = counters.VideoUnits.Load()
	// The server reads what is still in its sockets, then sees the
	// sessions end; SIGINT closes the open segments.
	time.Sleep(drainWait)
	stopServer()
	if o.profiles != "" {
		os.WriteFile(filepath.Join(o.profiles, fmt.Sprintf("server-%d.log", n)), logs.Bytes(), 0o644)
	}
	r.recorded, r.holes, r.sampled, r.decodeErrors, err = countRecorded(filepath.Join(data, "recordings"))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// fetch saves the body of url in file.
func fetch(url, file string) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type apiSession struct {
	base string
	hc   *http.Client
	csrf string
}

func (a *apiSession) call(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.csrf != "" {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// signIn waits for the server to answer and signs in as the administrator.
func signIn(base string, cmd *exec.Cmd, logs *bytes.Buffer) (*apiSession, error) {
	jar, _ := cookiejar.New(nil)
	a := &apiSession{base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			return nil, fmt.Errorf("vigil serve did not become ready\n%s", tail(logs.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ans struct {
		CSRF string `json:"csrf"`
	}
	if err := a.call("POST", "/api/v1/session", map[string]string{"username": "admin", "password": benchPassword}, &ans); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	a.csrf = ans.CSRF
	return a, nil
}

// registerCameras registers cameras cam1…camN in the root unit, recorded
// continuously over transport (the camera's transport field), as an
// administrator does through the API.
func registerCameras(a *apiSession, n int, simAddr, transport string) error {
	var units struct {
		Units []struct {
			ID       string  `json:"id"`
			ParentID *string `json:"parent_id"`
		} `json:"units"`
	}
	if err := a.call("GET", "/api/v1/units", nil, &units); err != nil {
		return err
	}
	root := ""
	for _, u := range units.Units {
		if u.ParentID == nil || *u.ParentID == "" {
			root = u.ID
		}
	}
	enabled := true
	for i := 1; i <= n; i++ {
		in := map[string]any{"code": fmt.Sprintf("11010100001320%06d", i), "unit_id": root, "name": fmt.Sprintf("bench %d", i),
			"source_url": fmt.Sprintf("rtsp://%s/cam%d", simAddr, i), "enabled": &enabled, "recording_mode": "continuous",
			"transport": transport}
		if err := a.call("POST", "/api/v1/cameras", in, nil); err != nil {
			return fmt.Errorf("register camera %d: %w", i, err)
		}
	}
	return nil
}

// playableLag asks the recordings listing of up to 20 cameras how far
// behind now their playable footage ends (the open segment counts up to
// its last fsynced fragment): the time from arrival to playable, plus the
// API's own answer time. It returns the median and the maximum.
func playableLag(a *apiSession, n int) string {
	var ids struct {
		Cameras []struct {
			ID string `json:"id"`
		} `json:"cameras"`
	}
	if err := a.call("GET", "/api/v1/cameras?limit=20", nil, &ids); err != nil {
		return err.Error()
	}
	var lags []time.Duration
	for i, c := range ids.Cameras {
		if i >= 20 {
			break
		}
		var cov struct {
			Spans []struct {
				End time.Time `json:"end"`
			} `json:"spans"`
		}
		now := time.Now()
		q := "?start=" + now.Add(-time.Minute).UTC().Format(time.RFC3339) + "&end=" + now.Add(time.Minute).UTC().Format(time.RFC3339)
		if err := a.call("GET", "/api/v1/cameras/"+c.ID+"/recordings"+q, nil, &cov); err != nil || len(cov.Spans) == 0 {
			continue
		}
		lags = append(lags, now.Sub(cov.Spans[len(cov.Spans)-1].End))
	}
	if len(lags) == 0 {
		return "-"
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	return fmt.Sprintf("median %v, max %v over %d cameras", lags[len(lags)/2].Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond), len(lags))
}

// ingestCounters sums the cameras' ingest counters from the API, to show
// where frames went missing (RTP packets lost, frames dropped).
func ingestCounters(a *apiSession) string {
	var ans struct {
		Cameras []struct {
			State    string           `json:"state"`
			Counters map[string]int64 `json:"counters"`
		} `json:"cameras"`
	}
	if err := a.call("GET", "/api/v1/ingest", nil, &ans); err != nil {
		return err.Error()
	}
	sum := map[string]int64{}
	streaming := 0
	for _, c := range ans.Cameras {
		if c.State == "streaming" {
			streaming++
		}
		for k, v := range c.Counters {
			sum[k] += v
		}
	}
	out := fmt.Sprintf("streaming=%d/%d", streaming, len(ans.Cameras))
	for _, k := range []string{"frames", "frames_dropped", "frames_damaged", "packets_lost", "reconnects", "clock_corrections"} {
		out += fmt.Sprintf(" %s=%d", k, sum[k])
	}
	return out
}

// waitRate waits until the simulator sends N×fps video frames a second.
func waitRate(c *rtsp.ServerCounters, n, fps int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var rate float64
	for time.Now().Before(deadline) {
		v0 := c.VideoUnits.Load()
		time.Sleep(time.Second)
		rate = float64(c.VideoUnits.Load() - v0)
		if rate >= 0.98*float64(n*fps) {
			return nil
		}
	}
	return fmt.Errorf("the server did not take all %d cameras within %v: %.0f frames/s sent, want %d", n, limit, rate, n*fps)
}

// countRecorded counts the video samples in every recorded segment, and
// decodes a few segments with ffmpeg (error lines counted).
func countRecorded(dir string) (frames, holes int64, sampled, decodeErrors int, err error) {
	var files []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".mp4") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("walk recordings: %w", err)
	}
	for i, p := range files {
		n, h, err := videoSamples(p)
		if err != nil {
			return 0, 0, 0, 0, fmt.Errorf("read %s: %w", p, err)
		}
		frames, holes = frames+n, holes+h
		if i%max(len(files)/5, 1) == 0 && sampled < 5 {
			sampled++
			out, _ := exec.Command("ffmpeg", "-v", "error", "-i", p, "-f", "null", "-").CombinedOutput()
			if s := strings.TrimSpace(string(out)); s != "" {
				decodeErrors += len(strings.Split(s, "\n"))
			}
		}
	}
	return frames, holes, sampled, decodeErrors, nil
}

// videoSamples counts the video samples of a segment, and the frames
// missing between its first and last (DTS steps longer than the shortest).
func videoSamples(p string) (n, holes int64, err error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	m, err := mp4.ReadFile(f, st.Size())
	if err != nil {
		return 0, 0, err
	}
	for _, t := range m.Tracks {
		if !t.Codec.IsVideo() {
			continue
		}
		n += int64(len(t.Samples))
		var step int64
		for i := 1; i < len(t.Samples); i++ {
			if d := t.Samples[i].DTS - t.Samples[i-1].DTS; d > 0 && (step == 0 || d < step) {
				step = d
			}
		}
		if step > 0 {
			span := (t.Samples[len(t.Samples)-1].DTS-t.Samples[0].DTS)/step + 1
			holes += max(span-int64(len(t.Samples)), 0)
		}
	}
	return n, holes, nil
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func parseCounts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad count %q", f))
		}
		out = append(out, n)
	}
	return out
}
