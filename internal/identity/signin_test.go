package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func TestLockoutAfterFailures(t *testing.T) { // ACC-2
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.user(t, "zhang", f.root.ID, "")
		try := func(pw string) error {
			_, err := f.svc.SignIn(ctx, SignInInput{Username: "zhang", Password: pw, Remote: "192.0.2.9"})
			return err
		}
		for i := 1; i <= 4; i++ {
			if err := try("Wrong-Pass-1"); code(err) != "auth.bad_credentials" {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		// The same answer for a user that does not exist.
		if err := try2(f, "nobody", "Wrong-Pass-1"); code(err) != "auth.bad_credentials" {
			t.Fatalf("unknown user: %v", err)
		}
		err := try("Wrong-Pass-1")
		pe, _ := problem.As(err)
		if code(err) != "auth.locked" || pe.Params["until"] != f.clock.Now().Add(15*time.Minute).UTC().Format(time.RFC3339) {
			t.Fatalf("fifth failure: %v", err)
		}
		if e := f.lastAudit(t, "user.lock"); e.Actor.ID != audit.System.ID {
			t.Fatalf("lock audit %+v", e)
		}
		if e := f.lastAudit(t, "session.signin_failed"); e.Outcome != audit.Denied {
			t.Fatalf("failure audit %+v", e)
		}
		if err := try(userPassword); code(err) != "auth.locked" {
			t.Fatalf("the right password during the lockout: %v", err)
		}
		f.clock.Advance(14 * time.Minute)
		if err := try(userPassword); code(err) != "auth.locked" {
			t.Fatalf("after 14 minutes: %v", err)
		}
		f.clock.Advance(time.Minute + time.Second)
		if err := try(userPassword); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		// The counter restarted: four failures do not lock.
		for i := 0; i < 4; i++ {
			try("Wrong-Pass-1")
		}
		if err := try(userPassword); err != nil {
			t.Fatalf("success after four failures: %v", err)
		}
	})
}

func try2(f *fixture, user, pw string) error {
	_, err := f.svc.SignIn(context.Background(), SignInInput{Username: user, Password: pw, Remote: "192.0.2.9"})
	return err
}

func TestSignInRateLimit(t *testing.T) { // ACC-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *Options) { o.SignInPerAddress, o.SignInPerUser = 10, 5 })
		ctx := context.Background()
		// Per user: the sixth attempt within a minute is refused, from any address.
		for i := 0; i < 4; i++ { // the fixture's own sign-in spent one
			if _, err := f.svc.SignIn(ctx, SignInInput{Username: "admin", Password: adminPassword, Remote: "198.51.100.1"}); err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		_, err := f.svc.SignIn(ctx, SignInInput{Username: "admin", Password: adminPassword, Remote: "198.51.100.2"})
		pe, ok := problem.As(err)
		if !ok || pe.Status != 429 || pe.Code != "auth.rate_limited" || pe.Params["retry_after"].(int) < 1 || pe.Params["retry_after"].(int) > 12 {
			t.Fatalf("sixth attempt for one user: %v", err)
		}
		f.clock.Advance(12 * time.Second)
		if _, err := f.svc.SignIn(ctx, SignInInput{Username: "admin", Password: adminPassword, Remote: "198.51.100.3"}); err != nil {
			t.Fatalf("after the refill: %v", err)
		}
		// Per address: the eleventh attempt from one address is refused.
		for i := 0; i < 10; i++ {
			f.svc.SignIn(ctx, SignInInput{Username: "user" + string(rune('a'+i)), Password: "x", Remote: "203.0.113.5"})
		}
		_, err = f.svc.SignIn(ctx, SignInInput{Username: "userz", Password: "x", Remote: "203.0.113.5"})
		if code(err) != "auth.rate_limited" {
			t.Fatalf("eleventh attempt from one address: %v", err)
		}
	})
}

func TestTOTP(t *testing.T) { // ACC-2
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		_, subj := f.user(t, "zhang", f.root.ID, "")
		enr, err := f.svc.StartTOTP(ctx, subj)
		if err != nil || enr.Secret == "" {
			t.Fatal(err)
		}
		k, err := otp.NewKeyFromURL(enr.URL)
		if err != nil || k.Secret() != enr.Secret || k.AccountName() != "zhang" || k.Issuer() != "Vigil" {
			t.Fatalf("otpauth URL %s: %v", enr.URL, err)
		}
		var stored string
		f.db.QueryRow(ctx, `SELECT totp_secret_enc FROM users WHERE id = ?`, subj.UserID).Scan(&stored)
		if stored == "" || stored == enr.Secret {
			t.Fatalf("TOTP secret stored in the clear: %q", stored)
		}
		gen := func() string {
			c, err := totp.GenerateCode(enr.Secret, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if err := f.svc.ConfirmTOTP(ctx, subj, "000000"); code(err) != "totp.bad_code" && gen() != "000000" {
			t.Fatalf("wrong confirmation code: %v", err)
		}
		if err := f.svc.ConfirmTOTP(ctx, subj, gen()); err != nil {
			t.Fatal(err)
		}
		signIn := func(c string) error {
			_, err := f.svc.SignIn(ctx, SignInInput{Username: "zhang", Password: userPassword, TOTP: c})
			return err
		}
		if err := signIn(""); code(err) != "auth.totp_required" {
			t.Fatalf("without a code: %v", err)
		}
		// The code used to confirm is spent: replaying it fails.
		if err := signIn(gen()); code(err) != "auth.totp_invalid" {
			t.Fatalf("replayed code: %v", err)
		}
		f.clock.Advance(30 * time.Second)
		c := gen()
		if err := signIn(c); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		if err := signIn(c); code(err) != "auth.totp_invalid" {
			t.Fatalf("code replayed within its window: %v", err)
		}
		f.clock.Advance(30 * time.Second)
		if err := f.svc.DisableTOTP(ctx, subj, "12345"); code(err) != "totp.bad_code" {
			t.Fatalf("disable with a bad code: %v", err)
		}
		if err := f.svc.DisableTOTP(ctx, subj, gen()); err != nil {
			t.Fatal(err)
		}
		if err := signIn(""); err != nil {
			t.Fatalf("after disabling TOTP: %v", err)
		}
		if e := f.lastAudit(t, "totp.disable"); e.Details["by"] != "self" {
			t.Fatalf("audit %+v", e)
		}
		f.lastAudit(t, "totp.enrol")
	})
}

// TestSessionExpiry plants an idle session (AUD-2: server-side idle
// timeout, on an injected clock) and one past its lifetime.
func TestSessionExpiry(t *testing.T) { // ACC-2, AUD-2
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		open := func() string {
			s, err := f.svc.SignIn(ctx, SignInInput{Username: "admin", Password: adminPassword})
			if err != nil {
				t.Fatal(err)
			}
			return s.ID
		}
		auth := func(id string) error { _, _, err := f.svc.AuthenticateRequest(ctx, id, "", ""); return err }

		idle := open()
		f.clock.Advance(29 * time.Minute)
		if err := auth(idle); err != nil {
			t.Fatalf("29 minutes idle: %v", err)
		}
		f.clock.Advance(29 * time.Minute) // sliding: 29 minutes after the last use
		if err := auth(idle); err != nil {
			t.Fatalf("sliding idle timeout: %v", err)
		}
		f.clock.Advance(31 * time.Minute)
		if err := auth(idle); code(err) != "auth.session_expired" {
			t.Fatalf("31 minutes idle: %v", err)
		}
		var n int
		f.db.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE id_hash = ?`, hashOrEmpty(idle)).Scan(&n)
		if n != 0 {
			t.Fatal("the expired session was not deleted")
		}

		busy := open()
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			if err := auth(busy); err != nil {
				t.Fatalf("busy session at %v: %v", elapsed, err)
			}
			f.clock.Advance(20 * time.Minute)
		}
		f.clock.Advance(20 * time.Minute)
		if err := auth(busy); code(err) != "auth.session_expired" {
			t.Fatalf("after the absolute lifetime: %v", err)
		}

		stale, fresh := open(), open()
		f.clock.Advance(20 * time.Minute)
		auth(fresh)
		f.clock.Advance(11 * time.Minute)
		if n, err := f.svc.PruneSessions(ctx); err != nil || n < 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
		if auth(fresh) != nil || auth(stale) == nil {
			t.Fatal("prune removed the wrong sessions")
		}

		out := open()
		subj, _, _ := f.svc.AuthenticateRequest(ctx, out, "", "")
		if err := f.svc.SignOut(ctx, subj, out); err != nil {
			t.Fatal(err)
		}
		if err := auth(out); err == nil {
			t.Fatal("session works after sign-out")
		}
		f.lastAudit(t, "session.signout")
		if err := auth("not-a-session"); code(err) != "auth.session_expired" {
			t.Fatalf("unknown session: %v", err)
		}
	})
}

func TestAPITokens(t *testing.T) { // ACC-1
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		_, watcher := f.user(t, "watch", f.root.ID, RoleWatcher)
		if _, err := f.svc.CreateToken(ctx, watcher, TokenInput{Name: "x", Scopes: []policy.Permission{policy.CameraLive}}); code(err) != "policy.denied" {
			t.Fatalf("token without tokens.own: %v", err)
		}
		if _, err := f.svc.CreateToken(ctx, f.admin, TokenInput{Name: "nvr", Scopes: []policy.Permission{"camera.fly"}}); code(err) != "role.bad_permission" {
			t.Fatalf("unknown scope: %v", err)
		}
		past := f.clock.Now().Add(-time.Hour)
		if _, err := f.svc.CreateToken(ctx, f.admin, TokenInput{Name: "nvr", Scopes: []policy.Permission{policy.CameraLive}, ExpiresAt: &past}); code(err) != "token.expiry_past" {
			t.Fatalf("expiry in the past: %v", err)
		}
		exp := f.clock.Now().Add(48 * time.Hour)
		tok, err := f.svc.CreateToken(ctx, f.admin, TokenInput{Name: "大屏", Scopes: []policy.Permission{policy.CameraLive}, ExpiresAt: &exp})
		if err != nil || len(tok.Secret) < 60 || tok.Secret[:4] != TokenPrefix {
			t.Fatalf("token %+v %v", tok, err)
		}
		var stored string
		f.db.QueryRow(ctx, `SELECT token_hash FROM api_tokens WHERE id = ?`, tok.ID).Scan(&stored)
		if stored == tok.Secret || stored == "" {
			t.Fatal("token stored in the clear")
		}
		// A cookie beside the bearer is ignored; the token narrows to its scopes.
		subj, csrf, err := f.svc.AuthenticateRequest(ctx, "bogus-cookie", tok.Secret, "192.0.2.7")
		if err != nil || csrf != "" || subj.TokenID != tok.ID {
			t.Fatalf("bearer: %+v %q %v", subj, csrf, err)
		}
		if !subj.Can(policy.CameraLive, f.root.Path) || subj.Can(policy.AdminUsers, f.root.Path) || subj.Can(policy.CameraExport, "") {
			t.Fatalf("token scopes not applied: %v", subj.Permissions())
		}
		if _, err := f.svc.CreateUser(ctx, subj, UserInput{Username: "viatoken", Name: "x", UnitID: f.root.ID}); code(err) != "policy.denied" {
			t.Fatalf("a camera.live token created a user: %v", err)
		}
		// A token cannot mint a wider token: tokens.own is not in its scope.
		if _, err := f.svc.CreateToken(ctx, subj, TokenInput{Name: "w", Scopes: []policy.Permission{policy.AdminSystem}}); code(err) != "policy.denied" {
			t.Fatalf("token minted a token: %v", err)
		}
		// Last use is recorded.
		var used int64
		f.db.QueryRow(ctx, `SELECT last_used_at FROM api_tokens WHERE id = ?`, tok.ID).Scan(&used)
		if used != store.Micros(f.clock.Now()) {
			t.Fatalf("last_used_at %d", used)
		}
		list, _ := f.svc.ListTokens(ctx, f.admin)
		if len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("list %+v", list)
		}
		if err := f.svc.RevokeToken(ctx, watcher, tok.ID); code(err) != "token.not_found" {
			t.Fatalf("another user revoked the token: %v", err)
		}
		if err := f.svc.RevokeToken(ctx, f.admin, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.AuthenticateRequest(ctx, "", tok.Secret, ""); code(err) != "auth.bad_token" {
			t.Fatalf("revoked token: %v", err)
		}
		f.lastAudit(t, "token.revoke")

		tok2, _ := f.svc.CreateToken(ctx, f.admin, TokenInput{Name: "short", Scopes: []policy.Permission{policy.CameraLive}, ExpiresAt: &exp})
		f.clock.Advance(49 * time.Hour)
		if _, _, err := f.svc.AuthenticateRequest(ctx, "", tok2.Secret, ""); code(err) != "auth.bad_token" {
			t.Fatalf("expired token: %v", err)
		}
		if _, _, err := f.svc.AuthenticateRequest(ctx, "", "vgl_nonsense", ""); code(err) != "auth.bad_token" {
			t.Fatalf("unknown token: %v", err)
		}
	})
}

func TestRehashOnParameterChange(t *testing.T) { // ACC-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var before, after string
		f.db.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'admin'`).Scan(&before)
		stronger := Argon2Params{Time: 2, Memory: 2048, Threads: 1}
		svc := New(f.db, f.log, f.svc.kr, Options{Argon2: stronger, Now: f.clock.Now})
		if _, err := svc.SignIn(ctx, SignInInput{Username: "admin", Password: adminPassword}); err != nil {
			t.Fatal(err)
		}
		f.db.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'admin'`).Scan(&after)
		if after == before || !strings.HasPrefix(after, "$argon2id$v=19$m=2048,t=2,p=1$") {
			t.Fatalf("hash not upgraded: %s -> %s", before, after)
		}
		if ok, rehash := VerifyPassword(adminPassword, after, stronger); !ok || rehash {
			t.Fatalf("upgraded hash does not verify: %v %v", ok, rehash)
		}
	})
}

// ACC-2: after five wrong passwords a real user got auth.locked with an end
// time while an unknown name kept auth.bad_credentials — the answers told
// which accounts exist. Both are now answered alike, attempt by attempt.
func TestLockoutDoesNotEnumerateAccounts_ACC2(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.user(t, "zhang", f.root.ID, "")
		answer := func(user, pw string) string {
			_, err := f.svc.SignIn(ctx, SignInInput{Username: user, Password: pw, Remote: "192.0.2.9"})
			pe, ok := problem.As(err)
			if !ok {
				return fmt.Sprint(err)
			}
			return fmt.Sprintf("%d %s %v", pe.Status, pe.Code, pe.Params)
		}
		for i := 1; i <= 7; i++ {
			real, ghost := answer("zhang", "Wrong-Pass-1"), answer("nobody", "Wrong-Pass-1")
			if real != ghost {
				t.Fatalf("attempt %d: a real user is answered %q, an unknown name %q", i, real, ghost)
			}
			if i >= 5 && !strings.Contains(real, "auth.locked") {
				t.Fatalf("attempt %d: %s", i, real)
			}
		}
		// The right password during the lock: still alike.
		if real, ghost := answer("zhang", userPassword), answer("nobody", userPassword); real != ghost {
			t.Fatalf("right password while locked: %q vs %q", real, ghost)
		}
		f.clock.Advance(16 * time.Minute)
		if real, ghost := answer("zhang", "Wrong-Pass-1"), answer("nobody", "Wrong-Pass-1"); real != ghost || !strings.Contains(real, "auth.bad_credentials") {
			t.Fatalf("after the lock: %q vs %q", real, ghost)
		}
	})
}
