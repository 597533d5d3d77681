package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

type liveCams struct{}

func (liveCams) GateCamera(_ context.Context, id string) (policy.Camera, error) {
	if id != "cam1" {
		return policy.Camera{}, fmt.Errorf("camera %s: %w", id, store.ErrNotFound)
	}
	return policy.Camera{ID: id, Name: "校门", UnitID: "putuo", UnitPath: "/city/putuo/"}, nil
}

func (liveCams) StreamName(id string) string { return id }

// liveTestServer serves the live routes to a fixed signed-in subject, over
// a simulated camera and a real gate.
func liveTestServer(t *testing.T) (*httptest.Server, *policy.Gate) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	for _, q := range []string{
		`INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES ('city', NULL, '/city/', 'city', 'police', 1, 1)`,
		`INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES ('putuo', 'city', '/city/putuo/', 'putuo', 'police', 1, 1)`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	p, err := profile.Load(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(db, storetest.Keyring(t, keyring.Standard))
	t.Cleanup(l.Close)
	gate := policy.NewGate(db, l, p)
	hub := media.NewHub()
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sim.Publish(sctx, hub, "cam1", sim.Options{Audio: media.PCMU}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if rd, err := hub.SubscribeWait(wctx, "cam1", media.ReaderOptions{}); err != nil {
		t.Fatal(err)
	} else {
		rd.Next(wctx)
		rd.Close()
	}
	svc, err := live.New(hub, gate, liveCams{}, live.Options{WebRTC: live.WebRTCOptions{Interfaces: []string{"lo"}, IncludeLoopback: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	subj := &policy.Subject{UserID: "u1", Name: "张三", UnitID: "putuo", UnitName: "普陀分局",
		Grants: []policy.Grant{{Role: "watcher", Permissions: []policy.Permission{policy.CameraLive, policy.CameraPTZ}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}}
	s := &Server{d: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	r := chi.NewRouter()
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey, subj)))
			})
		})
		s.liveRoutes(r, LiveDeps{Live: svc})
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, gate
}

// TestLiveHTTP: the WHEP, info, snapshot and PTZ routes over HTTP — status
// codes, content types, problem codes, and the registry. MED-2, ACC-3.
func TestLiveHTTP(t *testing.T) {
	srv, gate := liveTestServer(t)
	ctx := context.Background()

	// WHEP without a purpose: 400 problem+json policy.purpose_required.
	_, err := whepclient.Dial(ctx, srv.URL+"/api/v1/cameras/cam1/whep", whepclient.Options{Loopback: true})
	var he *whepclient.HTTPError
	if !errors.As(err, &he) || he.Status != 400 || he.ContentType != "application/problem+json" {
		t.Fatalf("WHEP without purpose: %v", err)
	}
	var pb Problem
	if err := json.Unmarshal(he.Body, &pb); err != nil || pb.Code != "policy.purpose_required" {
		t.Fatalf("problem: %s", he.Body)
	}

	// Wrong content type: 415.
	resp, err := http.Post(srv.URL+"/api/v1/cameras/cam1/whep?purpose=p", "text/plain", strings.NewReader("v=0"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain offer: %d", resp.StatusCode)
	}

	// A whole WHEP session: 201, Location, media, DELETE.
	c, err := whepclient.Dial(ctx, srv.URL+"/api/v1/cameras/cam1/whep?purpose=巡查", whepclient.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Location, srv.URL+"/api/v1/whep/") || !strings.Contains(c.Answer, "PCMU") {
		t.Fatalf("location %q, answer:\n%s", c.Location, c.Answer)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Units() < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c.Units() < 10 {
		t.Fatalf("only %d frames in 5 s", c.Units())
	}
	// Trickle: a candidate fragment is accepted, garbage is not.
	for _, tc := range []struct {
		body   string
		status int
	}{
		{"a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n", 204},
		{"hello\r\n", 400},
	} {
		req, _ := http.NewRequest(http.MethodPatch, c.Location, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("PATCH %q: %d, want %d", tc.body, resp.StatusCode, tc.status)
		}
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := gate.ListAccess(ctx, policy.AccessFilter{Camera: "cam1"})
	if err != nil || len(recs) != 1 || recs[0].Purpose != "巡查" || recs[0].EndedAt == nil {
		t.Fatalf("registry: %+v %v", recs, err)
	}
	// Deleting it again: 404.
	req, _ := http.NewRequest(http.MethodDelete, c.Location, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("second DELETE: %v %v", resp.StatusCode, err)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		ctype, code        string
	}{
		{"GET", "/api/v1/cameras/cam1/live/info", "", 200, "application/json", ""},
		{"GET", "/api/v1/cameras/nope/live/info", "", 404, "application/problem+json", "live.camera_not_found"},
		{"GET", "/api/v1/cameras/cam1/snapshot.jpg?purpose=取证", "", 200, "image/jpeg", ""},
		{"GET", "/api/v1/cameras/cam1/snapshot.jpg", "", 400, "application/problem+json", "policy.purpose_required"},
		{"GET", "/api/v1/cameras/cam1/live.mp4", "", 400, "application/problem+json", "policy.purpose_required"},
		{"POST", "/api/v1/cameras/cam1/ptz", `{"action":"spin"}`, 400, "application/problem+json", "live.ptz_invalid"},
		{"POST", "/api/v1/cameras/cam1/ptz", `{"action":"stop"}`, 501, "application/problem+json", "live.ptz_unavailable"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ctype || (tc.code != "" && !strings.Contains(string(b), `"code":"`+tc.code+`"`)) {
			t.Errorf("%s %s: %d %s %.200s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
}
