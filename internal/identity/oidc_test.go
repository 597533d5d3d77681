package identity

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"vigil/internal/identity/oidctest"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

const testRedirect = "http://127.0.0.1:1/api/v1/oidc/callback" // never contacted: the test stops at it

// providerLogin follows authURL to the provider's login form, signs in
// there as username/password, and returns the code and state the
// provider sends back to the redirect URL.
func providerLogin(t *testing.T, p *oidctest.Provider, authURL, username, password string) (code, state string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), testRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != oidctest.LoginPath {
		t.Fatalf("expected the provider's login page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err = hc.PostForm(p.Issuer+oidctest.LoginPath, url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatalf("provider login: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), testRedirect) {
		t.Fatalf("provider did not redirect back: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func TestOIDCSignIn(t *testing.T) { // ACC-2: sign-in through the government identity platform
	p, err := oidctest.Start(
		oidctest.User{Subject: "sub-zhang", Username: "zhang", Password: "op-pass", Name: "张三"},
		oidctest.User{Subject: "sub-stranger", Username: "stranger", Password: "op-pass", Name: "陌生人"},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.AllowRedirect(testRedirect)
	cfg := &OIDCConfig{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: testRedirect}

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *Options) { o.OIDC, o.Now = cfg, time.Now })
		ctx := context.Background()
		zhang, _ := f.user(t, "zhang", f.root.ID, RoleWatcher)

		signIn := func(user string) (Session, error) {
			authURL, state, err := f.svc.OIDCStart(ctx)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(authURL)
			q := u.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") != state {
				t.Fatalf("authorization URL lacks PKCE, nonce or state: %s", authURL)
			}
			code, gotState := providerLogin(t, p, authURL, user, "op-pass")
			if gotState != state {
				t.Fatalf("state came back as %q, want %q", gotState, state)
			}
			sess, err := f.svc.OIDCFinish(ctx, state, code, "192.0.2.50", "test")
			if err == nil {
				// The state is single-use.
				if _, err2 := f.svc.OIDCFinish(ctx, state, code, "", ""); code == "" || errCode(err2) != "auth.oidc_state" {
					t.Fatalf("state replay: %v", err2)
				}
			}
			return sess, err
		}

		// First sign-in: found by username, then linked.
		sess, err := signIn("zhang")
		if err != nil {
			t.Fatalf("OIDC sign-in of a known user: %v", err)
		}
		if sess.User.ID != zhang.ID {
			t.Fatalf("session for %s, want %s", sess.User.ID, zhang.ID)
		}
		subj, _, err := f.svc.AuthenticateRequest(ctx, sess.ID, "", "")
		if err != nil || subj.UserID != zhang.ID || len(subj.Grants) != 1 {
			t.Fatalf("OIDC session: %+v %v", subj, err)
		}
		var iss, sub, method string
		f.db.QueryRow(ctx, `SELECT oidc_issuer, oidc_subject FROM users WHERE id = ?`, zhang.ID).Scan(&iss, &sub)
		if iss != p.Issuer || sub != "sub-zhang" {
			t.Fatalf("link: %q %q", iss, sub)
		}
		f.db.QueryRow(ctx, `SELECT method FROM sessions WHERE user_id = ? ORDER BY created_at DESC LIMIT 1`, zhang.ID).Scan(&method)
		if method != "oidc" {
			t.Fatalf("session method %q", method)
		}
		if e := f.lastAudit(t, "user.oidc_link"); e.Object != "user:"+zhang.ID {
			t.Fatalf("link audit %+v", e)
		}

		// Second sign-in: found by (issuer, subject).
		if sess, err := signIn("zhang"); err != nil || sess.User.ID != zhang.ID {
			t.Fatalf("second OIDC sign-in: %v", err)
		}

		// An unknown subject is refused and audited.
		n := f.auditCount(t)
		if _, err := signIn("stranger"); errCode(err) != "auth.oidc_unknown_user" {
			t.Fatalf("unknown subject: %v", err)
		}
		if e := f.lastAudit(t, "session.signin_failed"); f.auditCount(t) != n+1 || e.Details["method"] != "oidc" {
			t.Fatalf("refusal audit %+v", e)
		}
		var users int
		f.db.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE username = 'stranger'`).Scan(&users)
		if users != 0 {
			t.Fatal("an unknown subject was created")
		}

		// Disabled users are refused even through OIDC.
		f.svc.SetUserDisabled(ctx, f.admin, zhang.ID, true)
		if _, err := signIn("zhang"); errCode(err) != "auth.disabled" {
			t.Fatalf("disabled user through OIDC: %v", err)
		}
	})
}

func TestOIDCProvisioning(t *testing.T) { // ACC-2
	p, err := oidctest.Start(oidctest.User{Subject: "sub-new", Username: "newcomer", Password: "op-pass", Name: "新人"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.AllowRedirect(testRedirect)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg := &OIDCConfig{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: testRedirect}
		f := newFixture(t, db, func(o *Options) { o.OIDC, o.Now = cfg, time.Now })
		ctx := context.Background()
		unit := f.unit(t, f.root.ID, "接入单位")
		cfg.ProvisionUnit = unit.ID
		authURL, state, err := f.svc.OIDCStart(ctx)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := providerLogin(t, p, authURL, "newcomer", "op-pass")
		sess, err := f.svc.OIDCFinish(ctx, state, code, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if sess.User.Username != "newcomer" || sess.User.Name != "新人" || sess.User.UnitID != unit.ID || !sess.User.OIDCLinked {
			t.Fatalf("provisioned %+v", sess.User)
		}
		subj, _, _ := f.svc.AuthenticateRequest(ctx, sess.ID, "", "")
		if len(subj.Grants) != 0 {
			t.Fatalf("a provisioned user got grants: %+v", subj.Grants)
		}
		if e := f.lastAudit(t, "user.create"); e.Details["oidc"] != true || e.Details["username"] != "newcomer" {
			t.Fatalf("provisioning audit %+v", e)
		}
	})
}

func TestOIDCDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if _, _, err := f.svc.OIDCStart(context.Background()); errCode(err) != "oidc.disabled" {
			t.Fatalf("OIDC off: %v", err)
		}
	})
}

func errCode(err error) string { return code(err) }
