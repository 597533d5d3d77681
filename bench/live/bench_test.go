// Package livebench measures live view over WHEP (issue 5):
//
//	go test ./bench/live/ -run '^$' -bench 'WHEPStart|ChromiumStart' -benchtime 1x
//	go test ./bench/live/ -run '^$' -bench Viewers -benchtime 1x -seconds 20
//
// BenchmarkChromiumStart does the same in Chromium (POST → first decoded
// frame, requestVideoFrameCallback). BenchmarkWHEPStart times 20 starts (POST of the offer → first whole H.264
// access unit received by a pion client) and reports p50/p95 (target
// < 500 ms on loopback). BenchmarkViewers runs 50 viewers of one camera and
// 100 viewers spread over 25 cameras; the viewers run in a child process
// (this test binary again) so that the CPU and memory reported are the
// server's (with its simulated cameras), measured from getrusage and
// /proc/self/status; frames dropped per viewer are the hub's per-session
// counts, frames received per viewer the child's.
package livebench

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/live"
	"vigil/internal/live/whepclient"
	"vigil/internal/media"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/sim"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

var seconds = flag.Int("seconds", 20, "measured seconds per viewer scenario")

// TestMain runs the viewer child when asked to (LIVEBENCH_VIEWERS set).
func TestMain(m *testing.M) {
	if os.Getenv("LIVEBENCH_VIEWERS") != "" {
		os.Exit(viewerChild())
	}
	os.Exit(m.Run())
}

type cams map[string]policy.Camera

func (c cams) GateCamera(_ context.Context, id string) (policy.Camera, error) {
	cam, ok := c[id]
	if !ok {
		return cam, fmt.Errorf("camera %s: %w", id, store.ErrNotFound)
	}
	return cam, nil
}

func (c cams) StreamName(id string) string { return id }

// chiRouter is where extra routes are added to the bench's server.
type chiRouter = chi.Router

// server starts n simulated cameras, the live service and a WHEP front
// (with the extra routes added by each function in more).
func server(b *testing.B, n int, more ...func(chiRouter)) (*live.Service, string) {
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	for _, q := range []string{
		`INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES ('city', NULL, '/city/', 'city', 'police', 1, 1)`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	p, err := profile.Load(profile.Default())
	if err != nil {
		b.Fatal(err)
	}
	l := audit.New(db, storetest.Keyring(b, keyring.Standard))
	b.Cleanup(l.Close)
	gate := policy.NewGate(db, l, p)
	hub := media.NewHub()
	cs := cams{}
	sctx, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("cam%d", i)
		cs[name] = policy.Camera{ID: name, UnitID: "city", UnitPath: "/city/"}
		go sim.Publish(sctx, hub, name, sim.Options{Audio: media.PCMA})
	}
	for name := range cs {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		rd, err := hub.SubscribeWait(wctx, name, media.ReaderOptions{})
		if err == nil {
			_, err = rd.Next(wctx)
			rd.Close()
		}
		wcancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	svc, err := live.New(hub, gate, cs, live.Options{WebRTC: live.WebRTCOptions{Interfaces: []string{"lo"}, IncludeLoopback: true}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	subj := &policy.Subject{UserID: "bench", Name: "bench", UnitID: "city",
		Grants: []policy.Grant{{Role: "watcher", Permissions: []policy.Permission{policy.CameraLive}, ScopeUnitID: "city", ScopePath: "/city/"}}}
	r := chi.NewRouter()
	r.Post("/cameras/{id}/whep", func(w http.ResponseWriter, r *http.Request) {
		offer, _ := io.ReadAll(r.Body)
		ss, answer, err := svc.StartWHEP(r.Context(), subj, chi.URLParam(r, "id"), "bench", string(offer))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Location", "/whep/"+ss.ID)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	})
	r.Delete("/whep/{id}", func(w http.ResponseWriter, r *http.Request) {
		svc.EndWHEP(r.Context(), subj, chi.URLParam(r, "id"))
	})
	for _, m := range more {
		m(r)
	}
	srv := httptest.NewServer(r)
	b.Cleanup(srv.Close)
	return svc, srv.URL
}

// BenchmarkWHEPStart: POST → first whole access unit, 20 starts.
func BenchmarkWHEPStart(b *testing.B) {
	_, url := server(b, 1)
	for range b.N {
		var starts []time.Duration
		for range 20 {
			c, err := whepclient.Dial(context.Background(), url+"/cameras/cam1/whep", whepclient.Options{Loopback: true})
			if err != nil {
				b.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for c.FirstUnit() == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if c.FirstUnit() == 0 {
				b.Fatal("no frame in 5 s")
			}
			starts = append(starts, c.FirstUnit())
			c.Close(context.Background())
		}
		slices.Sort(starts)
		p50, p95 := starts[len(starts)/2], starts[len(starts)*95/100]
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
		b.Logf("WHEP POST → first frame over %d starts: p50 %v, p95 %v, max %v", len(starts), p50.Round(time.Millisecond), p95.Round(time.Millisecond), starts[len(starts)-1].Round(time.Millisecond))
	}
}

// childReport is what the viewer child prints.
type childReport struct {
	Frames []uint64 `json:"frames"`
	Failed int      `json:"failed"`
}

// viewerChild dials LIVEBENCH_VIEWERS viewers spread over
// LIVEBENCH_CAMERAS cameras at LIVEBENCH_URL, holds them for
// LIVEBENCH_SECONDS and prints a childReport.
func viewerChild() int {
	n, _ := strconv.Atoi(os.Getenv("LIVEBENCH_VIEWERS"))
	ncams, _ := strconv.Atoi(os.Getenv("LIVEBENCH_CAMERAS"))
	secs, _ := strconv.Atoi(os.Getenv("LIVEBENCH_SECONDS"))
	url := os.Getenv("LIVEBENCH_URL")
	var clients []*whepclient.Client
	rep := childReport{}
	for i := range n {
		c, err := whepclient.Dial(context.Background(), fmt.Sprintf("%s/cameras/cam%d/whep", url, i%ncams+1), whepclient.Options{Loopback: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "viewer:", err)
			rep.Failed++
			continue
		}
		clients = append(clients, c)
	}
	fmt.Println("READY")
	time.Sleep(time.Duration(secs) * time.Second)
	for _, c := range clients {
		rep.Frames = append(rep.Frames, c.Units())
		c.Close(context.Background())
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads a kB field of /proc/self/status.
func procStatus(field string) int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// BenchmarkViewers: 50 viewers of one camera, 100 over 25 cameras.
func BenchmarkViewers(b *testing.B) {
	for _, sc := range []struct{ viewers, cameras int }{{50, 1}, {100, 25}} {
		b.Run(fmt.Sprintf("%dviewers-%dcameras", sc.viewers, sc.cameras), func(b *testing.B) {
			for range b.N {
				measureViewers(b, sc.viewers, sc.cameras)
			}
		})
	}
}

func measureViewers(b *testing.B, viewers, ncams int) {
	svc, url := server(b, ncams)
	idleCPU, idleStart := cpuTime(), time.Now()
	time.Sleep(2 * time.Second)
	idlePct := float64(cpuTime()-idleCPU) / float64(time.Since(idleStart)) * 100

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LIVEBENCH_VIEWERS="+strconv.Itoa(viewers), "LIVEBENCH_CAMERAS="+strconv.Itoa(ncams),
		"LIVEBENCH_SECONDS="+strconv.Itoa(*seconds+8), "LIVEBENCH_URL="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReader(out)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			b.Fatalf("viewer child: %v", err)
		}
		if strings.TrimSpace(l) == "READY" {
			break
		}
	}
	time.Sleep(3 * time.Second) // warm-up: connections settle
	sent0 := map[string]uint64{}
	for _, s := range svc.Sessions() {
		sent0[s.ID] = s.BytesSent
	}
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(time.Duration(*seconds) * time.Second)
	cpuPct := float64(cpuTime()-cpu0) / float64(time.Since(t0)) * 100
	rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
	sess := svc.Sessions()
	elapsed := time.Since(t0)
	var rep childReport
	if err := json.NewDecoder(br).Decode(&rep); err != nil {
		b.Fatalf("viewer child report: %v", err)
	}
	cmd.Wait()

	var drops, sent []uint64
	var bytes uint64
	for _, s := range sess {
		drops = append(drops, s.Dropped)
		sent = append(sent, s.FramesSent)
		bytes += s.BytesSent - sent0[s.ID]
	}
	slices.Sort(drops)
	slices.Sort(rep.Frames)
	maxDrop, minRecv := uint64(0), uint64(0)
	if len(drops) > 0 {
		maxDrop = drops[len(drops)-1]
	}
	if len(rep.Frames) > 0 {
		minRecv = rep.Frames[0]
	}
	var sumDrop uint64
	for _, d := range drops {
		sumDrop += d
	}
	b.ReportMetric(cpuPct, "cpu%")
	b.ReportMetric(float64(rss)/1024, "rss-MB")
	b.ReportMetric(float64(sumDrop)/float64(max(len(drops), 1)), "drops/viewer")
	b.Logf("%d viewers over %d cameras, %d s: server CPU %.0f%% of one core (idle with cameras %.0f%%), RSS %d MB (peak %d MB); "+
		"sessions %d (failed to start %d); frames dropped per viewer mean %.1f max %d; frames received per viewer min %d median %d; "+
		"server sent %.1f Mbit/s in all",
		viewers, ncams, *seconds, cpuPct, idlePct, rss/1024, hwm/1024, len(sess), rep.Failed,
		float64(sumDrop)/float64(max(len(drops), 1)), maxDrop, minRecv, median(rep.Frames), float64(bytes)*8/1e6/elapsed.Seconds())
}

func median(v []uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}
