// Command sut is the default system under test of the ingest benchmark: it
// pulls N RTSP streams with Vigil's client and writes each to a fragmented
// MP4 file with Vigil's muxer, as a recorder would. On SIGINT or SIGTERM it
// stops and prints one line per stream:
//
//	stream URL received=FRAMES expected=FRAMES
//
// where expected is the number of frames the stream's video timestamps
// span (first to last, at the clip's 25 fps), so received < expected means
// frames were lost.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof" // served only with --pprof
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"syscall"

	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/media/rtsp"
)

type stream struct {
	url      string
	mu       sync.Mutex
	fw       *mp4.FragmentWriter
	f        *os.File
	video    int
	received int64
	first    int64
	last     int64
	tick     int64
	tracks   []media.Track
	err      error
}

func main() {
	out := flag.String("out", os.TempDir(), "directory for the .mp4 files")
	transport := flag.String("transport", "tcp", "RTSP transport: tcp, udp or auto")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile (in-use and allocations) to this file at exit")
	gogc := flag.Int("gogc", 0, "set GOGC (0 leaves the runtime default or the GOGC environment variable)")
	memLimit := flag.Int64("memlimit-mb", 0, "set GOMEMLIMIT in MiB (0 leaves it unset)")
	memStats := flag.Bool("memstats", false, "print the Go runtime's memory statistics to stderr on SIGINT")
	flag.Parse()
	if *gogc != 0 {
		debug.SetGCPercent(*gogc)
	}
	if *memLimit > 0 {
		debug.SetMemoryLimit(*memLimit << 20)
	}
	if *pprofAddr != "" {
		go func() { fmt.Fprintln(os.Stderr, http.ListenAndServe(*pprofAddr, nil)) }()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	kind, err := rtsp.ParseTransportKind(*transport)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigc
		if *memStats {
			printMemStats()
		}
		if *memProfile != "" {
			writeHeapProfile(*memProfile) // while the streams still run
		}
		stop()
	}()
	var wg sync.WaitGroup
	streams := make([]*stream, flag.NArg())
	for i, u := range flag.Args() {
		s := &stream{url: u, video: -1}
		streams[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.err = s.run(ctx, kind, filepath.Join(*out, fmt.Sprintf("stream%d.mp4", i+1)))
		}()
	}
	wg.Wait()
	for _, s := range streams {
		exp := int64(0)
		if s.tick > 0 && s.received > 0 {
			exp = (s.last-s.first)/s.tick + 1
		}
		line := fmt.Sprintf("stream %s received=%d expected=%d", s.url, s.received, exp)
		if s.err != nil {
			line += fmt.Sprintf(" error=%q", s.err.Error())
		}
		fmt.Println(line)
	}
}

// printMemStats prints where the process's memory is, in MiB.
func printMemStats() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mb := func(v uint64) float64 { return float64(v) / (1 << 20) }
	fmt.Fprintf(os.Stderr, "memstats: heap in use %.1f (live at last GC %.1f, goal %.1f), heap idle %.1f (released %.1f), stacks %.1f, runtime other %.1f, sys %.1f MiB; %d GCs, GC CPU %.1f %%; %d goroutines\n",
		mb(m.HeapInuse), mb(m.HeapAlloc), mb(m.NextGC), mb(m.HeapIdle), mb(m.HeapReleased), mb(m.StackInuse),
		mb(m.MSpanInuse+m.MCacheInuse+m.BuckHashSys+m.GCSys+m.OtherSys), mb(m.Sys), m.NumGC, 100*m.GCCPUFraction, runtime.NumGoroutine())
}

// writeHeapProfile writes the heap profile while the streams are still
// being received, so in-use figures are the steady state.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

func (s *stream) run(ctx context.Context, kind rtsp.TransportKind, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	s.f = f
	defer f.Close()
	opts := rtsp.ClientOptions{Transport: kind, OnUnit: s.write, OnTracks: func(t []media.Track) {
		s.mu.Lock()
		s.tracks = t
		s.mu.Unlock()
	}}
	sess, err := rtsp.Pull(ctx, s.url, opts)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		sess.Close()
	case <-sess.Done():
		err = sess.Wait()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fw != nil {
		if ferr := s.fw.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// write starts the file at the first video keyframe once the tracks carry
// their parameter sets, then writes every unit.
func (s *stream) write(u media.Unit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fw == nil {
		if !u.Key || u.Track >= len(s.tracks) {
			return
		}
		tracks := s.tracks
		if !tracks[u.Track].Codec.IsVideo() || len(tracks[u.Track].SPS) == 0 {
			return
		}
		fw, err := mp4.NewFragmentWriter(s.f, tracks, mp4.FragmentOptions{})
		if err != nil {
			s.err = err
			return
		}
		s.fw, s.video, s.tick = fw, u.Track, int64(tracks[u.Track].ClockRate/25)
	}
	if u.Track == s.video {
		if s.received == 0 {
			s.first = u.DTS
		}
		s.last = u.DTS
		s.received++
	}
	if err := s.fw.WriteUnit(u); err != nil && s.err == nil {
		s.err = err
	}
}
