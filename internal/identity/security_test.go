package identity

import (
	"context"
	"testing"
	"time"

	"vigil/internal/policy"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// The first start creates one account per duty, each holding exactly one,
// and only the auditor reads the audit log (三员分立, AUD-2).
func TestFirstAccountsSeparateDuties_AUD2(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		want := map[string]string{"admin": DutySystem, "secadmin": DutySecurity, "auditor": DutyAudit}
		for name, subj := range map[string]*policy.Subject{"admin": f.admin, "secadmin": f.sec, "auditor": f.aud} {
			ds, err := userDuties(ctx, f.db, subj.UserID)
			if err != nil || len(ds) != 1 || ds[0] != want[name] {
				t.Errorf("%s holds duties %v (%v), want [%s]", name, ds, err, want[name])
			}
			if got := subj.Can(policy.AuditRead, ""); got != (name == "auditor") {
				t.Errorf("%s can read the audit log: %v", name, got)
			}
		}
		for _, r := range BuiltinRoles {
			if hasPermission(r.Permissions, policy.AuditRead) && r.Name != RoleAuditor {
				t.Errorf("built-in role %s carries audit.read", r.Name)
			}
		}
	})
}

// Planted: grants and roles that would give one account two duties.
func TestNoAccountCombinesDuties_AUD2(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		other, _ := f.user(t, "clerk", f.root.ID, "")
		cases := []struct {
			name string
			do   func() error
			code string
		}{
			{"auditor role to the system administrator", func() error {
				_, err := f.svc.AddGrant(ctx, f.sec, f.admin.UserID, f.roleID(t, RoleAuditor), f.root.ID)
				return err
			}, "grant.duty_conflict"},
			{"system_admin role to the auditor", func() error {
				_, err := f.svc.AddGrant(ctx, f.sec, f.aud.UserID, f.roleID(t, RoleSystemAdmin), f.root.ID)
				return err
			}, "grant.duty_conflict"},
			{"security_admin role to the system administrator", func() error {
				_, err := f.svc.AddGrant(ctx, f.sec, f.admin.UserID, f.roleID(t, RoleSecurityAdmin), f.root.ID)
				return err
			}, "grant.duty_conflict"},
			{"a user created by the CLI with two duties", func() error {
				return f.svc.CreateUserCLI(ctx, "twohats", "两职", "", "Two-Hats-Pass1", []string{RoleSystemAdmin, RoleAuditor})
			}, "grant.duty_conflict"},
			{"a defined role carrying audit.read", func() error {
				_, err := f.svc.CreateRole(ctx, f.sec, RoleInput{Name: "peek", Permissions: []policy.Permission{policy.AuditRead}})
				return err
			}, "role.duty_reserved"},
			{"the system administrator grants the auditor role (audit.read not held)", func() error {
				_, err := f.svc.AddGrant(ctx, f.admin, other.ID, f.roleID(t, RoleAuditor), f.root.ID)
				return err
			}, "policy.denied"},
		}
		for _, c := range cases {
			n := f.auditCount(t)
			if err := c.do(); code(err) != c.code {
				t.Errorf("%s: got %v, want %s", c.name, err, c.code)
			}
			if f.auditCount(t) != n {
				t.Errorf("%s: refused, yet an audit entry was written", c.name)
			}
		}
		// The security administrator assigns a duty to an account without one.
		if _, err := f.svc.AddGrant(ctx, f.sec, other.ID, f.roleID(t, RoleAuditor), f.root.ID); err != nil {
			t.Fatalf("security administrator granting the auditor role to a plain user: %v", err)
		}
		if s := f.signIn(t, "clerk", userPassword); !s.Can(policy.AuditRead, "") {
			t.Fatal("the new auditor cannot read the audit log")
		}
	})
}

// Planted: a password reused within the history.
func TestPasswordHistory_AUD2(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *Options) { o.PasswordHistory = 3 })
		ctx := context.Background()
		_, s := f.user(t, "hist", f.root.ID, "") // Initial-Pass1, then userPassword
		pw := []string{userPassword, "Second-Pass2", "Third-Pass33", "Fourth-Pass4"}
		change := func(from, to string) error { return f.svc.ChangePassword(ctx, s, from, to, "") }
		if err := change(pw[0], pw[1]); err != nil {
			t.Fatal(err)
		}
		if err := change(pw[1], pw[0]); code(err) != "password.reused" {
			t.Fatalf("reusing the previous password: %v", err)
		}
		if err := change(pw[1], "Initial-Pass1"); code(err) != "password.reused" {
			t.Fatalf("reusing the third-last password: %v", err)
		}
		if err := change(pw[1], pw[2]); err != nil {
			t.Fatal(err)
		}
		if err := change(pw[2], pw[3]); err != nil {
			t.Fatal(err)
		}
		// Four passwords later, the first one is out of the history of 3.
		if err := change(pw[3], "Initial-Pass1"); err != nil {
			t.Fatalf("a password older than the history: %v", err)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM password_history WHERE user_id = ?`, s.UserID).Scan(&n)
		if n != 3 {
			t.Fatalf("%d history rows kept, want 3", n)
		}
	})
}

// Planted: an expired password signing in. The session opens, carries no
// permission and must change the password; the change restores them.
func TestPasswordExpiry_AUD2(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *Options) { o.PasswordMaxAge = 90 * 24 * time.Hour })
		ctx := context.Background()
		f.user(t, "old", f.root.ID, RoleWatcher)
		f.clock.Advance(89 * 24 * time.Hour)
		if s := f.signIn(t, "old", userPassword); len(s.Permissions()) == 0 {
			t.Fatal("a password of 89 days counts as expired")
		}
		f.clock.Advance(24 * time.Hour)
		sess, err := f.svc.SignIn(ctx, SignInInput{Username: "old", Password: userPassword})
		if err != nil {
			t.Fatal(err)
		}
		if !sess.MustChangePassword || !sess.User.PasswordExpired {
			t.Fatalf("expired password: must change %v, expired %v", sess.MustChangePassword, sess.User.PasswordExpired)
		}
		s, _, err := f.svc.AuthenticateRequest(ctx, sess.ID, "", "")
		if err != nil || len(s.Permissions()) != 0 || s.Can(policy.CameraLive, "") {
			t.Fatalf("a session with an expired password holds %v (%v)", s.Permissions(), err)
		}
		if err := f.svc.ChangePassword(ctx, s, userPassword, "Renewed-Pass5", sess.ID); err != nil {
			t.Fatal(err)
		}
		s, _, err = f.svc.AuthenticateRequest(ctx, sess.ID, "", "")
		if err != nil || !s.Can(policy.CameraLive, "") {
			t.Fatalf("after the change: %v %v", s.Permissions(), err)
		}
	})
}

// Planted: role changes by a session authenticated more than 15 minutes
// ago; re-authentication (wrong password refused) stamps the session.
func TestRoleChangesNeedReauth_AUD2(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, _ := f.user(t, "grantee", f.root.ID, "")
		sess, err := f.svc.SignIn(ctx, SignInInput{Username: "secadmin", Password: adminPassword})
		if err != nil {
			t.Fatal(err)
		}
		subj := func() *policy.Subject {
			s, _, err := f.svc.AuthenticateRequest(ctx, sess.ID, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if got := subj().AuthenticatedAt; !got.Equal(f.clock.Now()) {
			t.Fatalf("AuthenticatedAt %v, want the sign-in time %v", got, f.clock.Now())
		}
		f.clock.Advance(ReauthWindow + time.Minute)
		s := subj()
		watcher := f.roleID(t, RoleWatcher)
		n := f.auditCount(t)
		if _, err := f.svc.AddGrant(ctx, s, u.ID, watcher, f.root.ID); code(err) != "auth.reauth_required" {
			t.Fatalf("grant without re-authentication: %v", err)
		}
		if _, err := f.svc.CreateRole(ctx, s, RoleInput{Name: "late", Permissions: []policy.Permission{policy.CameraLive}}); code(err) != "auth.reauth_required" {
			t.Fatalf("role definition without re-authentication: %v", err)
		}
		if f.auditCount(t) != n {
			t.Fatal("refused role changes were audited as done")
		}
		if _, err := f.svc.Reauthenticate(ctx, s, sess.ID, "wrong-password", ""); code(err) != "password.wrong_current" {
			t.Fatalf("re-authentication with a wrong password: %v", err)
		}
		if _, err := f.svc.Reauthenticate(ctx, s, sess.ID, adminPassword, ""); err != nil {
			t.Fatal(err)
		}
		f.lastAudit(t, "session.reauth")
		f.clock.Advance(time.Minute)
		s = subj()
		g, err := f.svc.AddGrant(ctx, s, u.ID, watcher, f.root.ID)
		if err != nil {
			t.Fatalf("grant after re-authentication: %v", err)
		}
		f.clock.Advance(ReauthWindow)
		if err := f.svc.RevokeGrant(ctx, subj(), u.ID, g.ID); code(err) != "auth.reauth_required" {
			t.Fatalf("revoke 16 minutes after re-authentication: %v", err)
		}
		// An API token never counts as a recent authentication.
		tok, err := f.svc.CreateToken(ctx, subj(), TokenInput{Name: "roles", Scopes: []policy.Permission{policy.AdminUsers, policy.CameraLive, policy.CameraPlay}})
		if err != nil {
			t.Fatal(err)
		}
		ts, _, err := f.svc.AuthenticateRequest(ctx, "", tok.Secret, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeGrant(ctx, ts, u.ID, g.ID); code(err) != "auth.reauth_required" {
			t.Fatalf("revoke with an API token: %v", err)
		}
	})
}

// A database from before the split (only admin) gets the security
// administrator and the auditor at the next start; a duty account whose
// grant was revoked is left to the security administrator, and the start
// does not fail (AUD-2).
func TestBootstrapAddsMissingDuties_AUD2(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for _, u := range []string{"secadmin", "auditor"} {
			for _, q := range []string{`DELETE FROM role_grants WHERE user_id = (SELECT id FROM users WHERE username = ?)`,
				`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)`,
				`DELETE FROM password_history WHERE user_id = (SELECT id FROM users WHERE username = ?)`,
				`DELETE FROM users WHERE username = ?`} {
				if _, err := f.db.Exec(ctx, q, u); err != nil {
					t.Fatal(err)
				}
			}
		}
		var asked []string
		created, err := f.svc.Bootstrap(ctx, func(u string) string { asked = append(asked, u); return "Upgrade-Pass-9" })
		if err != nil || len(created) != 2 || created[0] != "secadmin" || created[1] != "auditor" || len(asked) != 2 {
			t.Fatalf("upgrade: created %v, asked %v, %v", created, asked, err)
		}
		aud := f.signIn(t, "auditor", "Upgrade-Pass-9")
		gs, _ := f.svc.ListGrants(ctx, aud, aud.UserID)
		sec := f.signIn(t, "secadmin", "Upgrade-Pass-9")
		if err := f.svc.RevokeGrant(ctx, sec, aud.UserID, gs[0].ID); err != nil {
			t.Fatal(err)
		}
		if created, err := f.svc.Bootstrap(ctx, nil); err != nil || len(created) != 0 {
			t.Fatalf("restart with the auditor's grant revoked: created %v, %v", created, err)
		}
	})
}
