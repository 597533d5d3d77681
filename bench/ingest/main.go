// Command ingest benchmarks RTSP ingest: for each stream count N it starts N
// simulated cameras (in this process, or as an external `vigil sim`), runs
// the system under test against them, samples the SUT's CPU and memory from
// /proc, and prints a table: CPU % of one core per stream, RSS per stream,
// frames received and lost.
//
//	go run ./bench/ingest --counts 50,100 --seconds 20
//	go run ./bench/ingest --sut "vigil ingest-test {urls}" --counts 50
//	go build -o /tmp/ingest ./bench/ingest && taskset -c 1 /tmp/ingest --product --server-cpus 0 --counts 100,200
//
// Without --product it measures a harness (bench/ingest/sut: the RTSP
// client writing fMP4 files), not the product; --product measures `vigil
// serve` itself (product.go).
// The SUT command line may hold {urls} (replaced by the N stream URLs as
// separate arguments) and {n}. At the end the SUT gets SIGINT and may print
// lines "stream URL received=R expected=E" (as the default SUT,
// bench/ingest/sut, does); the table sums them. Without such lines the
// frame columns are empty.
//
// CPU and RSS are the SUT process's alone (from /proc/PID); the in-process
// simulator's CPU is printed separately (sim CPU%), as is the 1-minute load
// average at the end of each measurement, since other work on the machine
// makes CPU figures noisy. "sent" is the number of video frames the
// simulator had written to players when the SUT was told to stop
// (in-process simulator only); "received" and "lost" come from the SUT's
// lines, "lost" being frames missing between the first and last frame
// each stream received. The SUT keeps receiving until its sessions close,
// so received ≥ sent shows it kept up; received may trail sent by the few
// frames in flight when it closed them. RSS is the peak of per-second
// samples over the measurement, "mean" their mean. rd/s and wr/s are the
// SUT's read and write system calls per second per stream.
//
// The default SUT takes extra flags through --sut-args: --gogc N and
// --memlimit-mb N (GC settings), --cpuprofile, --memprofile and --pprof
// ADDR (profiles), --memstats (the runtime's memory statistics).
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
	"sync"
	"syscall"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
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
	transport := flag.String("transport", "tcp", "transport for the default SUT; product mode: the cameras' registered transport (auto, tcp, udp)")
	sutArgs := flag.String("sut-args", "", "extra flags for the default SUT (e.g. \"--gogc 50 --memlimit-mb 400\")")
	product := flag.Bool("product", false, "measure `vigil serve` with cameras registered through the API (see product.go)")
	capacity := flag.Bool("capacity", false, "product mode: stop at the first count that does not hold and print the capacity")
	vigilBin := flag.String("vigil", "", "product mode: the vigil binary (empty builds ./cmd/vigil)")
	serverCPUs := flag.String("server-cpus", "", "product mode: taskset CPU list for vigil serve (e.g. 0)")
	profiles := flag.String("profiles", "", "product mode: write CPU and heap profiles of the server (VIGIL_PPROF) and a CPU profile of the simulator into this directory")
	flag.Parse()
	if *product {
		runProduct(parseCounts(*counts), *capacity, productOptions{vigil: *vigilBin, serverCPUs: *serverCPUs, vcodec: *vcodec,
			audio: *audio, warmup: time.Duration(*warmup) * time.Second, dur: time.Duration(*seconds) * time.Second, fps: 25,
			profiles: *profiles, transport: *transport})
		return
	}

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
		*sut = bin + " --transport " + *transport + " --out " + dir + " " + *sutArgs + " {urls}"
	}
	fmt.Printf("# ingest benchmark: %s %s, %d s per count after %d s warm-up\n", *vcodec, *audio, *seconds, *warmup)
	fmt.Printf("# SUT: %s\n", *sut)
	fmt.Printf("%6s %8s %12s %8s %11s %11s %9s %9s %7s %7s %8s %6s %8s %8s\n", "N", "CPU%", "CPU%/stream", "RSS MB", "RSS KB/str", "mean KB/str", "sent", "received", "lost", "failed", "sim CPU%", "load1", "rd/s/str", "wr/s/str")
	for _, f := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad count %q", f))
		}
		r, err := runOne(n, *sut, *simCmd, *vcodec, *audio, time.Duration(*warmup)*time.Second, time.Duration(*seconds)*time.Second)
		if err != nil {
			fatal(fmt.Errorf("N=%d: %w", n, err))
		}
		fmt.Printf("%6d %8.1f %12.3f %8.1f %11.0f %11.0f %9s %9s %7s %7s %8.1f %6s %8.1f %8.1f\n", n, r.cpu, r.cpu/float64(n),
			r.rssKB/1024, r.rssKB/float64(n), r.meanRSSKB/float64(n), r.sent, r.frames, r.lost, r.failed, r.simCPU, r.load, r.reads, r.writes)
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
	cpu, rssKB, simCPU         float64
	meanRSSKB                  float64
	reads, writes              float64 // syscalls per second per stream
	sent, frames, lost, failed string
	load                       string
}

func runOne(n int, sutLine, simCmd, vcodec, audio string, warmup, dur time.Duration) (*result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	counters := &rtsp.ServerCounters{}
	addr, stopSim, err := startSim(ctx, n, simCmd, vcodec, audio, counters)
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
	_, s0, _ := cpuTicks(os.Getpid())
	r0, w0 := syscallCounts(pid)
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	var peakRSS, sumRSS float64
	var samples int
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if kb, err := rssKB(pid); err == nil {
			peakRSS = max(peakRSS, kb)
			sumRSS += kb
			samples++
		}
	}
	t1, c1, err := cpuTicks(pid)
	_, s1, _ := cpuTicks(os.Getpid())
	r1, w1 := syscallCounts(pid)
	load := loadAvg()
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	sentAtStop := counters.VideoUnits.Load()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	stopSim() // the SUT has gone: what was sent is final
	el := t1.Sub(t0).Seconds()
	r := &result{cpu: 100 * float64(c1-c0) / clkTck / el, rssKB: peakRSS, meanRSSKB: sumRSS / float64(max(samples, 1)), simCPU: 100 * float64(s1-s0) / clkTck / el, load: load, sent: "-",
		reads: float64(r1-r0) / el / float64(n), writes: float64(w1-w0) / el / float64(n)}
	if simCmd == "" {
		r.sent = strconv.FormatInt(sentAtStop, 10)
	}
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
			if fails < 5 {
				fmt.Fprintln(os.Stderr, "failed:", sc.Text())
			}
			fails++
		}
	}
	if lines == 0 {
		return "-", "-", "-"
	}
	return strconv.FormatInt(recv, 10), strconv.FormatInt(exp-recv, 10), strconv.FormatInt(fails, 10)
}

// startSim starts N cameras and returns their RTSP host:port.
func startSim(ctx context.Context, n int, simCmd, vcodec, audio string, counters *rtsp.ServerCounters) (string, func(), error) {
	if simCmd != "" {
		addr := "127.0.0.1:18554"
		f := append(strings.Fields(simCmd), "--rtsp", addr, "--count", strconv.Itoa(n), "--codec", vcodec, "--audio", audio)
		cmd := exec.CommandContext(ctx, f[0], f[1:]...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return "", nil, fmt.Errorf("start simulator: %w", err)
		}
		time.Sleep(time.Second)
		var once sync.Once
		return addr, func() { once.Do(func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }) }, nil
	}
	opts := sim.Options{Listen: "127.0.0.1:0", Count: n, Codec: media.Codec(strings.ToUpper(vcodec)), Counters: counters}
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
		var once sync.Once
		return a, func() { once.Do(func() { cancel(); <-errc }) }, nil
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

// syscallCounts reads the read and write system calls pid made so far
// (syscr, syscw of /proc/PID/io); zero when unreadable.
func syscallCounts(pid int) (reads, writes int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// loadAvg returns the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "-"
	}
	return strings.Fields(string(b))[0]
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
