package live_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/live"
	"vigil/internal/onvif"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

// simPTZ resolves every camera to one simulated ONVIF device.
type simPTZ struct{ h onvif.PTZHandle }

func (s simPTZ) PTZ(context.Context, string) (live.PTZController, error) { return s.h, nil }

// TestPTZThroughGate: PTZ commands pass the gate (camera.ptz), reach the
// simulated ONVIF device and are audited; a subject without camera.ptz is
// refused before the device is touched. MED-3.
func TestPTZThroughGate(t *testing.T) {
	ctx := context.Background()
	dev := onvif.NewSimServer(onvif.SimOptions{Username: "admin", Password: "pw"})
	srv := httptest.NewServer(dev)
	defer srv.Close()
	h, _, err := onvif.Connect(ctx, onvif.NewClient(srv.URL+"/onvif/device_service", "admin", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, 1, "", live.Options{PTZ: simPTZ{h}})

	if _, err := f.svc.PTZ(ctx, f.subj, "cam1", live.PTZCommand{Action: live.PTZMove, Pan: 1, Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := f.svc.PTZ(ctx, f.subj, "cam1", live.PTZCommand{Action: live.PTZStop}); err != nil {
		t.Fatal(err)
	}
	st := dev.Status()
	if st.Moving || st.Position.Pan <= 0.05 {
		t.Fatalf("device after move+stop: %+v", st)
	}
	res, err := f.svc.PTZ(ctx, f.subj, "cam1", live.PTZCommand{Action: live.PTZSetPreset, Name: "大门"})
	if err != nil || res.Preset == "" {
		t.Fatalf("set preset: %+v %v", res, err)
	}
	if _, err := f.svc.PTZ(ctx, f.subj, "cam1", live.PTZCommand{Action: live.PTZGotoPreset, Preset: "42"}); err == nil {
		t.Fatal("goto of an unknown preset succeeded")
	} else if pe, ok := problem.As(err); !ok || pe.Code != "live.ptz_failed" {
		t.Fatalf("unknown preset: %v", err)
	}

	// Without camera.ptz: refused, and the device sees no call.
	before := dev.Calls("ContinuousMove")
	viewer := *f.subj
	viewer.Grants = []policy.Grant{{Role: "viewer", Permissions: []policy.Permission{policy.CameraLive}, ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}
	if _, err := f.svc.PTZ(ctx, &viewer, "cam1", live.PTZCommand{Action: live.PTZMove, Tilt: -1}); err == nil {
		t.Fatal("PTZ without camera.ptz was allowed")
	}
	if dev.Calls("ContinuousMove") != before {
		t.Fatal("a refused command reached the device")
	}
	// PTZ reads no video: nothing in the access registry; every command
	// and the refusal are in the audit log.
	if recs := f.access(t, "cam1"); len(recs) != 0 {
		t.Fatalf("PTZ registered as a video access: %+v", recs)
	}
	entries, err := f.log.List(ctx, audit.Filter{Action: "gate.decide"})
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	denied := 0
	for _, e := range entries {
		if e.Details["action"] != "ptz" {
			continue
		}
		if e.Outcome == audit.Denied {
			denied++
		}
		methods = append(methods, fmt.Sprint(e.Details["method"]))
	}
	slices.Sort(methods)
	want := []string{"onvif:goto_preset", "onvif:move", "onvif:move", "onvif:set_preset", "onvif:stop"}
	if !slices.Equal(methods, want) || denied != 1 {
		t.Fatalf("audited PTZ commands %v (%d denied), want %v with 1 denied", methods, denied, want)
	}
}
