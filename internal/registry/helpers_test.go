package registry

import (
	"context"
	"fmt"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// fixture is a registry over a fresh database with the unit tree
// city (police) → putuo (district police) → school (building unit), and
// city → jingan (police).
type fixture struct {
	db    *store.DB
	reg   *Service
	log   *audit.Log
	admin *policy.Subject // camera.admin over the school
	cop   *policy.Subject // putuo police: admin.units over putuo
	other *policy.Subject // camera.admin over jingan only
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct{ id, parent, path, kind string }{
		{"city", "", "/city/", "police"},
		{"putuo", "city", "/city/putuo/", "police"},
		{"school", "putuo", "/city/putuo/school/", "building_unit"},
		{"jingan", "city", "/city/jingan/", "police"},
	} {
		var parent any
		if u.parent != "" {
			parent = u.parent
		}
		if _, err := db.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, division, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '310107', 1, 1)`,
			u.id, parent, u.path, u.id, u.kind); err != nil {
			t.Fatal(err)
		}
	}
	p, err := profile.Load(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	kr := storetest.Keyring(t, keyring.Standard)
	l := audit.New(db, kr)
	t.Cleanup(l.Close)
	reg := New(db, l, p, kr, DirStore{Dir: t.TempDir()})
	// The clock ticks a millisecond per reading, from 2026-06-01.
	var tick int64
	reg.SetClock(func() time.Time {
		tick++
		return time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(tick) * time.Millisecond)
	})
	subj := func(id, unit, kind, scope string, perms ...policy.Permission) *policy.Subject {
		return &policy.Subject{UserID: id, Username: id, Name: id, UnitID: unit, UnitName: unit, UnitKind: kind,
			Grants: []policy.Grant{{Role: "r", Permissions: perms, ScopeUnitID: scope, ScopePath: map[string]string{
				"city": "/city/", "putuo": "/city/putuo/", "school": "/city/putuo/school/", "jingan": "/city/jingan/"}[scope]}}}
	}
	return &fixture{db: db, reg: reg, log: l,
		admin: subj("admin", "school", "building_unit", "school", policy.CameraAdmin),
		cop:   subj("cop", "putuo", "police", "putuo", policy.AdminUnits),
		other: subj("other", "jingan", "police", "jingan", policy.CameraAdmin),
	}
}

func fptr(v float64) *float64 { return &v }

// completeFile returns a complete file (score 100) for serial n.
func completeFile(n int, siteID string) CameraFile {
	return CameraFile{
		Code: fmt.Sprintf("31010700001320%06d", n), UnitID: "school", Name: fmt.Sprintf("校门 %d", n),
		Vendor: "海康威视", Model: "DS-2CD3T46", Firmware: "V5.7", Type: "fixed",
		Lat: 31.2497 + float64(n%100)*0.0001, Lon: 121.3975 + float64(n/100)*0.0001, Address: "上海市普陀区某路 1 号", Division: "310107",
		Height: 4.5, Azimuth: fptr(90), FOV: 90, Range: 50, PlaceType: "school_gate", SiteID: siteID,
		BuildingUnit: "某学校", OperatingUnit: "某运维公司", ContactName: "李四", ContactPhone: "021-12345678",
		Funding: "government", CommissionedOn: "2026-01-10", AcceptedOn: "2026-02-01", Public: true, Signage: true,
		Extended: map[string]string{"pole": "P-12"}, RecordingMode: "continuous",
	}
}

func wantCode(t *testing.T, err error, code string) *problem.Error {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok || pe.Code != code {
		t.Fatalf("error = %v, want problem %s", err, code)
	}
	return pe
}

func auditActions(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT action FROM audit_entries ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return out
}
