package policy_test

import (
	"context"
	"errors"
	"strings"
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
		if err != nil || d.Effect() != policy.Allow || d.ID() == "" {
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
		if err := g.End(ctx, s, d.ID()); err != nil {
			t.Fatal(err)
		}
		if err := g.End(ctx, s, d.ID()); err == nil {
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
		if err != nil || d.Purpose() != "值班监看" {
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

// TestExportRefusedNamingUnmetObligations: an export needs a recent
// authentication, and while nothing can meet the profile's obligations
// (approval, a second person) it is refused naming each with its article;
// the refusal is audited and nothing is registered. // ACC-4, ACC-5
func TestExportRefusedNamingUnmetObligations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g, _ := setup(t, db)
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		g.SetClock(func() time.Time { return now })
		s := watcher("putuo", policy.CameraExport)
		req := policy.Request{Subject: s, Action: policy.Export, Cameras: []policy.Camera{schoolCam},
			From: time.Unix(0, 0), To: time.Unix(60, 0), Purpose: "刑事案件取证", Method: "mp4", CopiesTo: "普陀分局刑侦支队"}
		for _, at := range []time.Time{{}, now.Add(-16 * time.Minute)} {
			s.AuthenticatedAt = at
			_, err := g.Decide(ctx, req)
			if pe, ok := problem.As(err); !ok || pe.Code != "auth.reauth_required" || pe.Status != 403 {
				t.Fatalf("export authenticated at %v: got %v, want auth.reauth_required", at, err)
			}
		}
		s.AuthenticatedAt = now.Add(-time.Minute)
		_, err := g.Decide(ctx, req)
		pe, ok := problem.As(err)
		if !ok || pe.Code != "policy.obligations_unmet" || pe.Status != 403 {
			t.Fatalf("export with unmet obligations: got %v", err)
		}
		p, _ := profile.Load(profile.Default())
		names, _ := pe.Params["obligations"].(string)
		if two, cite := p.TwoPersonRetrieval(); two && (!strings.Contains(names, "second_person_required") || !strings.Contains(names, cite[0])) {
			t.Errorf("refusal does not name the second person and its article: %q", names)
		}
		if appr, _ := p.RetrievalApproval("police"); appr != "none" && appr != "" && !strings.Contains(names, "approval_required ("+appr+")") {
			t.Errorf("refusal does not name the approval %s: %q", appr, names)
		}
		if recs, _ := g.ListAccess(ctx, policy.AccessFilter{}); len(recs) != 0 {
			t.Errorf("a refused export was registered: %+v", recs)
		}
	})
}

// TestDecisionCoversOnlyWhatWasDecided: a Decision is a capability for its
// subject, action, cameras and range; the zero Decision covers nothing. // ACC-3
func TestDecisionCoversOnlyWhatWasDecided(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g, _ := setup(t, db)
		s := watcher("putuo", policy.CameraLive, policy.CameraPlay)
		from, to := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 8, 10, 0, 0, time.UTC)
		d, err := g.Decide(ctx, policy.Request{Subject: s, Action: policy.Playback, Cameras: []policy.Camera{schoolCam}, From: from, To: to, Purpose: "核查", Method: "fmp4"})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Covers(policy.Playback, schoolCam.ID, from.Add(time.Minute), to); err != nil {
			t.Errorf("inside the range: %v", err)
		}
		for name, err := range map[string]error{
			"zero decision":    policy.Decision{}.Covers(policy.Playback, schoolCam.ID, from, to),
			"other camera":     d.Covers(policy.Playback, jinganCam.ID, from, to),
			"before the range": d.Covers(policy.Playback, schoolCam.ID, from.Add(-time.Second), to),
			"after the range":  d.Covers(policy.Playback, schoolCam.ID, from, to.Add(time.Second)),
			"live":             d.Covers(policy.ViewLive, schoolCam.ID, time.Time{}, time.Time{}),
			"export":           d.Covers(policy.Export, schoolCam.ID, from, to),
		} {
			if !errors.Is(err, policy.ErrNotCovered) {
				t.Errorf("%s: covered (%v)", name, err)
			}
		}
		live, err := g.Decide(ctx, policy.Request{Subject: s, Action: policy.ViewLive, Cameras: []policy.Camera{schoolCam}, Purpose: "巡查", Method: "webrtc"})
		if err != nil {
			t.Fatal(err)
		}
		if err := live.Covers(policy.ViewLive, schoolCam.ID, time.Time{}, time.Time{}); err != nil {
			t.Errorf("live: %v", err)
		}
		if err := live.Covers(policy.Playback, schoolCam.ID, from, to); err == nil {
			t.Error("a live decision covers playback")
		}
	})
}

// TestGateReusesARecentIdenticalPlayback: the playback reuse window is the
// gate's, on the gate's clock: the same request within ReuseWindow reuses
// the record (after checking the permission again); a later one, another
// range or another purpose registers anew. // ACC-3
func TestGateReusesARecentIdenticalPlayback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g, _ := setup(t, db)
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		g.SetClock(func() time.Time { return now })
		s := watcher("putuo", policy.CameraPlay)
		from, to := now.Add(-time.Hour), now.Add(-50*time.Minute)
		req := policy.Request{Subject: s, Action: policy.Playback, Cameras: []policy.Camera{schoolCam}, From: from, To: to, Purpose: "核查", Method: "fmp4"}
		d1, err := g.Decide(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(policy.ReuseWindow - time.Second)
		d2, err := g.Decide(ctx, req)
		if err != nil || d2.ID() != d1.ID() || !d2.Reused() {
			t.Fatalf("within the window: %v, %s vs %s", err, d2.ID(), d1.ID())
		}
		other := req
		other.To = to.Add(time.Second)
		if d, _ := g.Decide(ctx, other); d.ID() == d1.ID() {
			t.Error("another range reused the record")
		}
		other = req
		other.Purpose = "别的事由"
		if d, _ := g.Decide(ctx, other); d.ID() == d1.ID() {
			t.Error("another purpose reused the record")
		}
		// The permission is checked again before a reuse.
		if _, err := g.Decide(ctx, policy.Request{Subject: watcher("jingan", policy.CameraPlay), Action: policy.Playback,
			Cameras: []policy.Camera{schoolCam}, From: from, To: to, Purpose: "核查", Method: "fmp4"}); err == nil {
			t.Error("reuse without the permission")
		}
		now = now.Add(2 * time.Second)
		d3, err := g.Decide(ctx, req)
		if err != nil || d3.ID() == d1.ID() || d3.Reused() {
			t.Fatalf("after the window: %v, reused %v", err, d3.Reused())
		}

		// A range cut at the newest footage (its end within LiveEdge of the
		// decision): asked again a little later, when more is recorded, the
		// same access and the same range are served.
		edge := req
		edge.From, edge.To = now.Add(-30*time.Second), now.Add(-time.Second)
		e1, err := g.Decide(ctx, edge)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(3 * time.Second)
		edge.To = now.Add(-time.Second)
		e2, err := g.Decide(ctx, edge)
		if err != nil || e2.ID() != e1.ID() || !e2.To().Equal(e1.To()) {
			t.Fatalf("at the live edge: %v, %s vs %s, to %v vs %v", err, e2.ID(), e1.ID(), e2.To(), e1.To())
		}
	})
}

// TestListAccessForChecksTheReader: reading the access registry is the
// gate's decision, not a handler's: without access.read it is denied, and
// a reader sees only users of units under its grants. // ACC-3
func TestListAccessForChecksTheReader(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g, _ := setup(t, db)
		s := watcher("putuo", policy.CameraPlay)
		if _, err := g.Decide(ctx, policy.Request{Subject: s, Action: policy.Playback, Cameras: []policy.Camera{schoolCam},
			From: time.Unix(0, 0), To: time.Unix(60, 0), Purpose: "核查", Method: "fmp4"}); err != nil {
			t.Fatal(err)
		}
		var denied *policy.DeniedError
		if _, err := g.ListAccessFor(ctx, s, policy.AccessFilter{}); !errors.As(err, &denied) || denied.Permission != policy.AccessRead {
			t.Fatalf("without access.read: %v", err)
		}
		if recs, err := g.ListAccessFor(ctx, watcher("jingan", policy.AccessRead), policy.AccessFilter{}); err != nil || len(recs) != 0 {
			t.Fatalf("a reader of another unit: %+v %v", recs, err)
		}
		if recs, err := g.ListAccessFor(ctx, watcher("putuo", policy.AccessRead), policy.AccessFilter{Scopes: []string{"/"}}); err != nil || len(recs) != 1 {
			t.Fatalf("a reader of putuo: %+v %v", recs, err)
		}
	})
}
