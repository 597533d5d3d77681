package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/policy"
	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestIngestStateHTTP_MED1: a camera that never connects reads failing
// with its last error (before: nothing, the registry said "registered"),
// to those who may see the camera and to no one else. // MED-1
func TestIngestStateHTTP_MED1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		kr := storetest.Keyring(t, keyring.Standard)
		st, err := storage.NewLocal([]string{t.TempDir()}, -1)
		if err != nil {
			t.Fatal(err)
		}
		rec := record.New(media.NewHub(), st, record.NewIndex(db, kr), nil, record.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		recordtest.Camera(t, db, "camI", "metro", false)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "rtsp://" + ln.Addr().String() + "/x"
		ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			rec.RunCameras(ctx, db, func(context.Context, string) (string, error) { return dead, nil },
				rtsp.ClientOptions{Transport: rtsp.TransportUDP}, time.Minute)
		}()
		defer func() { cancel(); <-done }()

		subjects := map[string]*policy.Subject{
			"officer":  {UserID: "officer", Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.CameraLive}, ScopePath: "/u-camI/"}}},
			"outsider": {UserID: "outsider", Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.CameraAdmin}, ScopePath: "/other/"}}},
		}
		s := &Server{d: Deps{Ping: db.SQL().PingContext, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
		r := chi.NewRouter()
		r.Route("/api/v1", func(r chi.Router) {
			r.Use(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey, subjects[r.Header.Get("X-Test-Subject")])))
				})
			})
			s.ingestRoutes(r, IngestDeps{Recorder: rec})
		})
		srv := httptest.NewServer(r)
		defer srv.Close()
		get := func(who, path string, out any) int {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("X-Test-Subject", who)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			json.NewDecoder(resp.Body).Decode(out)
			return resp.StatusCode
		}
		var one record.Ingest
		deadline := time.Now().Add(10 * time.Second)
		for {
			if code := get("officer", "/api/v1/cameras/camI/ingest", &one); code != http.StatusOK {
				t.Fatalf("officer: %d", code)
			}
			if one.State == record.IngestFailing || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if one.State != record.IngestFailing || one.LastError == "" || one.Transport != "udp" {
			t.Fatalf("ingest of a dead camera: %+v", one)
		}
		var list struct{ Cameras []record.Ingest }
		if code := get("officer", "/api/v1/ingest", &list); code != http.StatusOK || len(list.Cameras) != 1 || list.Cameras[0].CameraID != "camI" {
			t.Fatalf("officer's list: %d %+v", code, list)
		}
		var other record.Ingest
		if code := get("outsider", "/api/v1/cameras/camI/ingest", &other); code != http.StatusNotFound {
			t.Fatalf("outsider read another unit's camera: %d %+v", code, other)
		}
		list.Cameras = nil
		if code := get("outsider", "/api/v1/ingest", &list); code != http.StatusOK || len(list.Cameras) != 0 {
			t.Fatalf("outsider's list: %d %+v", code, list)
		}
	})
}
