package httpapi

import (
	"strings"
	"testing"
	"time"

	"vigil/internal/identity"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// The security auditor alone reads the audit log, and no route lets anyone
// alter it (三员分立, AUD-2). Planted: the system and the security
// administrators reading it, and the auditor deleting or rewriting it.
func TestHTTPOnlyAuditorReadsAudit_AUD2(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db)
		sec, aud := e.client(), e.client()
		for name, c := range map[string]*apiClient{"secadmin": sec, "auditor": aud} {
			if st, m := c.signIn(name, testAdminPassword, ""); st != 200 {
				t.Fatalf("%s sign-in: %d %v", name, st, m)
			}
		}
		for name, c := range map[string]*apiClient{"admin": e.admin, "secadmin": sec} {
			st, m, _ := c.do("GET", "/api/v1/audit", nil)
			wantProblem(t, name+" reads the audit log", st, m, 403, "policy.denied")
			st, m, _ = c.do("POST", "/api/v1/audit/verify", nil)
			wantProblem(t, name+" verifies the audit log", st, m, 403, "policy.denied")
		}
		if st, m, _ := aud.do("GET", "/api/v1/audit?limit=5", nil); st != 200 || len(m["entries"].([]any)) == 0 {
			t.Fatalf("auditor reads the audit log: %d %v", st, m)
		}
		for _, method := range []string{"DELETE", "PUT", "PATCH", "POST"} {
			if st, _, _ := aud.do(method, "/api/v1/audit", map[string]any{}); st != 405 {
				t.Errorf("%s /api/v1/audit by the auditor: %d, want 405", method, st)
			}
		}
	})
}

// Planted: a grant by a session signed in 16 minutes ago, refused with
// auth.reauth_required in both languages until POST /auth/reauth (AUD-2).
func TestHTTPReauthForRoleChanges_AUD2(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db)
		sec := e.client()
		if st, m := sec.signIn("secadmin", testAdminPassword, ""); st != 200 {
			t.Fatalf("secadmin sign-in: %d %v", st, m)
		}
		_, m, _ := sec.do("GET", "/api/v1/session", nil)
		root := m["grants"].([]any)[0].(map[string]any)["scope_unit_id"].(string)
		if _, err := time.Parse(time.RFC3339, m["authenticated_at"].(string)); err != nil {
			t.Fatalf("session authenticated_at: %v", m["authenticated_at"])
		}
		st, m, _ := e.admin.do("POST", "/api/v1/users", map[string]any{"username": "grantee", "name": "授权对象", "unit_id": root, "password": "Initial-Pass1"})
		if st != 201 {
			t.Fatalf("create user: %d %v", st, m)
		}
		user := m["id"].(string)
		var watcher string
		_, m, _ = sec.do("GET", "/api/v1/roles", nil)
		for _, r := range m["roles"].([]any) {
			if r.(map[string]any)["name"] == identity.RoleWatcher {
				watcher = r.(map[string]any)["id"].(string)
			}
		}
		grant := map[string]any{"role_id": watcher, "scope_unit_id": root}
		e.clock.Advance(identity.ReauthWindow + time.Minute)
		for _, lang := range []string{"en", "zh-CN"} {
			sec.lang = lang
			st, m, _ = sec.do("POST", "/api/v1/users/"+user+"/grants", grant)
			wantProblem(t, "grant without re-authentication ("+lang+")", st, m, 403, "auth.reauth_required")
			if d, _ := m["detail"].(string); (lang == "zh-CN") != strings.Contains(d, "重新验证") {
				t.Errorf("%s detail %q", lang, d)
			}
		}
		st, m, _ = sec.do("POST", "/api/v1/auth/reauth", map[string]any{"password": "not-it"})
		wantProblem(t, "re-authentication with a wrong password", st, m, 400, "password.wrong_current")
		if st, m, _ = sec.do("POST", "/api/v1/auth/reauth", map[string]any{"password": testAdminPassword}); st != 200 || m["authenticated_at"] == nil {
			t.Fatalf("re-authentication: %d %v", st, m)
		}
		if st, m, _ = sec.do("POST", "/api/v1/users/"+user+"/grants", grant); st != 201 {
			t.Fatalf("grant after re-authentication: %d %v", st, m)
		}
	})
}
