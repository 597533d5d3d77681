package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/pquerna/otp/totp"

	"vigil/internal/audit"
	"vigil/internal/identity"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

const testAdminPassword = "Vigil-Passw0rd"

type idEnv struct {
	t     *testing.T
	srv   *httptest.Server
	db    *store.DB
	log   *audit.Log
	svc   *identity.Service
	clock *idClock
	base  string // the server's URL, known before it starts
	admin *apiClient
}

// idClock is the service's clock, moved by tests while the server runs.
type idClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *idClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *idClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newIDEnv(t *testing.T, db *store.DB, tweak ...func(e *idEnv, o *identity.Options)) *idEnv {
	t.Helper()
	kr := storetest.Keyring(t, keyring.Standard)
	log := audit.New(db, kr)
	t.Cleanup(log.Close)
	e := &idEnv{t: t, db: db, log: log, clock: &idClock{t: time.Now()}}
	e.srv = httptest.NewUnstartedServer(nil)
	e.base = "http://" + e.srv.Listener.Addr().String()
	opts := identity.Options{Argon2: identity.Argon2Params{Time: 1, Memory: 1024, Threads: 1},
		SignInPerAddress: 1000, SignInPerUser: 1000, Now: e.clock.Now}
	for _, f := range tweak {
		f(e, &opts)
	}
	e.svc = identity.New(db, log, kr, opts)
	if _, err := e.svc.Bootstrap(context.Background(), identity.OnePassword(testAdminPassword)); err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = New(Deps{Ping: db.SQL().PingContext, Audit: log, Identity: e.svc, Keyring: kr,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.admin = e.client()
	if st, body := e.admin.signIn("admin", testAdminPassword, ""); st != 200 {
		t.Fatalf("admin sign-in: %d %v", st, body)
	}
	return e
}

// apiClient is a browser-like client: a cookie jar and the CSRF token.
type apiClient struct {
	e      *idEnv
	hc     *http.Client
	csrf   string
	bearer string
	lang   string
}

func (e *idEnv) client() *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, lang: "en"}
}

// do sends a JSON request and decodes the JSON answer.
func (c *apiClient) do(method, path string, body any) (int, map[string]any, http.Header) {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", c.lang)
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(raw), "$argon2id$") {
		c.e.t.Fatalf("%s %s: the answer carries a password hash", method, path)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp.Header
}

func (c *apiClient) signIn(user, pw, code string) (int, map[string]any) {
	body := map[string]any{"username": user, "password": pw}
	if code != "" {
		body["totp"] = code
	}
	st, m, _ := c.do("POST", "/api/v1/session", body)
	if st == 200 {
		c.csrf, _ = m["csrf"].(string)
	}
	return st, m
}

// wantProblem checks a problem answer: status, code, and a detail in the
// client's language.
func wantProblem(t *testing.T, what string, st int, m map[string]any, status int, code string) {
	t.Helper()
	if st != status || m["code"] != code {
		t.Fatalf("%s: got %d %v, want %d %s", what, st, m, status, code)
	}
	if d, _ := m["detail"].(string); d == "" || d == code {
		t.Fatalf("%s: no detail: %v", what, m)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestHTTPSignInSessionCSRF(t *testing.T) { // ACC-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db)
		anon := e.client()
		for _, lang := range []string{"en", "zh-CN"} {
			anon.lang = lang
			st, m := anon.signIn("admin", "Wrong-Pass-1", "")
			wantProblem(t, "wrong password ("+lang+")", st, m, 401, "auth.bad_credentials")
			if hasHan(m["detail"].(string)) != (lang == "zh-CN") {
				t.Fatalf("detail in the wrong language for %s: %s", lang, m["detail"])
			}
			st, m = anon.signIn("nobody", "Wrong-Pass-1", "")
			wantProblem(t, "unknown user", st, m, 401, "auth.bad_credentials")
		}
		st, m, _ := anon.do("GET", "/api/v1/session", nil)
		wantProblem(t, "anonymous session", st, m, 401, "auth.required")
		st, m, _ = anon.do("GET", "/api/v1/units", nil)
		wantProblem(t, "anonymous units", st, m, 401, "auth.required")

		// Cookie flags.
		c := e.client()
		b, _ := json.Marshal(map[string]string{"username": "admin", "password": testAdminPassword})
		resp, err := http.Post(e.srv.URL+"/api/v1/session", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var ck *http.Cookie
		for _, x := range resp.Cookies() {
			if x.Name == SessionCookie {
				ck = x
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || len(ck.Value) < 32 {
			t.Fatalf("session cookie %+v", ck)
		}

		st, m = c.signIn("admin", testAdminPassword, "")
		if st != 200 || m["csrf"] == "" || m["user"].(map[string]any)["username"] != "admin" {
			t.Fatalf("sign in: %d %v", st, m)
		}
		st, m, _ = c.do("GET", "/api/v1/session", nil)
		if st != 200 || m["csrf"] != c.csrf || len(m["permissions"].([]any)) != len(identity.BuiltinRoles[0].Permissions) || len(m["grants"].([]any)) != 1 {
			t.Fatalf("session: %d %v", st, m)
		}

		// A cookie-authenticated write without the CSRF header is refused.
		root := m["grants"].([]any)[0].(map[string]any)["scope_unit_id"].(string)
		unit := map[string]any{"parent_id": root, "name": "甲分局", "kind": "police", "division": "310107"}
		csrf := c.csrf
		c.csrf = ""
		st, m, _ = c.do("POST", "/api/v1/units", unit)
		wantProblem(t, "write without CSRF", st, m, 403, "auth.csrf")
		c.csrf = "wrong"
		st, m, _ = c.do("POST", "/api/v1/units", unit)
		wantProblem(t, "write with a wrong CSRF", st, m, 403, "auth.csrf")
		c.csrf = csrf
		st, m, _ = c.do("POST", "/api/v1/units", unit)
		if st != 201 || m["name"] != "甲分局" {
			t.Fatalf("create unit: %d %v", st, m)
		}
		es, _ := e.log.List(context.Background(), audit.Filter{Action: "unit.create", Limit: 1})
		if len(es) != 1 || es[0].Object != "unit:"+m["id"].(string) || es[0].Actor.Remote != "127.0.0.1" {
			t.Fatalf("audit of the creation: %+v", es)
		}

		st, _, _ = c.do("DELETE", "/api/v1/session", nil)
		if st != 204 {
			t.Fatalf("sign out: %d", st)
		}
		st, m, _ = c.do("GET", "/api/v1/session", nil)
		wantProblem(t, "after sign-out", st, m, 401, "auth.required")
	})
}

func TestHTTPRateLimit(t *testing.T) { // ACC-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db, func(_ *idEnv, o *identity.Options) { o.SignInPerAddress, o.SignInPerUser = 1000, 3 })
		c := e.client()
		c.signIn("admin", "Wrong-Pass-1", "")
		c.signIn("admin", "Wrong-Pass-1", "") // the setup's sign-in spent the first
		st, m, h := c.do("POST", "/api/v1/session", map[string]any{"username": "admin", "password": "x"})
		wantProblem(t, "fourth attempt", st, m, 429, "auth.rate_limited")
		if ra := h.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After %q", ra)
		}
	})
}

func TestHTTPUsersGrantsTokens(t *testing.T) { // ACC-1, ACC-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db)
		a := e.admin
		_, m, _ := a.do("GET", "/api/v1/units", nil)
		root := m["units"].([]any)[0].(map[string]any)["id"].(string)
		st, m, _ := a.do("POST", "/api/v1/units", map[string]any{"parent_id": root, "name": "甲分局", "kind": "police", "division": "310107"})
		if st != 201 {
			t.Fatalf("unit: %d %v", st, m)
		}
		unit := m["id"].(string)
		st, m, _ = a.do("POST", "/api/v1/units", map[string]any{"parent_id": root, "name": "x", "kind": "police", "division": "99"})
		wantProblem(t, "bad division", st, m, 400, "unit.bad_division")
		if m["field"] != "division" {
			t.Fatalf("field %v", m["field"])
		}
		st, m, _ = a.do("POST", "/api/v1/units", map[string]any{"parent_id": root, "name": "x", "colour": "red"})
		wantProblem(t, "unknown field", st, m, 400, "request.unknown_field")

		const idn = "11010519491231002X"
		st, m, _ = a.do("POST", "/api/v1/users", map[string]any{"username": "zhang", "name": "张三", "unit_id": unit,
			"id_number": idn, "password": "Initial-Pass1", "post": "民警"})
		if st != 201 || m["id_number_masked"] != "110***********002X" || m["must_change_password"] != true {
			t.Fatalf("create user: %d %v", st, m)
		}
		uid := m["id"].(string)
		for _, path := range []string{"/api/v1/users/" + uid, "/api/v1/users?q=张"} {
			_, m, _ = a.do("GET", path, nil)
			if b, _ := json.Marshal(m); strings.Contains(string(b), idn) || !strings.Contains(string(b), "zhang") {
				t.Fatalf("%s: %s", path, b)
			}
		}
		st, m, _ = a.do("PATCH", "/api/v1/users/"+uid, map[string]any{"phone": "13800000000"})
		if st != 200 || m["phone"] != "13800000000" {
			t.Fatalf("patch: %d %v", st, m)
		}
		_, m, _ = a.do("GET", "/api/v1/roles", nil)
		var watcher string
		for _, r := range m["roles"].([]any) {
			if r.(map[string]any)["name"] == "watcher" {
				watcher = r.(map[string]any)["id"].(string)
			}
		}
		st, m, _ = a.do("POST", "/api/v1/users/"+uid+"/grants", map[string]any{"role_id": watcher, "scope_unit_id": unit})
		if st != 201 || m["role_name"] != "watcher" {
			t.Fatalf("grant: %d %v", st, m)
		}
		grant := m["id"].(string)

		// The user signs in; a watcher cannot administer.
		z := e.client()
		z.lang = "zh-CN"
		if st, m := z.signIn("zhang", "Initial-Pass1", ""); st != 200 || m["must_change_password"] != true {
			t.Fatalf("user sign-in: %d %v", st, m)
		}
		st, m, _ = z.do("GET", "/api/v1/users", nil)
		wantProblem(t, "watcher lists users", st, m, 403, "policy.denied")
		if !hasHan(m["detail"].(string)) {
			t.Fatalf("zh-CN detail: %v", m["detail"])
		}
		st, _, _ = z.do("POST", "/api/v1/me/password", map[string]any{"old_password": "Initial-Pass1", "new_password": "Changed-Pass-2"})
		if st != 204 {
			t.Fatalf("change password: %d", st)
		}

		// Disable ends the session; enable; reset.
		st, m, _ = a.do("POST", "/api/v1/users/"+uid+"/disable", nil)
		if st != 200 || m["status"] != "disabled" {
			t.Fatalf("disable: %d %v", st, m)
		}
		st, m, _ = z.do("GET", "/api/v1/session", nil)
		wantProblem(t, "session of a disabled user", st, m, 401, "auth.required")
		if st, _, _ = a.do("POST", "/api/v1/users/"+uid+"/enable", nil); st != 200 {
			t.Fatalf("enable: %d", st)
		}
		st, m, _ = a.do("POST", "/api/v1/users/"+uid+"/reset-password", map[string]any{"new_password": "short"})
		wantProblem(t, "weak reset", st, m, 400, "password.too_short")
		if m["field"] != "new_password" {
			t.Fatalf("field %v", m["field"])
		}
		if st, _, _ = a.do("POST", "/api/v1/users/"+uid+"/reset-password", map[string]any{"new_password": "Reset-Pass-99"}); st != 204 {
			t.Fatalf("reset: %d", st)
		}
		_, m, _ = a.do("GET", "/api/v1/users/"+uid+"/grants", nil)
		if len(m["grants"].([]any)) != 1 {
			t.Fatalf("grants %v", m)
		}
		if st, _, _ = a.do("DELETE", "/api/v1/users/"+uid+"/grants/"+grant, nil); st != 204 {
			t.Fatalf("revoke: %d", st)
		}

		// API token: shown once, narrows, no CSRF, revocable.
		st, m, _ = a.do("POST", "/api/v1/tokens", map[string]any{"name": "对接", "scopes": []string{"admin.units"}})
		if st != 201 || !strings.HasPrefix(m["secret"].(string), "vgl_") {
			t.Fatalf("token: %d %v", st, m)
		}
		tokID := m["id"].(string)
		bot := e.client()
		bot.bearer = m["secret"].(string)
		st, m, _ = bot.do("POST", "/api/v1/units", map[string]any{"parent_id": root, "name": "乙分局", "kind": "building_unit", "division": "310108"})
		if st != 201 {
			t.Fatalf("token write without CSRF: %d %v", st, m)
		}
		st, m, _ = bot.do("GET", "/api/v1/users", nil)
		wantProblem(t, "token outside its scopes", st, m, 403, "policy.denied")
		_, m, _ = a.do("GET", "/api/v1/tokens", nil)
		if toks := m["tokens"].([]any); len(toks) != 1 || toks[0].(map[string]any)["secret"] != nil {
			t.Fatalf("token list %v", m)
		}
		if st, _, _ = a.do("DELETE", "/api/v1/tokens/"+tokID, nil); st != 204 {
			t.Fatalf("revoke token: %d", st)
		}
		st, m, _ = bot.do("GET", "/api/v1/units", nil)
		wantProblem(t, "revoked token", st, m, 401, "auth.bad_token")

		st, m, _ = a.do("GET", "/api/v1/oidc/login", nil)
		wantProblem(t, "OIDC off", st, m, 404, "oidc.disabled")
	})
}

func TestHTTPTOTP(t *testing.T) { // ACC-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db)
		st, m, _ := e.admin.do("POST", "/api/v1/me/totp", nil)
		if st != 200 || !strings.HasPrefix(m["url"].(string), "otpauth://totp/") {
			t.Fatalf("start: %d %v", st, m)
		}
		secret := m["secret"].(string)
		codeAt := func(t0 time.Time) string { c, _ := totp.GenerateCode(secret, t0); return c }
		st, m, _ = e.admin.do("POST", "/api/v1/me/totp/confirm", map[string]any{"code": "12345"})
		wantProblem(t, "bad code", st, m, 400, "totp.bad_code")
		if st, _, _ = e.admin.do("POST", "/api/v1/me/totp/confirm", map[string]any{"code": codeAt(e.clock.Now())}); st != 204 {
			t.Fatalf("confirm: %d", st)
		}
		c := e.client()
		st, m = c.signIn("admin", testAdminPassword, "")
		wantProblem(t, "no code", st, m, 401, "auth.totp_required")
		e.clock.Advance(30 * time.Second)
		if st, m = c.signIn("admin", testAdminPassword, codeAt(e.clock.Now())); st != 200 {
			t.Fatalf("with a code: %d %v", st, m)
		}
	})
}

func TestHTTPRolesAndUnits(t *testing.T) { // ACC-1, REG-11
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db)
		a := e.client() // roles are the security administrator's (AUD-2)
		if st, body := a.signIn("secadmin", testAdminPassword, ""); st != 200 {
			t.Fatalf("secadmin sign-in: %d %v", st, body)
		}
		st, m, _ := a.do("POST", "/api/v1/roles", map[string]any{"name": "ptz", "description": "云台", "permissions": []string{"camera.ptz", "camera.live"}})
		if st != 201 || len(m["permissions"].([]any)) != 2 || m["builtin"] != false {
			t.Fatalf("create role: %d %v", st, m)
		}
		role := m["id"].(string)
		st, m, _ = a.do("PATCH", "/api/v1/roles/"+role, map[string]any{"name": "ptz", "permissions": []string{"camera.ptz"}})
		if st != 200 || len(m["permissions"].([]any)) != 1 {
			t.Fatalf("patch role: %d %v", st, m)
		}
		_, m, _ = a.do("GET", "/api/v1/roles", nil)
		var builtin string
		for _, r := range m["roles"].([]any) {
			if r.(map[string]any)["name"] == "system_admin" {
				builtin = r.(map[string]any)["id"].(string)
			}
		}
		if len(m["permissions"].([]any)) != len(policy.AllPermissions) || builtin == "" {
			t.Fatalf("roles: %v", m)
		}
		st, m, _ = a.do("DELETE", "/api/v1/roles/"+builtin, nil)
		wantProblem(t, "delete a built-in role", st, m, 422, "role.builtin")
		if st, _, _ = a.do("DELETE", "/api/v1/roles/"+role, nil); st != 204 {
			t.Fatalf("delete role: %d", st)
		}

		_, m, _ = a.do("GET", "/api/v1/units", nil)
		root := m["units"].([]any)[0].(map[string]any)["id"].(string)
		_, m, _ = a.do("POST", "/api/v1/units", map[string]any{"parent_id": root, "name": "甲", "kind": "building_unit", "division": "440305", "contact": "李四", "phone": "0755-1234567"})
		unit := m["id"].(string)
		st, m, _ = a.do("PATCH", "/api/v1/units/"+unit, map[string]any{"name": "甲单位"})
		if st != 200 || m["name"] != "甲单位" || m["contact"] != "李四" {
			t.Fatalf("patch unit: %d %v", st, m)
		}
		if st, m, _ = a.do("GET", "/api/v1/units/"+unit, nil); st != 200 || m["kind"] != "building_unit" {
			t.Fatalf("get unit: %d %v", st, m)
		}
		st, m, _ = a.do("DELETE", "/api/v1/units/"+root, nil)
		wantProblem(t, "delete the root", st, m, 409, "unit.not_empty")
		if st, _, _ = a.do("DELETE", "/api/v1/units/"+unit, nil); st != 204 {
			t.Fatalf("delete unit: %d", st)
		}
		st, m, _ = a.do("GET", "/api/v1/units/"+unit, nil)
		wantProblem(t, "deleted unit", st, m, 404, "unit.not_found")

		st, m, _ = a.do("POST", "/api/v1/users/nope/reset-totp", nil)
		wantProblem(t, "reset TOTP of nobody", st, m, 404, "user.not_found")
	})
}
