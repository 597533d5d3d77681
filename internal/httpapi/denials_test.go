package httpapi

import (
	"context"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// AUD-4: refusals outside the gate (here: a watcher reading the audit log
// and listing users, an anonymous caller) are audited, coalesced per
// subject, route and code so that a flood writes one entry per window with
// its count; the gate's own denials are not written twice.
func TestDenialsAuditedAndCoalesced_AUD4(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newMatrixEnv(t, db)
		ctx := context.Background()
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// The matrix env's clock moves two windows per denial; freeze it here.
		srv := e.srv.Config.Handler.(*Server)
		t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		now := t0
		srv.d.Now = func() time.Time { return now }
		before := count(`SELECT COUNT(*) FROM audit_entries WHERE action = 'request.denied'`)
		for i := 0; i < 50; i++ {
			if st, _ := e.call(watchr, "GET", "/audit", nil, ""); st != 403 {
				t.Fatalf("watcher reads the audit log: %d", st)
			}
		}
		e.call(watchr, "GET", "/users", nil, "") // another route: its own entry
		if n := count(`SELECT COUNT(*) FROM audit_entries WHERE action = 'request.denied'`) - before; n != 2 {
			t.Fatalf("%d entries for 51 denials on two routes inside one window, want 2", n)
		}
		var l *audit.Log = srv.d.Audit
		es, err := l.List(ctx, audit.Filter{Action: "request.denied", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if es[1].Object != "route:GET /audit" || es[1].Details["code"] != "policy.denied" || es[1].Details["permission"] != "audit.read" ||
			es[1].Outcome != audit.Denied || es[1].Actor.Name != "用户watcher" {
			t.Fatalf("denial entry %+v", es[1])
		}
		// The window passes: the next denial writes the count of the 49 coalesced ones, then itself.
		now = t0.Add(DefaultDenialWindow + time.Second)
		e.call(watchr, "GET", "/audit", nil, "")
		es, _ = l.List(ctx, audit.Filter{Action: "request.denied", Object: "route:GET /audit", Limit: 10})
		total := 0
		for _, x := range es {
			total += int(x.Details["count"].(float64))
		}
		if total != 51 {
			t.Fatalf("counts add up to %d, want 51: %+v", total, es)
		}
		// FlushDenials writes what is still being counted.
		e.call(watchr, "GET", "/audit", nil, "")
		srv.FlushDenials(ctx)
		es, _ = l.List(ctx, audit.Filter{Action: "request.denied", Object: "route:GET /audit", Limit: 10})
		if c := es[0].Details["count"].(float64); c != 1 || es[0].Details["coalesced"] != true {
			t.Fatalf("flushed entry %+v", es[0])
		}
		// A gate refusal is audited by the gate only.
		gate := count(`SELECT COUNT(*) FROM audit_entries WHERE outcome = 'denied'`)
		if st, _ := e.call("none", "GET", "/cameras/"+e.ids["camera"]+"/live/info?purpose=x", nil, ""); st != 403 {
			t.Fatalf("live info without permission: %d", st)
		}
		if n := count(`SELECT COUNT(*) FROM audit_entries WHERE outcome = 'denied'`) - gate; n != 1 {
			t.Fatalf("a gate refusal wrote %d denial entries", n)
		}
	})
}

// AUD-4: the count of coalesced denials is written when the window has
// passed even if no further denial comes (a timer; polled, no fixed sleep).
func TestCoalescedDenialsWrittenByTimer_AUD4(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newMatrixEnv(t, db)
		srv := e.srv.Config.Handler.(*Server)
		srv.d.Now, srv.d.DenialWindow = nil, 200*time.Millisecond
		for i := 0; i < 5; i++ {
			if st, _ := e.call(audtr, "POST", "/roles", map[string]any{"name": "x", "permissions": []string{"camera.live"}}, ""); st != 403 {
				t.Fatalf("auditor defines a role: %d", st)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			es, err := srv.d.Audit.List(context.Background(), audit.Filter{Action: "request.denied", Object: "route:POST /roles", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 2 && es[0].Details["coalesced"] == true && es[0].Details["count"].(float64) == 4 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no coalesced count written: %+v", es)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
