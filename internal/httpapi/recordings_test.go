package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/playback"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/retention"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// recordingsServer records a simulated camera for a few seconds and serves
// only the recording routes; X-Test-Subject picks the subject.
func recordingsServer(t *testing.T, db *store.DB) (*httptest.Server, []record.Segment) {
	t.Helper()
	p, err := profile.Load("national-baseline")
	if err != nil {
		t.Fatal(err)
	}
	kr := storetest.Keyring(t, keyring.Standard)
	l := audit.New(db, kr)
	t.Cleanup(l.Close)
	st, err := storage.NewLocal([]string{t.TempDir()}, -1)
	if err != nil {
		t.Fatal(err)
	}
	x := record.NewIndex(db, kr)
	hub := media.NewHub()
	recordtest.Camera(t, db, "camH", "metro", true)
	recordtest.Simulate(t, record.New(hub, st, x, l, record.Options{SegmentLength: 2 * time.Second}), hub, "camH", 5*time.Second)
	segs, err := x.List(context.Background(), "camH", time.Now().Add(-time.Hour), time.Now())
	if err != nil || len(segs) < 2 {
		t.Fatalf("recorded %d segments: %v", len(segs), err)
	}
	scope := []policy.Permission{policy.CameraPlay, policy.CameraExport, policy.CameraAdmin}
	subjects := map[string]*policy.Subject{
		"officer": {UserID: "officer", Name: "民警", UnitID: "u-camH", Grants: []policy.Grant{{Role: "r", Permissions: scope, ScopePath: "/u-camH/"}}},
		"admin":   {UserID: "admin", Name: "管理员", Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.AdminSystem}, ScopePath: "/"}}},
		"viewer":  {UserID: "viewer", Name: "值班员", UnitID: "u-camH", Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.CameraPlay}, ScopePath: "/u-camH/"}}},
		"fresh": {UserID: "officer", Name: "民警", UnitID: "u-camH", AuthenticatedAt: time.Now(),
			Grants: []policy.Grant{{Role: "r", Permissions: scope, ScopePath: "/u-camH/"}}},
		"outsider": {UserID: "outsider", Name: "外单位", UnitID: "other", Grants: []policy.Grant{{Role: "r", Permissions: scope, ScopePath: "/other/"}}},
	}
	s := &Server{d: Deps{Ping: db.SQL().PingContext, Audit: l, Profile: p, Keyring: kr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	deps := RecordingDeps{Playback: playback.NewService(x, st, policy.NewGate(db, l, p)), Retention: retention.New(x, st, l, p)}
	r := chi.NewRouter()
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				subj := subjects[r.Header.Get("X-Test-Subject")]
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey, subj)))
			})
		})
		s.recordingRoutes(r, deps)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, segs
}

func recCall(t *testing.T, srv *httptest.Server, who, method, path string, hdr map[string]string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("X-Test-Subject", who)
	req.Header.Set("Accept-Language", "en")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func problemCode(b []byte) (string, map[string]any) {
	var p struct {
		Code   string         `json:"code"`
		Params map[string]any `json:"params"`
	}
	json.Unmarshal(b, &p)
	return p.Code, p.Params
}

// TestRecordingsHTTP drives recordings, playback, retention and holds
// through HTTP. // RET-1, RET-2, RET-4, RET-5, ACC-3
func TestRecordingsHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		srv, segs := recordingsServer(t, db)
		start := segs[0].Start.Add(1300 * time.Millisecond)
		q := func(v url.Values) string { return v.Encode() }
		rng := q(url.Values{"start": {segs[0].Start.Add(-time.Minute).Format(time.RFC3339)}, "end": {time.Now().Add(time.Minute).Format(time.RFC3339)}})

		resp, b := recCall(t, srv, "officer", "GET", "/api/v1/cameras/camH/recordings?"+rng, nil, nil)
		var cov record.Coverage
		json.Unmarshal(b, &cov)
		if resp.StatusCode != 200 || len(cov.Spans) != 1 || cov.Spans[0].Segments < 2 || len(cov.Gaps) == 0 {
			t.Fatalf("recordings: %d %s", resp.StatusCode, b)
		}
		if resp, _ := recCall(t, srv, "outsider", "GET", "/api/v1/cameras/camH/recordings?"+rng, nil, nil); resp.StatusCode != 403 {
			t.Errorf("outsider listing: %d", resp.StatusCode)
		}

		// Deleting footage is refused and audited.
		resp, b = recCall(t, srv, "officer", "DELETE", "/api/v1/cameras/camH/recordings?"+rng, nil, nil)
		if code, _ := problemCode(b); resp.StatusCode != 403 || code != "retention.delete_refused" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("delete: %d %s", resp.StatusCode, b)
		}
		var n int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entries WHERE action = 'recording.delete' AND outcome = 'denied' AND actor_id = 'officer'`).Scan(&n)
		if n != 1 {
			t.Errorf("refused deletion audited %d times", n)
		}

		pb := url.Values{"start": {start.Format(time.RFC3339Nano)}, "duration": {"2"}}
		resp, b = recCall(t, srv, "officer", "GET", "/api/v1/cameras/camH/playback?"+q(pb), nil, nil)
		if code, _ := problemCode(b); resp.StatusCode != 400 || code != "policy.purpose_required" {
			t.Fatalf("playback without purpose: %d %s", resp.StatusCode, b)
		}
		pb.Set("purpose", "核查警情")
		resp, b = recCall(t, srv, "outsider", "GET", "/api/v1/cameras/camH/playback?"+q(pb), nil, nil)
		if code, _ := problemCode(b); resp.StatusCode != 403 || code != "policy.denied" {
			t.Fatalf("outsider playback: %d %s", resp.StatusCode, b)
		}
		resp, b = recCall(t, srv, "officer", "GET", "/api/v1/cameras/camH/playback?"+q(pb), nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" || len(b) < 100000 || string(b[4:8]) != "ftyp" ||
			resp.Header.Get("X-Vigil-Access-Record") == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("fmp4 playback: %d %v %d bytes", resp.StatusCode, resp.Header, len(b))
		}
		// The player's next Range request is the same access.
		resp, b = recCall(t, srv, "officer", "GET", "/api/v1/cameras/camH/playback?"+q(pb), map[string]string{"Range": "bytes=100-199"}, nil)
		if resp.StatusCode != 206 || len(b) != 100 || !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes 100-199/") {
			t.Fatalf("fmp4 range: %d %v %d bytes", resp.StatusCode, resp.Header, len(b))
		}
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM access_records WHERE user_id = 'officer' AND action = 'playback' AND purpose = '核查警情'`).Scan(&n)
		if n != 1 {
			t.Errorf("%d access records for 1 playback", n)
		}
		// A download is an export (ACC-4, ACC-5): the playback permission
		// alone is refused; an export needs a recent authentication, and
		// is refused naming the profile's unmet obligations.
		pb.Set("format", "mp4")
		for who, want := range map[string]string{"viewer": "policy.denied", "officer": "auth.reauth_required", "fresh": "policy.obligations_unmet"} {
			resp, b = recCall(t, srv, who, "GET", "/api/v1/cameras/camH/playback?"+q(pb), nil, nil)
			code, params := problemCode(b)
			if resp.StatusCode != 403 || code != want || resp.Header.Get("Content-Type") == "video/mp4" {
				t.Fatalf("mp4 download by %s: %d %s; want 403 %s", who, resp.StatusCode, b, want)
			}
			if want == "policy.obligations_unmet" && !strings.Contains(fmt.Sprint(params["obligations"]), "second_person_required") {
				t.Errorf("refusal does not name the second person: %s", b)
			}
		}
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM access_records WHERE action = 'export'`).Scan(&n)
		if n != 0 {
			t.Errorf("%d access records for refused downloads", n)
		}

		// Retention: below the anti-terror minimum refused with the article.
		resp, b = recCall(t, srv, "officer", "PUT", "/api/v1/cameras/camH/retention", nil, map[string]int{"days": 30})
		code, params := problemCode(b)
		if resp.StatusCode != 422 || code != "retention.below_minimum" || params["min"] != float64(90) || params["cite"] == "" {
			t.Fatalf("retention 30: %d %s", resp.StatusCode, b)
		}
		resp, b = recCall(t, srv, "officer", "PUT", "/api/v1/cameras/camH/retention", nil, map[string]int{"days": 100000})
		if code, _ := problemCode(b); resp.StatusCode != 422 || code != "retention.above_maximum" {
			t.Fatalf("retention 100000: %d %s", resp.StatusCode, b)
		}
		if resp, _ := recCall(t, srv, "viewer", "PUT", "/api/v1/cameras/camH/retention", nil, map[string]int{"days": 180}); resp.StatusCode != 403 {
			t.Fatalf("retention set by a viewer: %d", resp.StatusCode)
		}
		if resp, b := recCall(t, srv, "officer", "PUT", "/api/v1/cameras/camH/retention", nil, map[string]int{"days": 180}); resp.StatusCode != 200 ||
			!strings.Contains(string(b), `"days":180`) {
			t.Fatalf("retention 180: %d %s", resp.StatusCode, b)
		}

		// Holds.
		resp, b = recCall(t, srv, "officer", "POST", "/api/v1/holds", nil, map[string]any{"camera_id": "camH",
			"start": segs[0].Start, "end": segs[1].End, "reason": "刑事案件", "case_number": "A-1"})
		var h retention.Hold
		json.Unmarshal(b, &h)
		if resp.StatusCode != 201 || h.ID == "" {
			t.Fatalf("hold: %d %s", resp.StatusCode, b)
		}
		if resp, b := recCall(t, srv, "officer", "POST", "/api/v1/holds/"+h.ID+"/release", nil, nil); resp.StatusCode != 409 {
			t.Fatalf("early release: %d %s", resp.StatusCode, b)
		}
		if resp, b := recCall(t, srv, "officer", "GET", "/api/v1/holds?camera=camH", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(b), h.ID) {
			t.Fatalf("holds: %d %s", resp.StatusCode, b)
		}
		if resp, b := recCall(t, srv, "admin", "GET", "/api/v1/recordings/forecast", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(b), `"camH"`) {
			t.Fatalf("forecast: %d %s", resp.StatusCode, b)
		}
	})
}

// TestPlaybackHTTPWritesNoFile: playback is served from the segments —
// with no temporary file possible, a whole response and Range
// requests (start, middle, end) still come, and agree byte for byte.
// RET-4 (no footage outside storage)
func TestPlaybackHTTPWritesNoFile(t *testing.T) {
	// No temporary file can be made (even as root): TMPDIR lies under a
	// regular file.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv, segs := recordingsServer(t, db)
		t.Setenv("TMPDIR", filepath.Join(blocker, "tmp"))
		pb := url.Values{"start": {segs[0].Start.Add(300 * time.Millisecond).Format(time.RFC3339Nano)}, "duration": {"3"}, "purpose": {"核查"}}
		path := "/api/v1/cameras/camH/playback?" + pb.Encode()
		resp, whole := recCall(t, srv, "officer", "GET", path, nil, nil)
		if resp.StatusCode != 200 || len(whole) < 1000 || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("playback: %d %d bytes %s", resp.StatusCode, len(whole), whole[:min(len(whole), 300)])
		}
		n := len(whole)
		for _, r := range [][2]int{{0, 99}, {n / 2, n/2 + 4095}, {n - 500, n - 1}} {
			resp, b := recCall(t, srv, "officer", "GET", path, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", r[0], r[1])}, nil)
			if resp.StatusCode != 206 || !bytes.Equal(b, whole[r[0]:r[1]+1]) {
				t.Errorf("range %d-%d: %d, %d bytes, equal %v", r[0], r[1], resp.StatusCode, len(b), bytes.Equal(b, whole[r[0]:r[1]+1]))
			}
		}
	})
}
