package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"vigil/internal/identity"
	"vigil/internal/identity/oidctest"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestHTTPOIDCSignIn runs the authorization-code flow as a browser does,
// against a real OpenID provider (zitadel/oidc's op): Vigil's login
// redirect, the provider's login form, the callback with the state cookie,
// and the session cookie that results. ACC-2.
func TestHTTPOIDCSignIn(t *testing.T) {
	p, err := oidctest.Start(
		oidctest.User{Subject: "sub-zhang", Username: "zhang", Password: "op-pass", Name: "张三"},
		oidctest.User{Subject: "sub-stranger", Username: "stranger", Password: "op-pass"},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newIDEnv(t, db, func(e *idEnv, o *identity.Options) {
			p.AllowRedirect(e.base + "/api/v1/oidc/callback")
			o.OIDC = &identity.OIDCConfig{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
				RedirectURL: e.base + "/api/v1/oidc/callback"}
		})
		_, m, _ := e.admin.do("GET", "/api/v1/units", nil)
		root := m["units"].([]any)[0].(map[string]any)["id"].(string)
		if st, m, _ := e.admin.do("POST", "/api/v1/users", map[string]any{"username": "zhang", "name": "张三", "unit_id": root}); st != 201 {
			t.Fatalf("create user: %d %v", st, m)
		}

		// browser signs in at the provider and comes back to Vigil; it stops
		// at the redirect to the console ("/").
		browser := func(user string) (*apiClient, *http.Response) {
			c := e.client()
			hc := &http.Client{Jar: c.hc.Jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
				if strings.HasPrefix(req.URL.String(), e.base+"/") && req.URL.Path == "/" {
					return http.ErrUseLastResponse
				}
				return nil
			}}
			resp, err := hc.Get(e.base + "/api/v1/oidc/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Request.URL.Path != oidctest.LoginPath {
				t.Fatalf("not at the provider's login page: %d %s", resp.StatusCode, resp.Request.URL)
			}
			id := resp.Request.URL.Query().Get("authRequestID")
			resp, err = hc.PostForm(p.Issuer+oidctest.LoginPath, url.Values{"id": {id}, "username": {user}, "password": {"op-pass"}})
			if err != nil {
				t.Fatal(err)
			}
			return c, resp
		}

		c, resp := browser("zhang")
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/" {
			t.Fatalf("callback answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		st, m, _ := c.do("GET", "/api/v1/session", nil)
		if st != 200 || m["user"].(map[string]any)["username"] != "zhang" || m["user"].(map[string]any)["oidc_linked"] != true {
			t.Fatalf("session after OIDC: %d %v", st, m)
		}

		_, resp = browser("stranger")
		var prob map[string]any
		json.NewDecoder(resp.Body).Decode(&prob)
		resp.Body.Close()
		if resp.StatusCode != 403 || prob["code"] != "auth.oidc_unknown_user" || prob["detail"] == "" {
			t.Fatalf("unknown subject: %d %v", resp.StatusCode, prob)
		}

		// A callback in a browser that did not start the sign-in is refused.
		other := e.client()
		st, m, _ = other.do("GET", "/api/v1/oidc/callback?state=abc&code=def", nil)
		wantProblem(t, "callback without the state cookie", st, m, 400, "auth.oidc_state")
	})
}
