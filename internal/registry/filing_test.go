package registry

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestFilingLifecycle: a system is listed as overdue until its initial
// filing is accepted; only the police review; a returned filing leaves it
// overdue; change and cancellation follow an accepted filing; the camera's
// filing state follows (REG-3, REG-10).
func TestFilingLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		// In use since 2026-04-01; the deadline (30 days in the baseline) has passed on 2026-06-01.
		sys, err := fx.reg.CreateSystem(ctx, fx.admin, SystemInput{UnitID: "school", Name: "校园监控", InUseOn: "2026-04-01",
			Technicians: []Technician{{Name: "王工", Company: "某安防", Role: "installer"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.reg.CreateSystem(ctx, fx.admin, SystemInput{UnitID: "school", Name: "x", RetentionDays: 7}); err == nil {
			t.Error("a retention below the profile's minimum was accepted")
		}
		f := completeFile(1, "")
		f.SystemID = sys.ID
		cam, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f})
		if err != nil {
			t.Fatal(err)
		}
		due, err := fx.reg.FilingsDue(ctx, fx.cop, "putuo", true)
		if err != nil || len(due) != 1 || due[0].Status != "missing" || due[0].DueOn != "2026-05-01" || due[0].DaysOverdue != 31 || len(due[0].Cite) == 0 {
			t.Fatalf("due %+v %v", due, err)
		}
		_, err = fx.reg.SubmitFiling(ctx, fx.admin, FilingInput{SystemID: sys.ID, Kind: FilingChange})
		wantCode(t, err, "registry.filing_needs_initial")
		fl, err := fx.reg.SubmitFiling(ctx, fx.admin, FilingInput{SystemID: sys.ID, Kind: FilingInitial})
		if err != nil {
			t.Fatal(err)
		}
		if fl.Content.CameraCount != 1 || fl.Content.CameraTypes["fixed"] != 1 || len(fl.Content.Locations) != 1 {
			t.Errorf("content %+v", fl.Content)
		}
		_, err = fx.reg.SubmitFiling(ctx, fx.admin, FilingInput{SystemID: sys.ID, Kind: FilingInitial})
		wantCode(t, err, "registry.filing_pending")
		// Only the district police review; not the unit, not another district.
		var denied *policy.DeniedError
		if _, err := fx.reg.AcceptFiling(ctx, fx.admin, fl.ID); !errors.As(err, &denied) {
			t.Errorf("unit accepted its own filing: %v", err)
		}
		if _, err := fx.reg.AcceptFiling(ctx, fx.other, fl.ID); !errors.As(err, &denied) {
			t.Errorf("another district accepted: %v", err)
		}
		if _, err := fx.reg.ReturnFiling(ctx, fx.cop, fl.ID, "缺少验收报告"); err != nil {
			t.Fatal(err)
		}
		if c, _ := fx.reg.Camera(ctx, fx.admin, cam.ID); c.FilingState != FilingReturned {
			t.Errorf("camera filing state %s", c.FilingState)
		}
		if due, _ := fx.reg.FilingsDue(ctx, fx.cop, "", true); len(due) != 1 || due[0].Status != "returned" {
			t.Errorf("after return %+v", due)
		}
		fl, _ = fx.reg.SubmitFiling(ctx, fx.admin, FilingInput{SystemID: sys.ID, Kind: FilingInitial})
		if fl, err = fx.reg.AcceptFiling(ctx, fx.cop, fl.ID); err != nil || fl.State != FilingAccepted {
			t.Fatal(err)
		}
		if _, err := fx.reg.AcceptFiling(ctx, fx.cop, fl.ID); err == nil {
			t.Error("accepted twice")
		}
		if due, _ := fx.reg.FilingsDue(ctx, fx.cop, "", false); len(due) != 0 {
			t.Errorf("after acceptance %+v", due)
		}
		if c, _ := fx.reg.Camera(ctx, fx.admin, cam.ID); c.FilingState != FilingAccepted {
			t.Errorf("camera filing state %s", c.FilingState)
		}
		// The printable form.
		var buf bytes.Buffer
		if err := WriteFilingXLSX(&buf, fl); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := x.GetCellValue("备案登记表", "B6"); v != "校园监控" {
			t.Errorf("form system name %q", v)
		}
		// Cancellation: accepted → system cancelled.
		cf, err := fx.reg.SubmitFiling(ctx, fx.admin, FilingInput{SystemID: sys.ID, Kind: FilingCancellation})
		if err != nil {
			t.Fatal(err)
		}
		fx.reg.AcceptFiling(ctx, fx.cop, cf.ID)
		if s, _ := fx.reg.System(ctx, fx.cop, sys.ID); !s.Cancelled || len(s.Filings) != 3 || len(s.Technicians) != 1 {
			t.Errorf("system after cancellation %+v", s)
		}
		acts := strings.Join(auditActions(t, db), " ")
		for _, a := range []string{"system.create", "filing.submit", "filing.return", "filing.accept"} {
			if !strings.Contains(acts, a) {
				t.Errorf("audit lacks %s", a)
			}
		}
	})
}

func TestAttachmentsAndStaff(t *testing.T) { // REG-10, REG-11
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		sys, err := fx.reg.CreateSystem(ctx, fx.admin, SystemInput{UnitID: "school", Name: "s"})
		if err != nil {
			t.Fatal(err)
		}
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		at, err := fx.reg.AddAttachment(ctx, fx.admin, sys.ID, "design", "../../图纸.png", bytes.NewReader(png))
		if err != nil || at.ContentType != "image/png" || at.Name != "图纸.png" || len(at.SHA256) != 64 {
			t.Fatalf("attachment %+v %v", at, err)
		}
		_, err = fx.reg.AddAttachment(ctx, fx.admin, sys.ID, "design", "big.pdf", bytes.NewReader(append([]byte("%PDF-"), make([]byte, MaxAttachment)...)))
		if pe := wantCode(t, err, "registry.attachment_too_large"); pe.Status != 413 {
			t.Errorf("status %d", pe.Status)
		}
		_, err = fx.reg.AddAttachment(ctx, fx.admin, sys.ID, "design", "a.html", strings.NewReader("<html><script>x</script></html>"))
		wantCode(t, err, "registry.attachment_type")
		if _, err := fx.reg.AddAttachment(ctx, fx.other, sys.ID, "design", "a.png", bytes.NewReader(png)); err == nil {
			t.Error("another unit attached a document")
		}
		got, data, err := fx.reg.OpenAttachment(ctx, fx.cop, at.ID)
		if err != nil || !bytes.Equal(data, png) || got.SHA256 != at.SHA256 {
			t.Errorf("open: %v", err)
		}

		st, err := fx.reg.SaveStaff(ctx, fx.admin, "", StaffInput{UnitID: "school", Name: "赵六", Role: "watcher", TrainingOn: "2026-03-01"})
		if err != nil || len(st.Lacking) != 2 {
			t.Fatalf("staff %+v %v", st, err)
		}
		if _, err := fx.reg.SaveStaff(ctx, fx.admin, st.ID, StaffInput{UnitID: "school", Name: "赵六", Role: "watcher", TrainingOn: "2026-03-01",
			BackgroundCheckOn: "2026-02-01", BackgroundResult: "passed", ConfidentialityOn: "2026-02-02"}); err != nil {
			t.Fatal(err)
		}
		fx.reg.SaveStaff(ctx, fx.admin, "", StaffInput{UnitID: "school", Name: "钱七", Role: "admin"})
		rep, err := fx.reg.StaffReport(ctx, fx.cop, "putuo")
		if err != nil || rep.Total != 2 || rep.Watchers != 1 || rep.Admins != 1 || rep.Incomplete != 1 {
			t.Fatalf("report %+v %v", rep, err)
		}
		if _, err := fx.reg.StaffReport(ctx, fx.other, "putuo"); err == nil {
			t.Error("jingan read putuo's staff")
		}
	})
}

func TestUnitCompliance(t *testing.T) { // OPS-6, REG-1, REG-9
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		f1 := completeFile(1, "")
		f1.Signage = false
		c1, _ := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f1})
		f2 := completeFile(2, "")
		f2.Vendor = ""
		fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f2})
		site, _ := fx.reg.CreateSite(ctx, fx.admin, SiteInput{UnitID: "school", Name: "s", Category: "schools"})
		f1.SiteID = site.ID
		if _, err := fx.reg.Update(ctx, fx.admin, c1.ID, CameraInput{CameraFile: f1}); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.reg.Admit(ctx, fx.admin, c1.ID); err != nil {
			t.Fatal(err)
		}
		fx.reg.SetOnline(ctx, c1.ID, true)
		fx.reg.CreateSystem(ctx, fx.admin, SystemInput{UnitID: "school", Name: "s", InUseOn: "2026-01-01"})
		us, err := fx.reg.UnitCompleteness(ctx, fx.cop, "putuo")
		if err != nil || len(us) != 1 {
			t.Fatalf("%+v %v", us, err)
		}
		u := us[0]
		if u.Cameras != 2 || u.Score != 94.5 || // (100 + 89) / 2
			u.Incomplete != 1 || u.SignageMissing != 1 || u.InService != 1 || u.OnlineRate != 1 || u.FilingsOverdue != 1 {
			t.Errorf("compliance %+v", u)
		}
	})
}

// REG-3: a filing is reviewed by a police unit that is not the filer's own.
// A police unit once accepted its own system's filing; a police unit below
// the filer, or the person who submitted it, may not either.
func TestFilingNotReviewedByFiler_REG3(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		if _, err := db.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, division, created_at, updated_at)
			VALUES ('guard', 'putuo', '/city/putuo/guard/', 'guard', 'police', '310107', 1, 1)`); err != nil {
			t.Fatal(err)
		}
		// putuo (police) files its own system; a putuo officer with camera.admin and admin.units submits.
		filer := &policy.Subject{UserID: "pcop", Name: "pcop", UnitID: "putuo", UnitName: "putuo", UnitKind: "police",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.CameraAdmin, policy.AdminUnits}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}}
		sys, err := fx.reg.CreateSystem(ctx, filer, SystemInput{UnitID: "putuo", Name: "分局监控", InUseOn: "2026-05-20"})
		if err != nil {
			t.Fatal(err)
		}
		fl, err := fx.reg.SubmitFiling(ctx, filer, FilingInput{SystemID: sys.ID, Kind: FilingInitial})
		if err != nil {
			t.Fatal(err)
		}
		colleague := &policy.Subject{UserID: "pcop2", Name: "pcop2", UnitID: "putuo", UnitName: "putuo", UnitKind: "police",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.AdminUnits}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}}
		// A police unit below the filer, with a grant reaching up over it.
		below := &policy.Subject{UserID: "gcop", Name: "gcop", UnitID: "guard", UnitName: "guard", UnitKind: "police",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.AdminUnits}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}}
		// A subject whose cached kind says police while its unit is not.
		liar := &policy.Subject{UserID: "liar", Name: "liar", UnitID: "school", UnitName: "school", UnitKind: "police",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.AdminUnits}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}}
		for name, s := range map[string]*policy.Subject{"the submitter": filer, "the filer's colleague": colleague, "a police unit below the filer": below, "a non-police unit": liar} {
			var denied *policy.DeniedError
			if _, err := fx.reg.AcceptFiling(ctx, s, fl.ID); !errors.As(err, &denied) {
				t.Fatalf("%s accepted the filing: %v", name, err)
			}
			if _, err := fx.reg.ReturnFiling(ctx, s, fl.ID, "no"); !errors.As(err, &denied) {
				t.Fatalf("%s returned the filing: %v", name, err)
			}
		}
		city := &policy.Subject{UserID: "ccop", Name: "ccop", UnitID: "city", UnitName: "city", UnitKind: "police",
			Grants: []policy.Grant{{Role: "r", Permissions: []policy.Permission{policy.AdminUnits}, ScopeUnitID: "city", ScopePath: "/city/"}}}
		if got, err := fx.reg.AcceptFiling(ctx, city, fl.ID); err != nil || got.State != FilingAccepted {
			t.Fatalf("the city police above the filer: %v %v", got, err)
		}
	})
}

// REG-3: 004 §10 ¶2 files a move, not only a removal, within the 30 days
// before it. A permanent move once obliged nothing.
func TestPermanentMoveIsFiled_REG3(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		cam, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(1, "")})
		if err != nil {
			t.Fatal(err)
		}
		m, err := fx.reg.RecordMove(ctx, fx.admin, cam.ID, MoveInput{Kind: "move", Lat: 31.2501, Lon: 121.3976})
		if err != nil {
			t.Fatal(err)
		}
		if !m.FilingRequired || m.Timing != "before" || m.FilingDueOn == "" || !strings.Contains(strings.Join(m.Cite, ","), "004 §10 ¶2") {
			t.Fatalf("a permanent move under the baseline: %+v", m)
		}
		tmp, err := fx.reg.RecordMove(ctx, fx.admin, cam.ID, MoveInput{Kind: "temporary", ConsentBy: "某学校", RestoreBy: "2026-07-01"})
		if err != nil || tmp.FilingRequired {
			t.Fatalf("a temporary move: %+v %v", tmp, err)
		}
	})
}

// REG-3, REG-12: under 004 §10 a system at a mandated site (§6) is moved
// or removed with a replacement plan (¶1) and not filed; one outside them
// is filed within the 30 days before (¶2).
func TestMoveFilingOutsideMandatedSitesOnly_REG3(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		wuhan, err := profile.Load("wuhan-2023")
		if err != nil {
			t.Fatal(err)
		}
		reg := New(db, fx.log, wuhan, fx.reg.keyring, DirStore{Dir: t.TempDir()})
		reg.SetClock(fx.reg.now)
		mandated, err := reg.CreateSite(ctx, fx.admin, SiteInput{UnitID: "school", Name: "主干道", Category: "main_roads"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := reg.CreateSite(ctx, fx.admin, SiteInput{UnitID: "school", Name: "农贸市场", Category: "farmers_markets"})
		if err != nil {
			t.Fatal(err)
		}
		atMandated, err := reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(1, mandated.ID)})
		if err != nil {
			t.Fatal(err)
		}
		atOther, err := reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(2, other.ID)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := reg.RecordMove(ctx, fx.admin, atMandated.ID, MoveInput{Kind: "move", ReplacementPlan: "复建方案 2026-1"})
		if err != nil || m.FilingRequired || !strings.Contains(strings.Join(m.Cite, ","), "004 §10 ¶1") {
			t.Fatalf("a move at a mandated site: %+v %v", m, err)
		}
		m, err = reg.RecordMove(ctx, fx.admin, atOther.ID, MoveInput{Kind: "move"})
		if err != nil || !m.FilingRequired || m.Timing != "before" {
			t.Fatalf("a move outside the mandated sites: %+v %v", m, err)
		}
		r, err := reg.Deregister(ctx, fx.admin, atOther.ID, DeregisterInput{Reason: "拆除"})
		if err != nil || !r.FilingRequired {
			t.Fatalf("a removal outside the mandated sites: %+v %v", r, err)
		}
		r, err = reg.Deregister(ctx, fx.admin, atMandated.ID, DeregisterInput{Reason: "拆除", ReplacementPlan: "复建方案 2026-2"})
		if err != nil || r.FilingRequired {
			t.Fatalf("a removal at a mandated site: %+v %v", r, err)
		}
	})
}
