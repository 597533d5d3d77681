package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/app"
	"vigil/internal/config"
	"vigil/internal/store"
)

const adminPassword = "Vigil-Passw0rd-2026"

// startVigil starts a Vigil on a temporary data directory and checks that
// its binary embeds the built console.
func startVigil(t *testing.T) *app.App {
	t.Helper()
	consoleBuilt(t)
	return startWith(t, nil)
}

// consoleBuilt fails the test when web/dist holds no built console.
func consoleBuilt(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", "..", "web", "dist", "index.html")); err != nil {
		t.Fatalf("the web console is not built (%v): run `make web` (cd web && npm ci && npm run build) before the tests; `make test` does", err)
	}
}

// startWith starts a Vigil with cfg (nil: defaults) on a temporary data
// directory and checks that it serves the embedded console.
func startWith(t *testing.T, cfg *config.Config) *app.App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.Start(ctx, app.Options{
		Config: cfg, DataDir: t.TempDir(), Listen: "127.0.0.1:0", AdminPassword: adminPassword,
		Stdout: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("start vigil: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	res, err := http.Get(a.URL() + "/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="root"`) {
		t.Fatalf("GET / answered %d without the console (%.200s): the test binary embeds web/dist as it was when it was compiled; build the console first", res.StatusCode, body)
	}
	return a
}

// TestConsole drives the console in Chromium as the three first accounts
// (AUD-2): the system administrator signs in and creates a unit and a user
// in it; the security administrator grants that user the auditor role; the
// auditor finds both in the audit log, verifies its chain, and switches
// between Chinese and English; then as the
// new user: change the password set by the administrator, enrol an
// authenticator and sign in with it; and as that auditor, see the chain
// verification fail at the entry changed behind the system's back.
// ACC-1 (units, users, roles), ACC-2 (real-name users), AUD-1 (audit log
// with verification).
func TestConsole(t *testing.T) {
	start := time.Now()
	a := startVigil(t)
	b := newBrowser(t, "zh-CN")
	f := newConsoleFlow(a.URL(), "admin", adminPassword)
	f.signIn(b)
	f.createUnit(b)
	f.createUser(b)
	f.as(b, "secadmin", "nav-users")
	// The security administrator signed in more than 15 minutes ago: role
	// changes need the password again (AUD-2).
	if _, err := a.DB.Exec(context.Background(), `UPDATE sessions SET authenticated_at = ?`, store.Micros(time.Now().Add(-16*time.Minute))); err != nil {
		t.Fatal(err)
	}
	f.grantAuditor(b)
	f.checkAudit(b)
	f.switchLanguage(b)
	f.newUserSignsIn(b)
	f.enrolTOTPAndSignInAgain(b)
	tamperAndVerify(t, a, b, f)
	if ex := b.pageExceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
	t.Logf("console flow took %v", time.Since(start).Round(time.Millisecond))
}

// TestConsoleLanguageFollowsBrowser: before anyone chooses, the console
// speaks Chinese to browsers whose language starts with zh and English to
// the others, and tells the server through the lang cookie.
func TestConsoleLanguageFollowsBrowser(t *testing.T) {
	a := startVigil(t)
	tests := []struct {
		browserLang, button, cookie string
	}{
		{"en-US", "Sign in", "lang=en"},
		{"zh-TW", "登 录", "lang=zh-CN"},
		{"fr-FR", "Sign in", "lang=en"},
	}
	for _, tc := range tests {
		t.Run(tc.browserLang, func(t *testing.T) {
			b := newBrowser(t, tc.browserLang)
			b.do("open the console", chromedp.Navigate(a.URL()+"/"))
			b.waitText("signin-submit", tc.button)
			if c := eval[string](b, `document.cookie`); !strings.Contains(c, tc.cookie) {
				t.Errorf("cookie %q, want %s", c, tc.cookie)
			}
		})
	}
}

// tamperAndVerify changes the unit.create entry in the database, as someone
// with access to the disk might, and has the signed-in auditor verify the
// chain in the console: it names the changed entry (AUD-1).
func tamperAndVerify(t *testing.T, a *app.App, b *browser, f consoleFlow) {
	t.Helper()
	ctx := context.Background()
	var seq int64
	if err := a.DB.QueryRow(ctx, `SELECT seq FROM audit_entries WHERE action = 'unit.create' AND details LIKE ?`,
		"%"+f.unitName+"%").Scan(&seq); err != nil {
		t.Fatalf("find the unit.create entry: %v", err)
	}
	if _, err := a.DB.Exec(ctx, `UPDATE audit_entries SET object = 'unit:forged' WHERE seq = ?`, seq); err != nil {
		t.Fatalf("tamper with entry %d: %v", seq, err)
	}
	b.click("nav-audit")
	b.click("audit-verify")
	b.waitFor("the verification to fail", `!!document.querySelector('[data-testid="audit-verify-result"].ant-alert-error')`)
	got := eval[string](b, `document.querySelector('[data-testid="audit-verify-result"]').innerText`)
	if want := fmt.Sprintf("第 %d 条", seq); !strings.Contains(got, want) {
		t.Errorf("the failed verification reads %q, want it to name %s", got, want)
	}
	b.screenshot("audit-tampered")
}
