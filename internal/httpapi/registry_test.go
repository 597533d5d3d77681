package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/registry"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// registryServer serves only the registry routes; the subject is chosen by
// the X-Test-Subject header (the session middleware is tested elsewhere).
func registryServer(t *testing.T, db *store.DB) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct{ id, parent, path, kind string }{
		{"city", "", "/city/", "police"},
		{"putuo", "city", "/city/putuo/", "police"},
		{"school", "putuo", "/city/putuo/school/", "building_unit"},
	} {
		var parent any
		if u.parent != "" {
			parent = u.parent
		}
		if _, err := db.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1)`,
			u.id, parent, u.path, u.id, u.kind); err != nil {
			t.Fatal(err)
		}
	}
	p, err := profile.Load(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	kr := storetest.Keyring(t, keyring.Standard)
	l := audit.New(db, kr)
	t.Cleanup(l.Close)
	reg := registry.New(db, l, p, kr, registry.DirStore{Dir: t.TempDir()})
	subjects := map[string]*policy.Subject{
		"admin": {UserID: "admin", Name: "管理员", UnitID: "school", UnitName: "school", UnitKind: "building_unit",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.CameraAdmin}, ScopeUnitID: "school", ScopePath: "/city/putuo/school/"}}},
		"cop": {UserID: "cop", Name: "民警", UnitID: "putuo", UnitName: "putuo", UnitKind: "police",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.AdminUnits}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}},
	}
	s := &Server{d: Deps{Ping: db.SQL().PingContext, Audit: l, Profile: p, Keyring: kr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	r := chi.NewRouter()
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				subj := subjects[r.Header.Get("X-Test-Subject")]
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey, subj)))
			})
		})
		s.registryRoutes(r, reg)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

type client struct {
	t   *testing.T
	url string
}

func (c client) do(who, method, path, ctype string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	req.Header.Set("X-Test-Subject", who)
	req.Header.Set("Accept-Language", "en")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c client) json(who, method, path string, in any, wantStatus int, out any) []byte {
	c.t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	resp, b := c.do(who, method, path, "application/json", body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

func cameraBody(code, place string) map[string]any {
	return map[string]any{"code": code, "unit_id": "school", "name": "校门", "vendor": "海康威视", "model": "DS-2CD", "firmware": "V5",
		"type": "fixed", "lat": 31.25, "lon": 121.40, "address": "某路 1 号", "division": "310107", "height": 4, "azimuth": 90, "fov": 90,
		"range": 50, "place_type": place, "building_unit": "某校", "operating_unit": "某公司", "contact_name": "李", "contact_phone": "021-1",
		"funding": "government", "commissioned_on": "2026-01-01", "accepted_on": "2026-02-01", "public": true, "signage": true,
		"source_url": "rtsp://u:p@10.0.0.1/ch1"}
}

// TestRegistryHTTP drives the registry through HTTP: the refusal of a
// prohibited place as problem+json naming rule and article (REG-6), a file
// with GCJ-02 and no stream URL in the answer (REG-1), a dry-run import
// report (REG-4), the catalogue as GB/T 28181 XML, a system with an archive
// document checked by content (REG-10), and a filing submitted by the unit
// and accepted by the police, leaving the overdue list (REG-3).
func TestRegistryHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := client{t, registryServer(t, db).URL + "/api/v1"}
		var prob Problem
		resp, b := c.do("admin", "POST", "/cameras", "application/json", mustJSON(cameraBody("31010700001320000001", "toilet")))
		json.Unmarshal(b, &prob)
		if resp.StatusCode != 422 || resp.Header.Get("Content-Type") != "application/problem+json" || prob.Code != "registry.prohibited_place" ||
			!strings.Contains(prob.Detail, "REG-6") || !strings.Contains(prob.Detail, "toilet") || !strings.Contains(prob.Detail, "§") {
			t.Fatalf("prohibited place: %d %s", resp.StatusCode, b)
		}
		var cam registry.Camera
		b = c.json("admin", "POST", "/cameras", cameraBody("31010700001320000001", "school_gate"), 201, &cam)
		if cam.GCJ02 == nil || cam.Completeness != 94 || strings.Contains(string(b), "rtsp://") || !cam.HasSource {
			t.Errorf("camera %s", b)
		}
		c.json("admin", "POST", "/cameras", cameraBody("31010700001320000001", ""), 409, nil)
		c.json("cop", "GET", "/cameras/"+cam.ID, nil, 200, nil)
		var hist struct{ Changes []registry.Change }
		c.json("admin", "GET", "/cameras/"+cam.ID+"/history", nil, 200, &hist)
		if len(hist.Changes) != 1 {
			t.Errorf("history %+v", hist)
		}
		// Admission refused while incomplete (no site).
		resp, b = c.do("admin", "POST", "/cameras/"+cam.ID+"/admit", "", nil)
		if resp.StatusCode != 422 || !strings.Contains(string(b), "site_id") {
			t.Errorf("admit incomplete: %d %s", resp.StatusCode, b)
		}

		// Import dry run: one bad row reported with line and column.
		csv := "code,name,type\n31010700001320000002,东门,fixed\n31010700001320000003,西门,bullet\n"
		var rep registry.ImportReport
		resp, b = c.do("admin", "POST", "/cameras/import?unit_id=school&dry_run=true", "text/csv", []byte(csv))
		json.Unmarshal(b, &rep)
		if resp.StatusCode != 200 || len(rep.Problems) != 1 || rep.Problems[0].Line != 3 || rep.Problems[0].Column != "type" || rep.Problems[0].Cell != "C3" {
			t.Fatalf("dry run: %d %s", resp.StatusCode, b)
		}
		resp, _ = c.do("admin", "POST", "/cameras/import?unit_id=school", "text/csv", []byte(csv))
		if resp.StatusCode != 422 {
			t.Errorf("import with problems: %d", resp.StatusCode)
		}
		resp, b = c.do("admin", "POST", "/cameras/import?unit_id=school", "text/csv", []byte(strings.ReplaceAll(csv, "bullet", "dome")))
		json.Unmarshal(b, &rep)
		if resp.StatusCode != 200 || rep.Imported != 2 {
			t.Fatalf("import: %d %s", resp.StatusCode, b)
		}
		// Catalogue as GB/T 28181 Catalog XML, for the district police.
		resp, b = c.do("cop", "GET", "/catalogue?unit_id=putuo&format=xml&platform_id=31010700002000000001", "", nil)
		var cat struct {
			CmdType    string
			SumNum     int
			DeviceList struct {
				Num  int `xml:"Num,attr"`
				Item []struct{ DeviceID string }
			}
		}
		if err := xml.Unmarshal(b, &cat); err != nil || resp.StatusCode != 200 || cat.CmdType != "Catalog" || cat.SumNum != 3 || cat.DeviceList.Num != 3 {
			t.Fatalf("catalog xml: %d %v %s", resp.StatusCode, err, b)
		}
		resp, b = c.do("admin", "GET", "/catalogue?unit_id=school&format=csv", "", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "\ufeffcode,name,unit_id") || strings.Count(string(b), "\n") != 4 {
			t.Errorf("catalogue csv: %d %q", resp.StatusCode, b)
		}

		// A system, an archive document checked by content, a filing.
		var sys registry.System
		c.json("admin", "POST", "/systems", map[string]any{"unit_id": "school", "name": "校园监控系统", "in_use_on": "2026-01-02",
			"companies": []map[string]string{{"name": "某安防公司", "role": "construction"}}}, 201, &sys)
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		var at registry.Attachment
		resp, b = c.do("admin", "POST", "/systems/"+sys.ID+"/attachments?kind=acceptance&name=验收报告.pdf", "application/octet-stream", pdf)
		json.Unmarshal(b, &at)
		if resp.StatusCode != 201 || at.ContentType != "application/pdf" || at.Size != int64(len(pdf)) {
			t.Fatalf("attachment: %d %s", resp.StatusCode, b)
		}
		resp, b = c.do("admin", "POST", "/systems/"+sys.ID+"/attachments?kind=design&name=x.pdf", "application/pdf", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"))
		if resp.StatusCode != 422 || !strings.Contains(string(b), "registry.attachment_type") {
			t.Errorf("executable accepted as a document: %d %s", resp.StatusCode, b)
		}
		resp, b = c.do("cop", "GET", "/attachments/"+at.ID, "", nil)
		if resp.StatusCode != 200 || !bytes.Equal(b, pdf) {
			t.Errorf("attachment bytes: %d", resp.StatusCode)
		}
		var due struct{ Systems []registry.FilingDue }
		c.json("cop", "GET", "/filings/overdue?unit_id=putuo", nil, 200, &due)
		if len(due.Systems) != 1 || due.Systems[0].Status != "missing" || !due.Systems[0].Overdue {
			t.Fatalf("overdue before filing: %+v", due)
		}
		var f registry.Filing
		c.json("admin", "POST", "/filings", map[string]any{"system_id": sys.ID, "kind": "initial"}, 201, &f)
		if len(f.Content.Attachments) != 1 || f.Content.UnitName != "school" {
			t.Errorf("filing %+v", f)
		}
		c.json("admin", "POST", "/filings/"+f.ID+"/accept", nil, 403, nil) // the unit cannot accept its own filing
		c.json("cop", "POST", "/filings/"+f.ID+"/return", map[string]string{"reason": ""}, 400, nil)
		c.json("cop", "POST", "/filings/"+f.ID+"/accept", nil, 200, &f)
		if f.State != "accepted" || f.ReviewedBy != "cop" {
			t.Errorf("accepted %+v", f)
		}
		c.json("cop", "GET", "/filings/overdue?unit_id=putuo&all=true", nil, 200, &due)
		if len(due.Systems) != 0 {
			t.Errorf("overdue after acceptance: %+v", due)
		}
		// Coverage check: the camera registered above covers the planned sector's east half.
		var cov struct{ Overlap registry.Overlap }
		c.json("admin", "POST", "/coverage/check", map[string]any{"lat": 31.25, "lon": 121.40, "azimuth": 45, "fov": 90, "range": 50}, 200, &cov)
		if cov.Overlap.Share < 0.49 || cov.Overlap.Share > 0.51 || !cov.Overlap.Flagged {
			t.Errorf("coverage %+v", cov.Overlap)
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
