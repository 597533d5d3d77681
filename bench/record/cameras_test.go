package recordbench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/record"
	"vigil/internal/sim"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// BenchmarkRecordCameras records N simulated cameras (~3 Mbit/s H.264
// each, fed straight into the hub) for VIGIL_BENCH_SECONDS (default 10)
// and reports CPU per stream (% of one core), the process's peak RSS,
// the bytes written and the units the recorders lost (target 0):
//
//	VIGIL_BENCH_CAMERAS=50,100,200,400 go test ./bench/record/ -run '^$' -bench RecordCameras -benchtime 1x
//
// It counts the simulators' CPU too: an upper bound for the recorder's.
func BenchmarkRecordCameras(b *testing.B) {
	secs := 10
	if v, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	counts := []int{50, 100}
	if v := os.Getenv("VIGIL_BENCH_CAMERAS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(f); err == nil && n > 0 {
				counts = append(counts, n)
			}
		}
	}
	for _, n := range counts {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			db := storetest.Open(b, store.SQLite)
			st, err := storage.NewLocal([]string{b.TempDir()}, -1)
			if err != nil {
				b.Fatal(err)
			}
			x := record.NewIndex(db, storetest.Keyring(b, keyring.Standard))
			hub := media.NewHub()
			rec := record.New(hub, st, x, nil, record.Options{SegmentLength: time.Minute})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{}, 2*n)
			for i := 0; i < n; i++ {
				id := fmt.Sprintf("c%03d", i)
				go func() { sim.Publish(ctx, hub, id, sim.Options{}); done <- struct{}{} }()
				go func() { rec.Record(ctx, id, id); done <- struct{}{} }()
			}
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			time.Sleep(time.Duration(secs) * time.Second)
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			b.StopTimer()
			cancel()
			for i := 0; i < 2*n; i++ {
				<-done
			}
			cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
			var dropped uint64
			var bytes int64
			for _, s := range rec.States() {
				dropped += s.Dropped
				bytes += s.Bytes
			}
			b.ReportMetric(100*cpu.Seconds()/float64(secs)/float64(n), "%core/stream")
			b.ReportMetric(float64(ru1.Maxrss)/1024/float64(n), "MBrss/stream")
			b.ReportMetric(float64(dropped), "dropped")
			b.ReportMetric(float64(bytes)/float64(secs)/1e6, "MB/s")
		})
	}
}
