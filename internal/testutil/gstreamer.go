package testutil

import (
	"bufio"
	_ "embed"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

//go:embed gst_rtsp_server.py
var gstRTSPServer []byte

// GStreamerRTSP runs GStreamer's RTSP server — a third-party peer — serving
// each mount (e.g. "h264") from an elementary-stream file, looped, and
// returns its host:port. It stops when the test ends; a missing GStreamer
// fails the test.
func GStreamerRTSP(t testing.TB, mounts map[string]string) string {
	t.Helper()
	py := Tool(t, "/usr/bin/python3") // Debian's: the gi bindings live there
	if out, err := exec.Command(py, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')").CombinedOutput(); err != nil {
		t.Fatalf("GStreamer RTSP server bindings missing (apt-get install gir1.2-gst-rtsp-server-1.0 python3-gi): %v\n%s", err, out)
	}
	script := filepath.Join(t.TempDir(), "gst_rtsp_server.py")
	if err := os.WriteFile(script, gstRTSPServer, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	args := []string{script, port}
	names := make([]string, 0, len(mounts))
	for m := range mounts {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		abs, err := filepath.Abs(mounts[m])
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, m+"="+abs)
	}
	cmd := exec.Command(py, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "READY" {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("GStreamer RTSP server exited before READY")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("GStreamer RTSP server not ready in 15 s")
	}
	return "127.0.0.1:" + port
}
