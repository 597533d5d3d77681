package httpapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes: every route the router serves is documented,
// and every documented route is served — no more, no less.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "post", "put", "patch", "delete":
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	s := New(Deps{})
	served := map[string]bool{}
	err = chi.Walk(s.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(strings.ReplaceAll(route, "/*/", "/"), "/")
		if !strings.HasPrefix(route, "/api/") {
			return nil
		}
		served[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes served but not documented in openapi/*.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("routes documented but not served:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(served) < 8 {
		t.Fatalf("only %d API routes found: the walk is broken", len(served))
	}
}

// TestOpenAPIFragmentsMatchTheirRoutes: each fragment documents exactly the
// routes of the area it describes, so a route is documented where its
// handlers live.
func TestOpenAPIFragmentsMatchTheirRoutes(t *testing.T) {
	s := &Server{}
	cases := []struct {
		file  string
		mount func(chi.Router)
	}{
		{"openapi/registry.yaml", func(r chi.Router) { s.registryRoutes(r, nil) }},
		{"openapi/recordings.yaml", func(r chi.Router) { s.recordingRoutes(r, RecordingDeps{}) }},
		{"openapi/live.yaml", func(r chi.Router) { s.liveRoutes(r, LiveDeps{}) }},
		{"openapi/ingest.yaml", func(r chi.Router) { s.ingestRoutes(r, IngestDeps{}) }},
	}
	for _, c := range cases {
		b, err := openapiFS.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]any `yaml:"paths"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var documented, served []string
		for p, ops := range doc.Paths {
			for m := range ops {
				if m != "parameters" {
					documented = append(documented, strings.ToUpper(m)+" "+p)
				}
			}
		}
		r := chi.NewRouter()
		r.Route("/api/v1", c.mount)
		chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			served = append(served, method+" "+strings.TrimSuffix(strings.ReplaceAll(route, "/*/", "/"), "/"))
			return nil
		})
		sort.Strings(documented)
		sort.Strings(served)
		if len(served) == 0 || strings.Join(documented, "\n") != strings.Join(served, "\n") {
			t.Errorf("%s documents:\n%v\nbut the routes served are:\n%v", c.file, documented, served)
		}
	}
}
