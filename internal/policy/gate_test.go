package policy_test

import (
	"context"
	"errors"
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

func setup(t *testing.T, db *store.DB) (*policy.Gate, *audit.Log) {
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
		if _, err := db.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1)`,
			u.id, parent, u.path, u.id, u.kind); err != nil {
			t.Fatal(err)
		}
	}
	p, err := profile.Load(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(db, storetest.Keyring(t, keyring.Standard))
	t.Cleanup(l.Close)
	return policy.NewGate(db, l, p), l
}

func watcher(scope string, perms ...policy.Permission) *policy.Subject {
	return &policy.Subject{UserID: "u1", Username: "zhang", Name: "张三", UnitID: "putuo", UnitName: "普陀分局", UnitKind: "police",
		Grants: []policy.Grant{{Role: "watcher", Permissions: perms, ScopeUnitID: scope, ScopePath: "/city/" + scope + "/"}}}
}

var schoolCam = policy.Camera{ID: "31010700001320000001", Name: "校门", UnitID: "school", UnitPath: "/city/putuo/school/"}
var jinganCam = policy.Camera{ID: "31010600001320000002", Name: "路口", UnitID: "jingan", UnitPath: "/city/jingan/"}

func TestGateScopesAndRegisters(t *testing.T) { // ACC-1, ACC-3
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g, l := setup(t, db)
		s := watcher("putuo", policy.CameraLive, policy.CameraPlay)

		// Outside the grant's subtree: denied, and the denial is audited.
		_, err := g.Decide(ctx, policy.Request{Subject: s, Action: policy.ViewLive, Cameras: []policy.Camera{jinganCam}, Purpose: "巡查", Method: "webrtc"})
		var denied *policy.DeniedError
		if !errors.As(err, &denied) || denied.Permission != policy.CameraLive {
			t.Fatalf("camera outside scope: got %v", err)
		}
		// A permission the role does not carry: denied.
		if _, err := g.Decide(ctx, policy.Request{Subject: s, Action: policy.Export, Cameras: []policy.Camera{schoolCam}, Purpose: "案件"}); !errors.As(err, &denied) {
			t.Fatalf("export without camera.export: got %v", err)
		}
		// No purpose and no standing purpose: refused with the code that says so.
		_, err = g.Decide(ctx, policy.Request{Subject: s, Action: policy.Playback, Cameras: []policy.Camera{schoolCam}})
		if pe, ok := problem.As(err); !ok || pe.Code != "policy.purpose_required" {
			t.Fatalf("missing purpose: got %v", err)
		}
		// Allowed: registered with purpose and range, in the same transaction as its audit entry.
		from, to := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		d, err := g.Decide(ctx, policy.Request{Subject: s, Action: policy.Playback, Cameras: []policy.Camera{schoolCam}, From: from, To: to, Purpose: "核查纠纷", Method: "fmp4"})
		if err != nil || d.Effect != policy.Allow || d.ID == "" {
			t.Fatalf("allowed playback: %+v %v", d, err)
		}
		recs, err := g.ListAccess(ctx, policy.AccessFilter{})
		if err != nil || len(recs) != 1 {
			t.Fatalf("registry: %v %+v", err, recs)
		}
		r := recs[0]
		if r.UserName != "张三" || r.UnitName != "普陀分局" || r.Purpose != "核查纠纷" || r.Method != "fmp4" ||
			r.RangeStart == nil || !r.RangeStart.Equal(from) || !r.RangeEnd.Equal(to) || len(r.Cameras) != 1 || r.Cameras[0].ID != schoolCam.ID {
			t.Fatalf("registry entry incomplete: %+v", r)
		}
		es, err := l.List(ctx, audit.Filter{Action: "gate.decide"})
		if err != nil {
			t.Fatal(err)
		}
		var ok, deniedN int
		for _, e := range es {
			switch e.Outcome {
			case audit.OK:
				ok++
				if e.Seq != r.AuditSeq {
					t.Errorf("registry entry points at audit %d, the decision is %d", r.AuditSeq, e.Seq)
				}
			case audit.Denied:
				deniedN++
			}
		}
		if ok != 1 || deniedN != 3 {
			t.Fatalf("audited decisions: %d allowed, %d denied; want 1 and 3", ok, deniedN)
		}
		// Ending the view is registered too, once.
		if err := g.End(ctx, s, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := g.End(ctx, s, d.ID); err == nil {
			t.Fatal("ended twice")
		}
		recs, _ = g.ListAccess(ctx, policy.AccessFilter{})
		if recs[0].EndedAt == nil {
			t.Fatal("end not recorded")
		}
		// Registry scope: an auditor of Jing'an does not see Putuo's views.
		if recs, _ := g.ListAccess(ctx, policy.AccessFilter{Scopes: []string{"/city/jingan/"}}); len(recs) != 0 {
			t.Fatalf("registry leaked across scopes: %+v", recs)
		}
		if recs, _ := g.ListAccess(ctx, policy.AccessFilter{Scopes: []string{"/city/"}}); len(recs) != 1 {
			t.Fatalf("city scope should see the view: %+v", recs)
		}
	})
}

func TestStandingPurposeForDutyOfficers(t *testing.T) { // ACC-3
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g, _ := setup(t, db)
		s := watcher("putuo", policy.CameraLive)
		s.StandingPurpose = "值班监看"
		d, err := g.Decide(context.Background(), policy.Request{Subject: s, Action: policy.ViewLive, Cameras: []policy.Camera{schoolCam}, Method: "webrtc"})
		if err != nil || d.Purpose != "值班监看" {
			t.Fatalf("standing purpose not applied: %+v %v", d, err)
		}
	})
}

func TestTokenNarrowsPermissions(t *testing.T) { // ACC-1
	s := watcher("putuo", policy.CameraLive, policy.CameraPlay)
	if !s.Can(policy.CameraPlay, schoolCam.UnitPath) {
		t.Fatal("grant should allow playback in its subtree")
	}
	s.TokenID, s.TokenScopes = "t1", []string{string(policy.CameraLive)}
	if s.Can(policy.CameraPlay, schoolCam.UnitPath) {
		t.Fatal("a token scoped to live view allowed playback")
	}
	s.TokenScopes = []string{string(policy.CameraLive), string(policy.AdminSystem)}
	if s.Can(policy.AdminSystem, "") {
		t.Fatal("a token widened its owner's permissions")
	}
}

func TestExportCarriesProfileObligations(t *testing.T) { // ACC-4, ACC-5 (shape)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g, _ := setup(t, db)
		s := watcher("putuo", policy.CameraExport)
		d, err := g.Decide(context.Background(), policy.Request{Subject: s, Action: policy.Export, Cameras: []policy.Camera{schoolCam},
			From: time.Unix(0, 0), To: time.Unix(60, 0), Purpose: "刑事案件取证", Method: "mp4", CopiesTo: "普陀分局刑侦支队"})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, o := range d.Obligations {
			kinds[o.Kind] = true
			if len(o.Cite) == 0 {
				t.Errorf("obligation %s cites no article", o.Kind)
			}
		}
		p, _ := profile.Load(profile.Default())
		if two, _ := p.TwoPersonRetrieval(); two != kinds["second_person_required"] {
			t.Errorf("two-person obligation %v, profile says %v", kinds["second_person_required"], two)
		}
		appr, _ := p.RetrievalApproval("police")
		if (appr != "none" && appr != "") != kinds["approval_required"] {
			t.Errorf("approval obligation %v, profile says %q", kinds["approval_required"], appr)
		}
	})
}
