package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// AUD-1: the audit log is scoped like the access registry. An auditor of
// unit A once read entries about unit B's cameras.
func TestAuditLogScoped_AUD1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newMatrixEnv(t, db)
		st, b := e.call(sysAdm, "POST", "/units", map[string]string{"parent_id": "{city}", "name": "另一单位", "kind": "building_unit", "division": "310107"}, "")
		var other struct{ ID string }
		if json.Unmarshal(b, &other); st != 201 {
			t.Fatalf("unit B: %d %s", st, b)
		}
		cam := cameraBody("31010700001320000055", "school_gate")
		cam["unit_id"] = other.ID
		cam["name"] = "乙单位摄像机"
		if st, b := e.call(sysAdm, "POST", "/cameras", cam, ""); st != 201 {
			t.Fatalf("camera of B: %d %s", st, b)
		}
		read := func(role, query string) []map[string]any {
			t.Helper()
			st, b := e.call(role, "GET", "/audit?limit=1000"+query, nil, "")
			var out struct{ Entries []map[string]any }
			if json.Unmarshal(b, &out); st != 200 {
				t.Fatalf("%s reads the audit log: %d %s", role, st, b)
			}
			return out.Entries
		}
		objects := func(es []map[string]any) string {
			var s []string
			for _, x := range es {
				s = append(s, x["action"].(string)+" "+x["object"].(string))
			}
			return strings.Join(s, "\n")
		}
		all := objects(read(rootAuditor, ""))
		if !strings.Contains(all, "camera.register camera:31010700001320000055") || !strings.Contains(all, "camera.register camera:31010700001320000001") {
			t.Fatalf("the auditor over the root misses entries:\n%s", all)
		}
		mine := read(audtr, "")
		got := objects(mine)
		if strings.Contains(got, "31010700001320000055") || strings.Contains(got, "unit:"+other.ID) {
			t.Fatalf("the auditor of the school reads entries about unit B:\n%s", got)
		}
		if !strings.Contains(got, "camera.register camera:31010700001320000001") || !strings.Contains(got, "user:"+e.ids["user"]) {
			t.Fatalf("the auditor of the school misses its own unit's entries:\n%s", got)
		}
		// Filters cannot widen the scope.
		if es := read(audtr, "&object=camera:31010700001320000055"); len(es) != 0 {
			t.Fatalf("a filter on B's camera shows %d entries", len(es))
		}
		// LIKE wildcards in the action prefix are literal.
		if es := read(rootAuditor, "&action=%25."); len(es) != 0 {
			t.Fatalf("action=%%. matched %d entries", len(es))
		}
	})
}
