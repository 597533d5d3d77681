package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"vigil/internal/app"
	"vigil/internal/onvif"
	"vigil/internal/sim"
)

const adminPassword = "Vigil-Passw0rd-2026"

// client is a signed-in session of the HTTP API.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func signIn(t *testing.T, base, username, password string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	var ans struct {
		CSRF string `json:"csrf"`
	}
	c.do("POST", "/api/v1/session", map[string]string{"username": username, "password": password}, &ans)
	if ans.CSRF == "" {
		t.Fatalf("sign in %s: no CSRF token", username)
	}
	c.csrf = ans.CSRF
	return c
}

// try sends a JSON request, decodes a 2xx answer into out and returns the
// status and body.
func (c *client) try(method, path string, in, out any) (int, string) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %.200s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, string(b)
}

func (c *client) do(method, path string, in, out any) {
	c.t.Helper()
	if code, body := c.try(method, path, in, out); code/100 != 2 {
		c.t.Fatalf("%s %s: %d %s", method, path, code, body)
	}
}

func (c *client) id(path string, in any) string {
	c.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	c.do("POST", path, in, &out)
	if out.ID == "" {
		c.t.Fatalf("POST %s: no id", path)
	}
	return out.ID
}

func (c *client) rootUnit() string {
	var out struct {
		Units []struct {
			ID       string  `json:"id"`
			ParentID *string `json:"parent_id"`
		} `json:"units"`
	}
	c.do("GET", "/api/v1/units", nil, &out)
	for _, u := range out.Units {
		if u.ParentID == nil || *u.ParentID == "" {
			return u.ID
		}
	}
	c.t.Fatal("no root unit")
	return ""
}

func (c *client) roleID(name string) string {
	var out struct {
		Roles []struct{ ID, Name string } `json:"roles"`
	}
	c.do("GET", "/api/v1/roles", nil, &out)
	for _, r := range out.Roles {
		if r.Name == name {
			return r.ID
		}
	}
	c.t.Fatalf("no role %s", name)
	return ""
}

// startSimONVIF runs one simulated camera with its ONVIF device and
// returns the device service URL.
func startSimONVIF(t *testing.T, user, pass string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- sim.Run(ctx, sim.Options{Listen: "127.0.0.1:0", ONVIF: "127.0.0.1:0", Count: 1, Username: user, Password: pass,
			OnONVIF: func(a string) { addr <- a }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-addr:
		return "http://" + a + sim.ONVIFPath(1)
	case err := <-done:
		t.Fatalf("sim: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the simulator did not start")
	}
	return ""
}

// TestPTZOverONVIF drives a simulated camera's PTZ through Vigil's API:
// move, stop, set and go to a preset answer 200 and change the device; each
// command is in the audit log; a watcher without camera.ptz is refused
// before the device sees anything; a camera without ONVIF settings answers
// 501 live.ptz_unavailable; changed settings are used at once. // MED-3
func TestPTZOverONVIF(t *testing.T) {
	const devUser, devPass = "ptz-op", "Ptz-S3cret"
	devURL := startSimONVIF(t, devUser, devPass)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Start(ctx, app.Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", AdminPassword: adminPassword,
		Stdout: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("start vigil: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	admin := signIn(t, a.URL(), "admin", adminPassword)
	unit := admin.id("/api/v1/units", map[string]any{"name": "云台测试单位", "kind": "building_unit", "parent_id": admin.rootUnit(), "division": "420102"})
	onvifIn := map[string]any{"url": devURL, "username": devUser, "password": devPass}
	ptzCam := admin.id("/api/v1/cameras", map[string]any{"code": "42010200001320000021", "unit_id": unit, "name": "云台一号", "type": "ptz", "onvif": onvifIn})
	fixedCam := admin.id("/api/v1/cameras", map[string]any{"code": "42010200001320000022", "unit_id": unit, "name": "枪机二号", "type": "fixed"})
	var cam map[string]any
	admin.do("GET", "/api/v1/cameras/"+ptzCam, nil, &cam)
	if cam["has_onvif"] != true {
		t.Errorf("camera has_onvif = %v", cam["has_onvif"])
	}
	if b, _ := json.Marshal(cam); strings.Contains(string(b), devPass) {
		t.Errorf("the camera's file shows the ONVIF password: %s", b)
	}

	// The device as Vigil's own client sees it, for the checks.
	dev := onvif.NewClient(devURL, devUser, devPass)
	h, _, err := onvif.Connect(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	status := func() onvif.PTZStatus {
		t.Helper()
		st, err := dev.GetStatus(ctx, h.Profile)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	ptz := func(c *client, id string, cmd map[string]any, wantStatus int) string {
		t.Helper()
		code, body := c.try("POST", "/api/v1/cameras/"+id+"/ptz", cmd, nil)
		if code != wantStatus {
			t.Fatalf("PTZ %v on %s: %d %s, want %d", cmd, id, code, body, wantStatus)
		}
		return body
	}

	// A watcher (live and playback, no camera.ptz) is refused by the gate;
	// the device does not move.
	const initial, watcherPass = "Initial-Passw0rd-42", "Watcher-Passw0rd-42"
	uid := admin.id("/api/v1/users", map[string]any{"username": "watcher1", "name": "值班员", "unit_id": unit, "password": initial,
		"standing_purpose": "值班监看"})
	admin.do("POST", "/api/v1/users/"+uid+"/grants", map[string]string{"role_id": admin.roleID("watcher"), "scope_unit_id": unit}, nil)
	signIn(t, a.URL(), "watcher1", initial).do("POST", "/api/v1/me/password", map[string]string{"old_password": initial, "new_password": watcherPass}, nil)
	watcher := signIn(t, a.URL(), "watcher1", watcherPass)
	ptz(watcher, ptzCam, map[string]any{"action": "move", "pan": 0.5, "timeout_ms": 5000}, http.StatusForbidden)
	if st := status(); st.Moving || st.Position.Pan != 0 {
		t.Errorf("the device moved on a refused command: %+v", st)
	}

	// The operator moves right, stops, stores a preset, moves away and
	// goes back to it.
	ptz(admin, ptzCam, map[string]any{"action": "move", "pan": 0.5, "timeout_ms": 5000}, http.StatusOK)
	if st := status(); !st.Moving {
		t.Errorf("after move: device not moving %+v", st)
	}
	time.Sleep(300 * time.Millisecond)
	ptz(admin, ptzCam, map[string]any{"action": "stop"}, http.StatusOK)
	at := status()
	if at.Moving || at.Position.Pan <= 0 {
		t.Errorf("after move right and stop: %+v", at)
	}
	var set struct {
		Preset string `json:"preset"`
	}
	if err := json.Unmarshal([]byte(ptz(admin, ptzCam, map[string]any{"action": "set_preset", "name": "校门"}, http.StatusOK)), &set); err != nil || set.Preset == "" {
		t.Fatalf("set_preset answered no token: %v", err)
	}
	presets, err := dev.GetPresets(ctx, h.Profile)
	if err != nil || len(presets) != 1 || presets[0].Name != "校门" || presets[0].Token != set.Preset {
		t.Fatalf("device presets %+v %v", presets, err)
	}
	ptz(admin, ptzCam, map[string]any{"action": "move", "pan": -1, "tilt": 0.5, "timeout_ms": 5000}, http.StatusOK)
	time.Sleep(200 * time.Millisecond)
	ptz(admin, ptzCam, map[string]any{"action": "stop"}, http.StatusOK)
	if st := status(); st.Position.Pan >= at.Position.Pan {
		t.Errorf("after move left: pan %g, was %g", st.Position.Pan, at.Position.Pan)
	}
	ptz(admin, ptzCam, map[string]any{"action": "goto_preset", "preset": set.Preset}, http.StatusOK)
	if st := status(); st.Position.Pan != presets[0].Position.Pan || st.Position.Tilt != presets[0].Position.Tilt {
		t.Errorf("after goto_preset: %+v, want %+v", st.Position, *presets[0].Position)
	}

	// No ONVIF settings: 501.
	if body := ptz(admin, fixedCam, map[string]any{"action": "stop"}, http.StatusNotImplemented); !strings.Contains(body, "live.ptz_unavailable") {
		t.Errorf("camera without ONVIF: %s", body)
	}

	// Changed settings are used at once: a wrong password fails (502),
	// the right one works again.
	update := func(pass string) {
		t.Helper()
		admin.do("PUT", "/api/v1/cameras/"+ptzCam, map[string]any{"code": "42010200001320000021", "unit_id": unit, "name": "云台一号", "type": "ptz",
			"onvif": map[string]any{"url": devURL, "username": devUser, "password": pass}}, nil)
	}
	update("wrong")
	if body := ptz(admin, ptzCam, map[string]any{"action": "stop"}, http.StatusBadGateway); !strings.Contains(body, "live.ptz_failed") {
		t.Errorf("wrong ONVIF password: %s", body)
	}
	update(devPass)
	ptz(admin, ptzCam, map[string]any{"action": "stop"}, http.StatusOK)

	// The audit log holds each PTZ command, allowed or refused, with the
	// ONVIF operation.
	var log struct {
		Entries []struct {
			Action  string         `json:"action"`
			Object  string         `json:"object"`
			Outcome string         `json:"outcome"`
			Details map[string]any `json:"details"`
			Actor   struct {
				Name string `json:"name"`
			} `json:"actor"`
		} `json:"entries"`
	}
	auditor := signIn(t, a.URL(), "auditor", adminPassword) // the audit log is the auditor's alone (AUD-2)
	auditor.do("GET", "/api/v1/audit?action=gate.decide&limit=500", nil, &log)
	var got []string
	for _, e := range log.Entries {
		if e.Details["action"] == "ptz" {
			got = append(got, fmt.Sprintf("%s %s %v", e.Outcome, e.Actor.Name, e.Details["method"]))
		}
	}
	joined := strings.Join(got, "; ")
	for _, want := range []string{"onvif:move", "onvif:stop", "onvif:set_preset", "onvif:goto_preset"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the audit log has no PTZ %s entry: %s", want, joined)
		}
	}
	if len(got) != 10 || !strings.Contains(joined, "denied 值班员 onvif:move") {
		t.Errorf("PTZ audit entries (%d, want 10 with the watcher's refusal): %s", len(got), joined)
	}
}
