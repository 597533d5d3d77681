package retention

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

type rig struct {
	db    *store.DB
	log   *audit.Log
	index *record.Index
	store *storage.Local
	dir   string
	eng   *Engine
	now   time.Time
}

func newRig(t *testing.T, db *store.DB) *rig {
	t.Helper()
	kr := storetest.Keyring(t, keyring.Standard)
	lg := audit.New(db, kr)
	t.Cleanup(lg.Close)
	dir := t.TempDir()
	st, err := storage.NewLocal([]string{dir}, -1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Load("national-baseline")
	if err != nil {
		t.Fatal(err)
	}
	x := record.NewIndex(db, kr)
	g := &rig{db: db, log: lg, index: x, store: st, dir: dir, eng: New(x, st, lg, p), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g.eng.SetClock(func() time.Time { return g.now })
	return g
}

var admin = &policy.Subject{UserID: "u1", Name: "Admin", Grants: []policy.Grant{{Role: "admin", Permissions: policy.AllPermissions, ScopePath: "/"}}}

func auditCount(t *testing.T, db *store.DB, action, outcome string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entries WHERE action = ? AND outcome = ?`, action, outcome).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRetentionRefusesBelowMinimum: an anti-terror site's camera keeps 90
// days; 30 is refused with the article cited, and the attempt audited. // RET-1
func TestRetentionRefusesBelowMinimum(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := newRig(t, db)
		recordtest.Camera(t, db, "camA", "metro", true)
		recordtest.Camera(t, db, "camB", "school", false)
		cases := []struct {
			cam     string
			days    int
			min     int
			refused bool
			inForce int
		}{
			{"camA", 30, 90, true, 90},
			{"camA", 89, 90, true, 90},
			{"camA", 120, 90, false, 120},
			{"camB", 29, 30, true, 30},
			{"camB", 45, 30, false, 45},
		}
		for _, c := range cases {
			r, err := g.eng.SetRetention(ctx, admin, c.cam, c.days)
			if c.refused {
				pe, ok := problem.As(err)
				if !ok || pe.Code != "retention.below_minimum" || pe.Status != http.StatusUnprocessableEntity ||
					pe.Params["min"] != c.min || pe.Params["days"] != c.days || pe.Params["cite"] == "" {
					t.Errorf("%s %d days: got %v (%+v)", c.cam, c.days, err, pe)
				}
			} else if err != nil || r.Days != c.inForce {
				t.Errorf("%s %d days: %+v %v", c.cam, c.days, r, err)
			}
			if r, _ := g.eng.Retention(ctx, c.cam); r.Days != c.inForce || r.MinDays != c.min {
				t.Errorf("%s in force: %+v, want %d (min %d)", c.cam, r, c.inForce, c.min)
			}
		}
		// 100,000 days is above the maximum, not below the minimum.
		_, err := g.eng.SetRetention(ctx, admin, "camB", 100000)
		if pe, ok := problem.As(err); !ok || pe.Code != "retention.above_maximum" || pe.Params["max"] != MaxRetentionDays {
			t.Errorf("100000 days: %v", err)
		}
		// The permission is the engine's to check, not the handler's.
		viewer := &policy.Subject{UserID: "u2", Name: "Viewer", Grants: []policy.Grant{{Role: "v", Permissions: []policy.Permission{policy.CameraPlay}, ScopePath: "/"}}}
		var denied *policy.DeniedError
		if _, err := g.eng.SetRetention(ctx, viewer, "camB", 60); !errors.As(err, &denied) || denied.Permission != policy.CameraAdmin {
			t.Errorf("set without camera.admin: %v", err)
		}
		if _, err := g.eng.SetRetention(ctx, admin, "unregistered", 60); !isCode(err, "playback.camera_not_found") {
			t.Errorf("unregistered camera: %v", err)
		}
		if n := auditCount(t, db, "retention.set", audit.Denied); n != 4 {
			t.Errorf("%d refused settings audited, want 4", n)
		}
	})
}

// TestRetentionDeletesOnlyExpiredUnheld advances the clock past expiry:
// expired unheld segments are deleted, held ones kept until their hold
// runs out, each fact in the audit log; the chain still verifies.
// RET-2, RET-4
func TestRetentionDeletesOnlyExpiredUnheld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := newRig(t, db)
		recordtest.Camera(t, db, "cam1", "metro", true) // 90 days
		t0 := g.now
		segs := recordtest.Segments(t, g.index, g.store, "cam1", t0, time.Hour, 10, 4096)
		g.now = t0.AddDate(0, 0, 1)

		// Holds: too short refused; a proper one over segments 3 and 4.
		in := HoldInput{CameraID: "cam1", Start: segs[2].Start.Add(time.Minute), End: segs[3].End.Add(-time.Minute),
			Reason: "刑事案件取证", CaseNumber: "沪普公(刑)字[2026]001号"}
		short := in
		short.Until = g.now.AddDate(1, 0, 0)
		if _, err := g.eng.CreateHold(ctx, admin, short); !isCode(err, "retention.hold_too_short") {
			t.Fatalf("a one-year hold: %v", err)
		}
		h, err := g.eng.CreateHold(ctx, admin, in)
		if err != nil || h.Until.Before(g.now.AddDate(0, 0, 731)) {
			t.Fatalf("hold: %+v %v", h, err)
		}
		if _, err := g.eng.ReleaseHold(ctx, admin, h.ID); !isCode(err, "retention.hold_active") {
			t.Fatalf("release before expiry: %v", err)
		}

		// Inside retention: nothing goes.
		if rep, err := g.eng.Run(ctx); err != nil || rep.Deleted != 0 {
			t.Fatalf("run inside retention: %+v %v", rep, err)
		}
		// An attempt through the API is refused and audited.
		err = g.eng.RefuseDelete(ctx, admin, "cam1", segs[0].Start, segs[9].End)
		if pe, ok := problem.As(err); !ok || pe.Status != http.StatusForbidden || pe.Code != "retention.delete_refused" {
			t.Fatalf("refused delete: %v", err)
		}
		if n := auditCount(t, db, "recording.delete", audit.Denied); n != 1 {
			t.Fatalf("refused delete audited %d times", n)
		}

		// 91 days on: all expired; 3 and 4 held.
		g.now = t0.AddDate(0, 0, 91)
		rep, err := g.eng.Run(ctx)
		if err != nil || rep.Deleted != 8 || rep.Held != 2 {
			t.Fatalf("run after expiry: %+v %v", rep, err)
		}
		for i, s := range segs {
			_, err := os.Stat(filepath.Join(g.dir, s.Key))
			held := i == 2 || i == 3
			if held && err != nil {
				t.Errorf("held segment %d is gone", s.Seq)
			}
			if !held && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("expired segment %d is still there: %v", s.Seq, err)
			}
		}
		if n := auditCount(t, db, "retention.delete", audit.OK); n != 8 {
			t.Errorf("%d deletions audited, want 8", n)
		}
		if n := auditCount(t, db, "retention.held", audit.OK); n != 1 {
			t.Errorf("kept segments audited %d times, want 1", n)
		}
		left, _ := g.index.List(ctx, "cam1", t0, t0.Add(24*time.Hour))
		if len(left) != 2 || left[0].Seq != 3 || left[1].Seq != 4 {
			t.Errorf("listing after the run: %+v", left)
		}
		if rep, err := record.Verify(ctx, g.index, g.store, "cam1"); err != nil || !rep.OK() || rep.Deleted != 8 {
			t.Errorf("verify after deletions: %+v %v", rep, err)
		}
		// A second run deletes nothing more; after the hold runs out the
		// held segments go too, and the hold may be released.
		if rep, _ := g.eng.Run(ctx); rep.Deleted != 0 || rep.Held != 2 {
			t.Errorf("second run: %+v", rep)
		}
		g.now = h.Until.Add(time.Second)
		if rep, _ := g.eng.Run(ctx); rep.Deleted != 2 {
			t.Errorf("run after the hold: %+v", rep)
		}
		if r, err := g.eng.ReleaseHold(ctx, admin, h.ID); err != nil || r.ReleasedAt.IsZero() {
			t.Errorf("release after expiry: %+v %v", r, err)
		}
	})
}

func isCode(err error, code string) bool {
	pe, ok := problem.As(err)
	return ok && pe.Code == code
}

// TestForecastNamesShortCameras: with room for fewer days than a camera's
// minimum, the forecast says which cameras and by how much. // RET-6
func TestForecastNamesShortCameras(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := newRig(t, db)
		recordtest.Camera(t, db, "camT", "metro", true)   // 90 days
		recordtest.Camera(t, db, "camS", "school", false) // 30 days
		g.now = time.Now()
		// One hour each at 1 MB per 6 minutes: 240 MB a day per camera.
		for _, c := range []string{"camT", "camS"} {
			recordtest.Segments(t, g.index, nil, c, g.now.Add(-time.Hour), 6*time.Minute, 10, 1_000_000)
		}
		// 40 days at 480 MB a day fit: 19.2 GB of capacity.
		g.store.SetSpaceFunc(func(string) (int64, int64, error) { return 100 << 30, 19_200_000_000 - 20_000_000, nil })
		f, err := g.eng.Forecast(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.DailyBytes != 480_000_000 || f.DaysHeld != 40 || f.Health != ForecastInsufficient {
			t.Fatalf("forecast: %+v", f)
		}
		if len(f.Short) != 1 || f.Short[0].CameraID != "camT" || f.Short[0].ShortfallDays != 50 {
			t.Fatalf("short cameras: %+v", f.Short)
		}
		g.store.SetSpaceFunc(func(string) (int64, int64, error) { return 100 << 30, 60 << 30, nil })
		if f, _ := g.eng.Forecast(ctx); f.Health != ForecastOK || len(f.Short) != 0 {
			t.Fatalf("ample storage: %+v", f)
		}
	})
}
