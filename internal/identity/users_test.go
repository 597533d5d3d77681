package identity

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"vigil/internal/policy"
)

func TestUserLifecycle(t *testing.T) { // ACC-2
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		unit := f.unit(t, f.root.ID, "甲分局")
		const idn = "11010519491231002X"
		u, err := f.svc.CreateUser(ctx, f.admin, UserInput{Username: "Zhang.San", Name: "张三", UnitID: unit.ID, Post: "民警",
			Phone: "021-1234 5678", IDNumber: strings.ToLower(idn), Password: "Initial-Pass1", StandingPurpose: "值班监看"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "zhang.san" || u.UnitName != "甲分局" || !u.MustChangePassword || u.Status != StatusActive {
			t.Fatalf("created %+v", u)
		}
		// The ID number is shown masked, stored sealed, never in the clear.
		if u.IDNumberMasked != "110***********002X" {
			t.Fatalf("masked %s", u.IDNumberMasked)
		}
		b, _ := json.Marshal(u)
		if strings.Contains(string(b), idn) || strings.Contains(string(b), "argon2") {
			t.Fatalf("user JSON leaks a secret: %s", b)
		}
		var enc, hash string
		if err := f.db.QueryRow(ctx, `SELECT id_number_enc, password_hash FROM users WHERE id = ?`, u.ID).Scan(&enc, &hash); err != nil {
			t.Fatal(err)
		}
		if enc == "" || strings.Contains(enc, idn) || strings.Contains(enc, "19491231") {
			t.Fatalf("stored ID number column is not sealed: %q", enc)
		}
		if clear, err := f.svc.kr.Open(enc, "user:"+u.ID+":id_number"); err != nil || clear != idn {
			t.Fatalf("sealed ID number does not open to the value: %q %v", clear, err)
		}
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("password stored as %q", hash)
		}

		bad := []struct {
			name string
			in   UserInput
			code string
		}{
			{"taken", UserInput{Username: "zhang.san", Name: "x", UnitID: unit.ID}, "user.username_taken"},
			{"bad username", UserInput{Username: "张三", Name: "x", UnitID: unit.ID}, "user.bad_username"},
			{"bad ID number", UserInput{Username: "li", Name: "x", UnitID: unit.ID, IDNumber: "110105194912310021"}, "user.bad_id_number"},
			{"weak password", UserInput{Username: "li", Name: "x", UnitID: unit.ID, Password: "password"}, "password.too_short"},
			{"no name", UserInput{Username: "li", UnitID: unit.ID}, "field.required"},
			{"no unit", UserInput{Username: "li", Name: "x", UnitID: "nope"}, "unit.not_found"},
		}
		for _, c := range bad {
			n := f.auditCount(t)
			if _, err := f.svc.CreateUser(ctx, f.admin, c.in); code(err) != c.code {
				t.Errorf("%s: got %v, want %s", c.name, err, c.code)
			}
			if f.auditCount(t) != n {
				t.Errorf("%s: a refused change wrote an audit entry", c.name)
			}
		}

		post := "副所长"
		u2, err := f.svc.UpdateUser(ctx, f.admin, u.ID, UserPatch{Post: &post})
		if err != nil || u2.Post != post {
			t.Fatalf("update: %+v %v", u2, err)
		}
		if e := f.lastAudit(t, "user.update"); e.Details["post"] != post {
			t.Fatalf("audit %+v", e.Details)
		}

		list, err := f.svc.ListUsers(ctx, f.admin, UserFilter{UnitID: unit.ID, Query: "张"})
		if err != nil || len(list) != 1 || list[0].ID != u.ID {
			t.Fatalf("list: %+v %v", list, err)
		}

		// Signed in, then disabled: the session ends and sign-in is refused.
		sess, err := f.svc.SignIn(ctx, SignInInput{Username: "zhang.san", Password: "Initial-Pass1"})
		if err != nil || !sess.MustChangePassword {
			t.Fatalf("sign in: %+v %v", sess, err)
		}
		if _, err := f.svc.SetUserDisabled(ctx, f.admin, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.AuthenticateRequest(ctx, sess.ID, "", ""); code(err) != "auth.session_expired" {
			t.Fatalf("session of a disabled user still works: %v", err)
		}
		if _, err := f.svc.SignIn(ctx, SignInInput{Username: "zhang.san", Password: "Initial-Pass1"}); code(err) != "auth.disabled" {
			t.Fatalf("disabled user signed in: %v", err)
		}
		if l, _ := f.svc.ListUsers(ctx, f.admin, UserFilter{Status: StatusDisabled}); len(l) != 1 {
			t.Fatalf("disabled filter: %d", len(l))
		}
		if _, err := f.svc.SetUserDisabled(ctx, f.admin, u.ID, false); err != nil {
			t.Fatal(err)
		}

		// Reset: the old session ends, the new password works and must be changed.
		sess, _ = f.svc.SignIn(ctx, SignInInput{Username: "zhang.san", Password: "Initial-Pass1"})
		if err := f.svc.ResetPassword(ctx, f.admin, u.ID, "Reset-Pass-22"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.AuthenticateRequest(ctx, sess.ID, "", ""); err == nil {
			t.Fatal("session survived a password reset")
		}
		sess, err = f.svc.SignIn(ctx, SignInInput{Username: "zhang.san", Password: "Reset-Pass-22"})
		if err != nil || !sess.MustChangePassword {
			t.Fatalf("after reset: %+v %v", sess, err)
		}
		if _, err := f.svc.AddGrant(ctx, f.admin, u.ID, f.roleID(t, RoleWatcher), unit.ID); err != nil {
			t.Fatal(err)
		}
		subj, _, _ := f.svc.AuthenticateRequest(ctx, sess.ID, "", "")
		if len(subj.Permissions()) != 0 {
			t.Fatalf("before changing an administrator-set password the session holds %v", subj.Permissions())
		}
		if err := f.svc.ChangePassword(ctx, subj, "wrong-Pass-1", "Changed-Pass-3", sess.ID); code(err) != "password.wrong_current" {
			t.Fatalf("change with a wrong current password: %v", err)
		}
		if err := f.svc.ChangePassword(ctx, subj, "Reset-Pass-22", "Changed-Pass-3", sess.ID); err != nil {
			t.Fatal(err)
		}
		if subj, _, err = f.svc.AuthenticateRequest(ctx, sess.ID, "", ""); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if !subj.Can(policy.CameraLive, unit.Path) {
			t.Fatalf("after the change the session holds %v", subj.Permissions())
		}
		if got, _ := f.svc.GetUser(ctx, subj, u.ID); got.MustChangePassword {
			t.Fatal("must_change_password still set after the change")
		}
		for _, a := range []string{"user.disable", "user.enable", "user.password_reset", "user.password_change"} {
			if e := f.lastAudit(t, a); e.Object != "user:"+u.ID {
				t.Fatalf("%s audited on %s", a, e.Object)
			}
		}
	})
}

func TestLastSystemAdminRemains(t *testing.T) { // ACC-2
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if err := f.svc.DisableUserCLI(ctx, "admin"); code(err) != "user.last_system_admin" {
			t.Fatalf("disabling the only system administrator: %v", err)
		}
		adminGrants, _ := f.svc.ListGrants(ctx, f.admin, f.admin.UserID)
		if err := f.svc.RevokeGrant(ctx, f.admin, f.admin.UserID, adminGrants[0].ID); code(err) != "user.last_system_admin" {
			t.Fatalf("revoking the only system administrator's grant: %v", err)
		}
		u2, _ := f.user(t, "admin2", f.root.ID, RoleSystemAdmin)
		if err := f.svc.DisableUserCLI(ctx, "admin2"); err != nil {
			t.Fatalf("disabling one of two system administrators: %v", err)
		}
		if _, err := f.svc.SetUserDisabled(ctx, f.admin, f.admin.UserID, true); code(err) != "user.cannot_disable_self" {
			t.Fatalf("self-disable: %v", err)
		}
		if _, err := f.svc.SetUserDisabled(ctx, f.admin, u2.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeGrant(ctx, f.admin, f.admin.UserID, adminGrants[0].ID); err != nil {
			t.Fatalf("revoking one of two: %v", err)
		}
	})
}

func TestNoPrivilegeEscalation(t *testing.T) { // ACC-1
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		a := f.unit(t, f.root.ID, "甲分局")
		b := f.unit(t, f.root.ID, "乙分局")
		station := f.unit(t, a.ID, "派出所")
		_, ua := f.user(t, "aadmin", a.ID, RoleUnitAdmin)
		officer, _ := f.user(t, "officer", station.ID, "")
		other, _ := f.user(t, "other", b.ID, "")
		inv, _ := f.user(t, "inv", station.ID, RoleInvestigator)

		cases := []struct {
			name string
			do   func() error
			code string
		}{
			{"grant system_admin", func() error {
				_, err := f.svc.AddGrant(ctx, ua, officer.ID, f.roleID(t, RoleSystemAdmin), station.ID)
				return err
			}, "policy.denied"},
			{"grant investigator (export not held)", func() error {
				_, err := f.svc.AddGrant(ctx, ua, officer.ID, f.roleID(t, RoleInvestigator), station.ID)
				return err
			}, "policy.denied"},
			{"grant watcher over a unit outside the subtree", func() error {
				_, err := f.svc.AddGrant(ctx, ua, officer.ID, f.roleID(t, RoleWatcher), b.ID)
				return err
			}, "policy.denied"},
			{"grant to a user outside the subtree", func() error {
				_, err := f.svc.AddGrant(ctx, ua, other.ID, f.roleID(t, RoleWatcher), b.ID)
				return err
			}, "policy.denied"},
			{"create a user outside the subtree", func() error {
				_, err := f.svc.CreateUser(ctx, ua, UserInput{Username: "x1", Name: "x", UnitID: b.ID})
				return err
			}, "policy.denied"},
			{"reset the system administrator's password", func() error {
				return f.svc.ResetPassword(ctx, ua, f.admin.UserID, "Taken-Over-1")
			}, "policy.denied"},
			{"reset an investigator's password (holds more)", func() error {
				return f.svc.ResetPassword(ctx, ua, inv.ID, "Taken-Over-1")
			}, "policy.denied"},
			{"define a role", func() error {
				_, err := f.svc.CreateRole(ctx, ua, RoleInput{Name: "mine", Permissions: []policy.Permission{policy.AdminSystem}})
				return err
			}, "policy.denied"},
			{"grant watcher inside the subtree", func() error {
				_, err := f.svc.AddGrant(ctx, ua, officer.ID, f.roleID(t, RoleWatcher), station.ID)
				return err
			}, ""},
			{"reset a watcher's password inside the subtree", func() error {
				return f.svc.ResetPassword(ctx, ua, officer.ID, "Reset-Pass-33")
			}, ""},
		}
		for _, c := range cases {
			n := f.auditCount(t)
			err := c.do()
			if code(err) != c.code {
				t.Errorf("%s: got %v, want %q", c.name, err, c.code)
			}
			if c.code != "" && f.auditCount(t) != n {
				t.Errorf("%s: refused, yet an audit entry was written", c.name)
			}
		}
		if e := f.lastAudit(t, "role.grant"); e.Actor.ID != ua.UserID || e.Details["role"] != RoleWatcher {
			t.Fatalf("grant audit %+v", e)
		}
	})
}

func TestRoles(t *testing.T) { // ACC-1
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		r, err := f.svc.CreateRole(ctx, f.sec, RoleInput{Name: "ptz_operator", Permissions: []policy.Permission{policy.CameraPTZ, policy.CameraLive, policy.CameraLive}})
		if err != nil || len(r.Permissions) != 2 {
			t.Fatalf("create role: %+v %v", r, err)
		}
		if _, err := f.svc.CreateRole(ctx, f.sec, RoleInput{Name: "x", Permissions: []policy.Permission{"camera.fly"}}); code(err) != "role.bad_permission" {
			t.Fatalf("unknown permission: %v", err)
		}
		if _, err := f.svc.UpdateRole(ctx, f.sec, f.roleID(t, RoleWatcher), RoleInput{Name: RoleWatcher, Permissions: []policy.Permission{policy.CameraExport}}); code(err) != "role.builtin" {
			t.Fatalf("built-in role changed: %v", err)
		}
		if err := f.svc.DeleteRole(ctx, f.sec, f.roleID(t, RoleAuditor)); code(err) != "role.builtin" {
			t.Fatalf("built-in role deleted: %v", err)
		}
		u, _ := f.user(t, "ptz", f.root.ID, "")
		g, err := f.svc.AddGrant(ctx, f.admin, u.ID, r.ID, f.root.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteRole(ctx, f.sec, r.ID); code(err) != "role.in_use" {
			t.Fatalf("deleting a granted role: %v", err)
		}
		if err := f.svc.RevokeGrant(ctx, f.admin, u.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteRole(ctx, f.sec, r.ID); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"role.create", "role.revoke", "role.delete"} {
			f.lastAudit(t, a)
		}
	})
}

// A role administrator cannot widen roles beyond what it holds: not by
// defining a role, not by adding a permission to a granted role. ACC-1
func TestRoleEditingDoesNotEscalate(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		narrow, err := f.svc.CreateRole(ctx, f.sec, RoleInput{Name: "narrow", Permissions: []policy.Permission{policy.CameraLive}})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := f.user(t, "editor", f.root.ID, "")
		if _, err := f.svc.AddGrant(ctx, f.sec, u.ID, narrow.ID, f.root.ID); err != nil {
			t.Fatal(err)
		}
		// The system administrator does not hold admin.roles.
		if _, err := f.svc.CreateRole(ctx, f.admin, RoleInput{Name: "mine", Permissions: []policy.Permission{policy.CameraLive}}); code(err) != "policy.denied" {
			t.Fatalf("the system administrator defined a role: %v", err)
		}
		// The security administrator cannot give a granted role a duty
		// permission, nor define one with it.
		if _, err := f.svc.UpdateRole(ctx, f.sec, narrow.ID, RoleInput{Name: "narrow", Permissions: []policy.Permission{policy.CameraLive, policy.AdminSystem}}); code(err) != "role.duty_reserved" {
			t.Fatalf("widened a role with admin.system: %v", err)
		}
		if _, err := f.svc.UpdateRole(ctx, f.sec, narrow.ID, RoleInput{Name: "narrow", Permissions: []policy.Permission{policy.CameraLive, policy.CameraExport}}); err != nil {
			t.Fatalf("widening within what it holds: %v", err)
		}
	})
}
