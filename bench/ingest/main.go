// Command ingest benchmarks RTSP ingest: for each stream count N it starts N
// simulated cameras (in this process, or as an external `vigil sim`), runs
// the system under test against them, samples the SUT's CPU and memory from
// /proc, and prints a table: CPU % of one core per stream, RSS per stream,
// frames received and lost.
//
//	go run ./bench/ingest --counts 50,100 --seconds 20
//	go run ./bench/ingest --sut "vigil ingest-test {urls}" --counts 50
//
// The SUT command line may hold {urls} (replaced by the N stream URLs as
// separate arguments) and {n}. At the end the SUT gets SIGINT and may print
// lines "stream URL received=R expected=E" (as the default SUT,
// bench/ingest/sut, does); the table sums them. Without such lines the
// frame columns are empty.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vigil/internal/media"
	"vigil/internal/sim"
)

func main() {
	sut := flag.String("sut", "", "SUT command line with {urls} or {n}; empty builds and runs bench/ingest/sut")
	counts := flag.String("counts", "50,100,200,400", "comma-separated stream counts")
	seconds := flag.Int("seconds", 30, "measured seconds per count")
	warmup := flag.Int("warmup", 3, "seconds before measuring")
	vcodec := flag.String("codec", "h264", "simulated video codec: h264 or h265")
	audio := flag.String("audio", "aac", "simulated audio: aac, pcma, pcmu or none")
	simCmd := flag.String("sim", "", "external simulator command (e.g. \"vigil sim\"); empty runs it in-process")
	transport := flag.String("transport", "tcp", "transport for the default SUT")
	flag.Parse()

	if *sut == "" {
		bin, err := buildDefaultSUT()
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(filepath.Dir(bin))
		dir, err := os.MkdirTemp("", "ingest-bench-")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
		*sut = bin + " --transport " + *transport + " --out " + dir + " {urls}"
	}
	fmt.Printf("# ingest benchmark: %s %s, %d s per count after %d s warm-up\n", *vcodec, *audio, *seconds, *warmup)
	fmt.Printf("# SUT: %s\n", *sut)
	fmt.Printf("%6s %10s %12s %10s %12s %10s %10s %8s\n", "N", "CPU%", "CPU%/stream", "RSS MB", "RSS KB/str", "frames", "lost", "failed")
	for _, f := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad count %q", f))
		}
		r, err := runOne(n, *sut, *simCmd, *vcodec, *audio, time.Duration(*warmup)*time.Second, time.Duration(*seconds)*time.Second)
		if err != nil {
			fatal(fmt.Errorf("N=%d: %w", n, err))
		}
		fmt.Printf("%6d %10.1f %12.2f %10.1f %12.0f %10s %10s %8s\n", n, r.cpu, r.cpu/float64(n),
			r.rssKB/1024, r.rssKB/float64(n), r.frames, r.lost, r.failed)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ingest bench:", err)
	os.Exit(1)
}

// buildDefaultSUT compiles bench/ingest/sut (so that the go tool is not
// what gets measured).
func buildDefaultSUT() (string, error) {
	dir, err := os.MkdirTemp("", "ingest-sut-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "sut")
	cmd := exec.Command("go", "build", "-o", bin, "vigil/bench/ingest/sut")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build default SUT: %w", err)
	}
	return bin, nil
}

type result struct {
	cpu, rssKB           float64
	frames, lost, failed string
}

func runOne(n int, sutLine, simCmd, vcodec, audio string, warmup, dur time.Duration) (*result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, stopSim, err := startSim(ctx, n, simCmd, vcodec, audio)
	if err != nil {
		return nil, err
	}
	defer stopSim()

	var args []string
	for _, a := range strings.Fields(sutLine) {
		switch {
		case a == "{urls}":
			for i := 1; i <= n; i++ {
				args = append(args, fmt.Sprintf("rtsp://%s/cam%d", addr, i))
			}
		default:
			args = append(args, strings.ReplaceAll(a, "{n}", strconv.Itoa(n)))
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start SUT: %w", err)
	}
	pid := cmd.Process.Pid
	time.Sleep(warmup)
	t0, c0, err := cpuTicks(pid)
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	var peakRSS float64
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if kb, err := rssKB(pid); err == nil && kb > peakRSS {
			peakRSS = kb
		}
	}
	t1, c1, err := cpuTicks(pid)
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	r := &result{cpu: 100 * float64(c1-c0) / clkTck / t1.Sub(t0).Seconds(), rssKB: peakRSS}
	r.frames, r.lost, r.failed = frameStats(stdout.Bytes())
	return r, nil
}

var streamLine = regexp.MustCompile(`^stream \S+ received=(\d+) expected=(\d+)(.*)$`)

func frameStats(out []byte) (frames, lost, failed string) {
	var recv, exp, fails, lines int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := streamLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		lines++
		r, _ := strconv.ParseInt(m[1], 10, 64)
		e, _ := strconv.ParseInt(m[2], 10, 64)
		recv += r
		exp += e
		if r == 0 || strings.Contains(m[3], "error=") {
			fails++
		}
	}
	if lines == 0 {
		return "-", "-", "-"
	}
	return strconv.FormatInt(recv, 10), strconv.FormatInt(exp-recv, 10), strconv.FormatInt(fails, 10)
}

// startSim starts N cameras and returns their RTSP host:port.
func startSim(ctx context.Context, n int, simCmd, vcodec, audio string) (string, func(), error) {
	if simCmd != "" {
		addr := "127.0.0.1:18554"
		f := append(strings.Fields(simCmd), "--rtsp", addr, "--count", strconv.Itoa(n), "--codec", vcodec, "--audio", audio)
		cmd := exec.CommandContext(ctx, f[0], f[1:]...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return "", nil, fmt.Errorf("start simulator: %w", err)
		}
		time.Sleep(time.Second)
		return addr, func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }, nil
	}
	opts := sim.Options{Listen: "127.0.0.1:0", Count: n, Codec: media.Codec(strings.ToUpper(vcodec))}
	switch strings.ToLower(audio) {
	case "aac":
		opts.Audio = media.AAC
	case "pcma":
		opts.Audio = media.PCMA
	case "pcmu":
		opts.Audio = media.PCMU
	}
	addrc := make(chan string, 1)
	opts.OnListen = func(a string) { addrc <- a }
	sctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- sim.Run(sctx, opts) }()
	select {
	case a := <-addrc:
		return a, func() { cancel(); <-errc }, nil
	case err := <-errc:
		cancel()
		return "", nil, fmt.Errorf("simulator: %w", err)
	}
}

// clkTck is USER_HZ, 100 on Linux.
const clkTck = 100

// cpuTicks reads utime+stime of pid (and its waited-for children).
func cpuTicks(pid int) (time.Time, int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read SUT stat: %w", err)
	}
	now := time.Now()
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return now, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// Fields after ")": state(0) … utime(11) stime(12) cutime(13) cstime(14).
	if len(f) < 15 {
		return now, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	var total int64
	for _, k := range []int{11, 12, 13, 14} {
		v, _ := strconv.ParseInt(f[k], 10, 64)
		total += v
	}
	return now, total, nil
}

// rssKB reads VmRSS of pid in KiB.
func rssKB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				return strconv.ParseFloat(f[1], 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
