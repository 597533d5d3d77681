package identity

import (
	"context"
	"strings"
	"testing"

	"vigil/internal/policy"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func TestBootstrapIsIdempotent(t *testing.T) { // ACC-1
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		n := f.auditCount(t)
		created, err := f.svc.Bootstrap(ctx, nil)
		if err != nil || len(created) != 0 {
			t.Fatalf("second bootstrap: created=%v err=%v", created, err)
		}
		if f.auditCount(t) != n {
			t.Fatal("a bootstrap that changed nothing wrote audit entries")
		}
		roles, _ := f.svc.ListRoles(ctx, f.admin)
		if len(roles) != len(BuiltinRoles) {
			t.Fatalf("%d roles, want %d", len(roles), len(BuiltinRoles))
		}
		if f.root.Name != RootUnitName || f.root.Kind != KindAdminDept || f.root.Path != "/"+f.root.ID+"/" {
			t.Fatalf("root unit %+v", f.root)
		}
		for _, a := range []string{"unit.create", "role.create", "user.create", "role.grant", "session.signin"} {
			if e := f.lastAudit(t, a); e.Outcome != "ok" {
				t.Fatalf("%s outcome %s", a, e.Outcome)
			}
		}
		// A built-in role whose stored permissions are out of date (an older
		// release) is brought up to date.
		if _, err := f.db.Exec(ctx, `UPDATE roles SET permissions = '["camera.live"]' WHERE name = ?`, RoleSystemAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Bootstrap(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if e := f.lastAudit(t, "role.update"); e.Details["name"] != RoleSystemAdmin {
			t.Fatalf("built-in role update audit %+v", e)
		}
		if s := f.signIn(t, "admin", adminPassword); len(s.Permissions()) != len(BuiltinRoles[0].Permissions) {
			t.Fatalf("system_admin after the update holds %v", s.Permissions())
		}

		// An empty database without a password refuses.
		other := New(storetest.Open(t, db.Dialect), f.log, f.svc.kr, Options{Argon2: cheapArgon2})
		if _, err := other.Bootstrap(ctx, OnePassword("")); err == nil {
			t.Fatal("bootstrap without users and without a password succeeded")
		}
	})
}

func TestUnitTree(t *testing.T) { // ACC-1, REG-11
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		city := f.unit(t, f.root.ID, "市局")
		a := f.unit(t, city.ID, "甲分局")
		b := f.unit(t, city.ID, "乙分局")
		school := f.unit(t, a.ID, "第一中学")
		if school.Path != f.root.Path+city.ID+"/"+a.ID+"/"+school.ID+"/" {
			t.Fatalf("path %s", school.Path)
		}
		e := f.lastAudit(t, "unit.create")
		if e.Object != "unit:"+school.ID || e.Actor.ID != f.admin.UserID {
			t.Fatalf("audit entry %+v", e)
		}

		bad := []struct {
			name string
			in   UnitInput
			code string
		}{
			{"no name", UnitInput{ParentID: a.ID, Kind: KindPolice, Division: "310107"}, "field.required"},
			{"bad kind", UnitInput{ParentID: a.ID, Name: "x", Kind: "hotel", Division: "310107"}, "unit.bad_kind"},
			{"bad division", UnitInput{ParentID: a.ID, Name: "x", Kind: KindPolice, Division: "3101"}, "unit.bad_division"},
			{"bad phone", UnitInput{ParentID: a.ID, Name: "x", Kind: KindPolice, Division: "310107", Phone: "call me"}, "field.bad_phone"},
			{"no parent", UnitInput{Name: "x", Kind: KindPolice, Division: "310107"}, "field.required"},
			{"unknown parent", UnitInput{ParentID: "nope", Name: "x", Kind: KindPolice, Division: "310107"}, "unit.not_found"},
		}
		for _, c := range bad {
			n := f.auditCount(t)
			if _, err := f.svc.CreateUnit(ctx, f.admin, c.in); code(err) != c.code {
				t.Errorf("%s: got %v, want %s", c.name, err, c.code)
			}
			if f.auditCount(t) != n {
				t.Errorf("%s: a refused change wrote an audit entry", c.name)
			}
		}

		// Move 甲分局 (with its school) under 乙分局: the subtree's paths follow.
		moved, err := f.svc.UpdateUnit(ctx, f.admin, a.ID, UnitPatch{ParentID: &b.ID})
		if err != nil {
			t.Fatal(err)
		}
		if moved.Path != b.Path+a.ID+"/" {
			t.Fatalf("moved path %s", moved.Path)
		}
		p, err := f.svc.UnitPath(ctx, school.ID)
		if err != nil || p != b.Path+a.ID+"/"+school.ID+"/" {
			t.Fatalf("school path after move %s (%v)", p, err)
		}
		if _, err := f.svc.UpdateUnit(ctx, f.admin, b.ID, UnitPatch{ParentID: &school.ID}); code(err) != "unit.move_into_itself" {
			t.Fatalf("moving a unit under its own descendant: %v", err)
		}
		name := "乙分局（新）"
		if u, err := f.svc.UpdateUnit(ctx, f.admin, b.ID, UnitPatch{Name: &name}); err != nil || u.Name != name {
			t.Fatalf("rename: %v %v", u, err)
		}
		if e := f.lastAudit(t, "unit.update"); e.Details["name"] != name {
			t.Fatalf("audit of rename %+v", e.Details)
		}

		// No delete of a unit with children or users; an empty one goes.
		if err := f.svc.DeleteUnit(ctx, f.admin, a.ID); code(err) != "unit.not_empty" {
			t.Fatalf("deleting a unit with children: %v", err)
		}
		f.user(t, "teacher", school.ID, "")
		if err := f.svc.DeleteUnit(ctx, f.admin, school.ID); code(err) != "unit.not_empty" {
			t.Fatalf("deleting a unit with users: %v", err)
		}
		empty := f.unit(t, b.ID, "空单位")
		if err := f.svc.DeleteUnit(ctx, f.admin, empty.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetUnit(ctx, f.admin, empty.ID); code(err) != "unit.not_found" {
			t.Fatalf("deleted unit still found: %v", err)
		}

		// A unit administrator of 乙分局 sees its subtree and its own unit only,
		// and cannot create units elsewhere.
		_, ua := f.user(t, "badmin", b.ID, RoleUnitAdmin)
		units, err := f.svc.ListUnits(ctx, ua)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range units {
			names = append(names, u.Name)
			if !strings.HasPrefix(u.Path, b.Path) {
				t.Errorf("unit admin of %s sees %s", b.Name, u.Name)
			}
		}
		if len(units) != 3 {
			t.Fatalf("unit admin sees %v", names)
		}
		if _, err := f.svc.CreateUnit(ctx, ua, UnitInput{ParentID: city.ID, Name: "x", Kind: KindPolice, Division: "310107"}); code(err) != "policy.denied" {
			t.Fatalf("unit admin created a unit outside its subtree: %v", err)
		}
		if _, err := f.svc.GetUnit(ctx, ua, city.ID); code(err) != "unit.not_found" {
			t.Fatalf("unit admin reads a unit outside its subtree: %v", err)
		}
		if _, err := f.svc.CreateUnit(ctx, ua, UnitInput{ParentID: b.ID, Name: "物业", Kind: KindBuildingUnit, Division: "310107"}); err != nil {
			t.Fatalf("unit admin cannot create inside its subtree: %v", err)
		}
	})
}

// ACC-1: a unit's kind is privileged. A unit administrator once changed its
// own unit's kind to police (and created police children), then accepted
// its own filings and drew protected zones.
func TestUnitKindIsPrivileged_ACC1(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		city := f.unit(t, f.root.ID, "市局")
		school, err := f.svc.CreateUnit(ctx, f.admin, UnitInput{ParentID: city.ID, Name: "学校", Kind: KindBuildingUnit, Division: "310107"})
		if err != nil {
			t.Fatal(err)
		}
		_, ua := f.user(t, "sadmin", school.ID, RoleUnitAdmin)
		n := f.auditCount(t)
		for _, k := range []string{KindPolice, KindStateSecurity, KindOperator} {
			k := k
			if _, err := f.svc.UpdateUnit(ctx, ua, school.ID, UnitPatch{Kind: &k}); code(err) != "policy.denied" {
				t.Fatalf("unit admin set its own unit's kind to %s: %v", k, err)
			}
		}
		for _, k := range []string{KindPolice, KindStateSecurity} {
			if _, err := f.svc.CreateUnit(ctx, ua, UnitInput{ParentID: school.ID, Name: "保卫处", Kind: k, Division: "310107"}); code(err) != "policy.denied" {
				t.Fatalf("unit admin created a child of kind %s: %v", k, err)
			}
		}
		child, err := f.svc.CreateUnit(ctx, ua, UnitInput{ParentID: school.ID, Name: "保卫处", Kind: KindBuildingUnit, Division: "310107"})
		if err != nil {
			t.Fatal(err)
		}
		police := KindPolice
		if _, err := f.svc.UpdateUnit(ctx, ua, child.ID, UnitPatch{Kind: &police}); code(err) != "policy.denied" {
			t.Fatalf("unit admin made its child a police unit: %v", err)
		}
		// Even admin.system scoped to the unit itself is not "above" it.
		own := &policy.Subject{UserID: "own", Name: "own", UnitID: school.ID, Grants: []policy.Grant{{Role: "r",
			Permissions: []policy.Permission{policy.AdminUnits, policy.AdminSystem}, ScopeUnitID: school.ID, ScopePath: school.Path}}}
		if _, err := f.svc.UpdateUnit(ctx, own, school.ID, UnitPatch{Kind: &police}); code(err) != "policy.denied" {
			t.Fatalf("admin.system over the unit itself changed its kind: %v", err)
		}
		if u, _ := f.svc.GetUnit(ctx, f.admin, school.ID); u.Kind != KindBuildingUnit {
			t.Fatalf("kind changed to %s", u.Kind)
		}
		if got := f.auditCount(t); got != n+1 { // the child's creation; refusals write nothing here
			t.Fatalf("%d audit entries, want %d", got, n+1)
		}
		// The system administrator above the unit may.
		if u, err := f.svc.UpdateUnit(ctx, f.admin, child.ID, UnitPatch{Kind: &police}); err != nil || u.Kind != KindPolice {
			t.Fatalf("system admin above the unit: %v %v", u, err)
		}
		if e := f.lastAudit(t, "unit.update"); e.Details["kind"] != KindPolice {
			t.Fatalf("kind change audit %+v", e.Details)
		}
	})
}
