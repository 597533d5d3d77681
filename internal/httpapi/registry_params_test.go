package httpapi

import (
	"encoding/json"
	"testing"

	"vigil/internal/registry"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// REG-4: dry_run=<garbage> is refused naming the parameter; it once ran a
// real import. Boolean filters are as strict.
func TestImportDryRunGarbageRefused_REG4(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := client{t, registryServer(t, db).URL + "/api/v1"}
		csv := "code,name,type\n31010700001320000002,东门,fixed\n"
		for _, v := range []string{"yes", "dry", "%20"} {
			resp, b := c.do("admin", "POST", "/cameras/import?unit_id=school&dry_run="+v, "text/csv", []byte(csv))
			var p Problem
			json.Unmarshal(b, &p)
			if resp.StatusCode != 400 || p.Field != "dry_run" {
				t.Fatalf("dry_run=%s: %d %s", v, resp.StatusCode, b)
			}
		}
		var list struct{ Total int }
		c.json("admin", "GET", "/cameras", nil, 200, &list)
		if list.Total != 0 {
			t.Fatalf("a refused dry run imported %d cameras", list.Total)
		}
		for _, path := range []string{"/cameras?incomplete=maybe", "/moves?overdue=x", "/filings/overdue?all=x"} {
			resp, b := c.do("cop", "GET", path, "", nil)
			if resp.StatusCode != 400 {
				t.Errorf("%s: %d %s", path, resp.StatusCode, b)
			}
		}
		resp, b := c.do("admin", "POST", "/cameras/import?unit_id=school&dry_run=true", "text/csv", []byte(csv))
		var rep registry.ImportReport
		json.Unmarshal(b, &rep)
		if resp.StatusCode != 200 || !rep.DryRun {
			t.Fatalf("dry_run=true: %d %s", resp.StatusCode, b)
		}
	})
}

// REG-1: q is a literal substring: % and _ match only themselves.
func TestCameraSearchEscapesLike_REG1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := client{t, registryServer(t, db).URL + "/api/v1"}
		body := cameraBody("31010700001320000001", "school_gate")
		body["name"] = "东门"
		c.json("admin", "POST", "/cameras", body, 201, nil)
		body = cameraBody("31010700001320000002", "school_gate")
		body["name"] = "50%_折扣口"
		c.json("admin", "POST", "/cameras", body, 201, nil)
		for q, want := range map[string]int{"%25": 1, "_": 1, "%5C": 0, "%25_": 1, "东": 1, "": 2} {
			var list struct{ Total int }
			c.json("admin", "GET", "/cameras?q="+q, nil, 200, &list)
			if list.Total != want {
				t.Errorf("q=%s: %d cameras, want %d", q, list.Total, want)
			}
		}
	})
}
