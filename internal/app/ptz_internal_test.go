package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"vigil/internal/onvif"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// settingsTable is a camera id → ONVIF settings table standing in for the
// registry (whose own tests cover storing and sealing them).
type settingsTable struct {
	mu sync.Mutex
	m  map[string][3]string
}

func (s *settingsTable) set(id, url, user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = [3]string{url, user, pass}
}

func (s *settingsTable) ONVIF(_ context.Context, id string) (string, string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok {
		return "", "", "", store.ErrNotFound
	}
	return v[0], v[1], v[2], nil
}

func wantProblem(t *testing.T, err error, status int, code string) {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok || pe.Status != status || pe.Code != code {
		t.Fatalf("error %v, want %d %s", err, status, code)
	}
}

// TestPTZResolverCache: the resolver connects once and reuses the handle;
// it reconnects when the settings change, when a command fails and when
// the handle is older than its TTL; it answers 501 without settings, 404
// for an unknown camera and 502 when the device cannot be reached. // MED-3
func TestPTZResolverCache(t *testing.T) {
	dev := onvif.NewSimServer(onvif.SimOptions{Username: "op", Password: "pw"})
	srv := httptest.NewServer(dev)
	defer srv.Close()
	devURL := srv.URL + "/onvif/device_service"
	tab := &settingsTable{m: map[string][3]string{}}
	tab.set("cam1", devURL, "op", "pw")
	tab.set("cam2", "", "", "")
	r := newPTZResolver(tab)
	clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	ctx := context.Background()

	stop := func() {
		t.Helper()
		ctl, err := r.PTZ(ctx, "cam1")
		if err != nil {
			t.Fatalf("resolve: %v", err)
		}
		if err := ctl.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	connects := func(want int) {
		t.Helper()
		if got := dev.Calls("GetProfiles"); got != want {
			t.Errorf("connections so far %d, want %d", got, want)
		}
	}
	stop()
	stop()
	stop()
	connects(1)
	if dev.Calls("Stop") != 3 {
		t.Errorf("stops served %d, want 3", dev.Calls("Stop"))
	}

	// New settings: the next command connects with them.
	tab.set("cam1", devURL, "op", "wrong")
	_, err := r.PTZ(ctx, "cam1")
	wantProblem(t, err, http.StatusBadGateway, "live.ptz_failed")
	tab.set("cam1", devURL, "op", "pw")
	stop()
	connects(2)

	// A failing command drops the handle.
	ctl, err := r.PTZ(ctx, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.GotoPreset(ctx, "no-such-preset"); err == nil {
		t.Fatal("goto an unknown preset succeeded")
	}
	stop()
	connects(3)

	// Past the TTL the handle is renewed.
	clock = clock.Add(r.ttl + time.Second)
	stop()
	connects(4)
	stop()
	connects(4)

	_, err = r.PTZ(ctx, "cam2")
	wantProblem(t, err, http.StatusNotImplemented, "live.ptz_unavailable")
	_, err = r.PTZ(ctx, "cam9")
	wantProblem(t, err, http.StatusNotFound, "registry.camera_not_found")

	// A device that does not answer fails within the connect timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // accepts nothing: connections hang
	tab.set("cam3", "http://"+ln.Addr().String()+"/onvif/device_service", "op", "pw")
	r.connectTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = r.PTZ(ctx, "cam3")
	wantProblem(t, err, http.StatusBadGateway, "live.ptz_failed")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("an unreachable device held the command for %v", d)
	}
}
