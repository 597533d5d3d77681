package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestPprofLoopbackOnly: VIGIL_PPROF serves profiles on a loopback address
// and refuses any other, since profiles expose the process's memory.
func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		t.Setenv("VIGIL_PPROF", addr)
		if stop, err := startPprof(io.Discard); err == nil {
			stop()
			t.Errorf("VIGIL_PPROF=%q accepted, want refused", addr)
		}
	}

	t.Setenv("VIGIL_PPROF", "")
	stop, err := startPprof(io.Discard)
	if err != nil {
		t.Fatalf("unset VIGIL_PPROF: %v", err)
	}
	stop()

	t.Setenv("VIGIL_PPROF", "127.0.0.1:0")
	var log strings.Builder
	stop, err = startPprof(&log)
	if err != nil {
		t.Fatalf("VIGIL_PPROF=127.0.0.1:0: %v", err)
	}
	defer stop()
	url := regexp.MustCompile(`http://\S+/debug/pprof/`).FindString(log.String())
	if url == "" {
		t.Fatalf("no pprof address announced: %q", log.String())
	}
	res, err := http.Get(url + "heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET heap profile: %s", res.Status)
	}
}
