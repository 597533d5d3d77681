package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	built := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>Vigil</title>")},
		"assets/app-abc1.js": {Data: []byte("console.log(1)")},
		"favicon.svg":        {Data: []byte("<svg/>")},
		".gitkeep":           {Data: nil},
	}
	empty := fstest.MapFS{".gitkeep": {Data: nil}}
	tests := []struct {
		name      string
		fs        fstest.MapFS
		method    string
		path      string
		status    int
		body      string
		cache     string
		typPrefix string
	}{
		{"index at root", built, "GET", "/", 200, "<title>Vigil</title>", "no-cache", "text/html"},
		{"client route gets index", built, "GET", "/users/42", 200, "<title>Vigil</title>", "no-cache", "text/html"},
		{"hashed asset cached long", built, "GET", "/assets/app-abc1.js", 200, "console.log(1)", "public, max-age=31536000, immutable", "text/javascript"},
		{"missing asset is 404", built, "GET", "/assets/app-old.js", 404, "404", "", "text/plain"},
		{"other static file", built, "GET", "/favicon.svg", 200, "<svg/>", "no-cache", "image/svg+xml"},
		{"dotfile not served", built, "GET", "/.gitkeep", 200, "<title>Vigil</title>", "no-cache", "text/html"},
		{"post refused", built, "POST", "/", 405, "method not allowed", "", "text/plain"},
		{"not built", empty, "GET", "/units", 503, "make run", "no-cache", "text/plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			handler(tc.fs).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tc.body)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tc.typPrefix) {
				t.Errorf("Content-Type %q, want prefix %q", got, tc.typPrefix)
			}
		})
	}
}

// The embedded bundle is what web/dist held when the package was compiled:
// the console when it was built, else the note on how to build it.
func TestHandlerEmbedded(t *testing.T) {
	_, statErr := os.Stat(filepath.Join("dist", "index.html"))
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/units", nil))
	switch {
	case statErr == nil && (rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="root"`)):
		t.Fatalf("dist is built but /units answered %d %.100q", rec.Code, rec.Body.String())
	case statErr != nil && (rec.Code != 503 || !strings.Contains(rec.Body.String(), "make run")):
		t.Fatalf("dist is not built but /units answered %d %.100q", rec.Code, rec.Body.String())
	}
}
