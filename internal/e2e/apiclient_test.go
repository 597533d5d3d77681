package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
)

// apiClient is a signed-in session of the HTTP API, for the setup a test
// needs before the browser starts (units, users, grants) and for checks
// behind the console's back.
type apiClient struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

// signInAPI signs in as username and keeps the session cookie and CSRF token.
func signInAPI(t *testing.T, base, username, password string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: base, hc: &http.Client{Jar: jar}}
	var ans struct {
		CSRF string `json:"csrf"`
	}
	c.do("POST", "/api/v1/session", map[string]string{"username": username, "password": password}, &ans)
	if ans.CSRF == "" {
		t.Fatalf("sign in %s: no CSRF token in the answer", username)
	}
	c.csrf = ans.CSRF
	return c
}

// do sends a JSON request and decodes a JSON answer into out (if not nil);
// any status but 2xx fails the test.
func (c *apiClient) do(method, path string, in, out any) {
	c.t.Helper()
	if code, body := c.try(method, path, in, out); code/100 != 2 {
		c.t.Fatalf("%s %s: %d %s", method, path, code, body)
	}
}

// try is do that returns the status and the body instead of failing.
func (c *apiClient) try(method, path string, in, out any) (int, string) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %.200s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, string(b)
}

// id creates something with POST and returns the id of the answer.
func (c *apiClient) id(path string, in any) string {
	c.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	c.do("POST", path, in, &out)
	if out.ID == "" {
		c.t.Fatalf("POST %s: no id in the answer", path)
	}
	return out.ID
}

// roleID returns the id of the role named name.
func (c *apiClient) roleID(name string) string {
	c.t.Helper()
	var out struct {
		Roles []struct{ ID, Name string } `json:"roles"`
	}
	c.do("GET", "/api/v1/roles", nil, &out)
	for _, r := range out.Roles {
		if r.Name == name {
			return r.ID
		}
	}
	c.t.Fatalf("no role %s", name)
	return ""
}

// rootUnit returns the id of the unit without a parent.
func (c *apiClient) rootUnit() string {
	c.t.Helper()
	var out struct {
		Units []struct {
			ID       string  `json:"id"`
			ParentID *string `json:"parent_id"`
		} `json:"units"`
	}
	c.do("GET", "/api/v1/units", nil, &out)
	for _, u := range out.Units {
		if u.ParentID == nil || *u.ParentID == "" {
			return u.ID
		}
	}
	c.t.Fatal("no root unit")
	return ""
}

// newUser creates a user in unit with role over scope and sets their own
// password (an administrator's initial password must be changed first).
func (c *apiClient) newUser(username, name, unit, role, scope, password string) {
	c.t.Helper()
	const initial = "Initial-Passw0rd-42"
	uid := c.id("/api/v1/users", map[string]any{"username": username, "name": name, "unit_id": unit, "password": initial,
		"standing_purpose": "辖区视频监控备案管理"})
	c.do("POST", fmt.Sprintf("/api/v1/users/%s/grants", uid), map[string]string{"role_id": c.roleID(role), "scope_unit_id": scope}, nil)
	u := signInAPI(c.t, c.base, username, initial)
	u.do("POST", "/api/v1/me/password", map[string]string{"old_password": initial, "new_password": password}, nil)
}
