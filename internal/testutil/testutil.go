// Package testutil holds helpers shared by Vigil's tests: locating the
// third-party peers (ffmpeg, ffprobe, Chromium, VLC, GStreamer, PostgreSQL)
// that tests run against, and scratch directories.
//
// A missing peer fails the test: `make test` installs every peer, so a peer
// that is not there is a broken setup, never a reason to pass by skipping.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of the named program, failing the test when it is
// not installed.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed; `make deps` (or `make test`) installs the test peers: %v", name, err)
	}
	return p
}

// Chromium returns the path of Debian's Chromium, failing the test when it
// is missing. VIGIL_CHROMIUM overrides the path.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VIGIL_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("chromium is not installed; `make deps` installs it")
	return ""
}
