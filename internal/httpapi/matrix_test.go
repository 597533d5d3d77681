package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/identity"
	"vigil/internal/keyring"
	"vigil/internal/live"
	"vigil/internal/media"
	"vigil/internal/playback"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/registry"
	"vigil/internal/retention"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// The roles of the matrix: the built-in roles, granted over the unit
// "school" (system_admin and security_admin: the first accounts, over the
// root), and a user holding none.
var matrixRoles = []string{identity.RoleSystemAdmin, identity.RoleSecurityAdmin, identity.RoleUnitAdmin, identity.RoleAuditor, identity.RoleWatcher,
	identity.RoleInvestigator, "none"}

const (
	anyone   = "*"        // every signed-in role (self-service and public reads)
	hidden   = "404"      // denied roles may get 404: the object is another's, its existence is not told
	filtered = "filtered" // a list: denied roles get 200 with none of the fixture's objects in it
	sysAdm   = identity.RoleSystemAdmin
	secAdm   = identity.RoleSecurityAdmin

	rootAuditor = "auditor@root"
	unitAd      = identity.RoleUnitAdmin
	audtr       = identity.RoleAuditor
	watchr      = identity.RoleWatcher
	invest      = identity.RoleInvestigator
)

// route is one row of the role × route matrix: the request to send, and
// the roles allowed. Every other role is denied (403) and the denial is
// audited — deny by default.
type route struct {
	path  string // with {camera}, {unit}, … replaced by the fixture's ids
	body  any    // JSON body; a string is sent raw with ctype
	ctype string
	allow []string
	note  string // hidden: a denied role may also get 404
}

// matrix covers every route of the OpenAPI document: a route missing here
// fails TestRoleRouteMatrix (ACC-1, AUD-4).
func matrix() map[string]route {
	all := []string{anyone}
	camRead := []string{sysAdm, unitAd, watchr, invest}
	rows := map[string]route{
		// Sign-in and self-service: open to every signed-in role.
		"GET /openapi.json":        {path: "/openapi.json", allow: all},
		"POST /session":            {path: "/session", body: map[string]string{"username": "x", "password": "y"}, allow: all},
		"GET /session":             {path: "/session", allow: all},
		"DELETE /session":          {path: "/session", allow: all},
		"GET /oidc/login":          {path: "/oidc/login", allow: all},
		"GET /oidc/callback":       {path: "/oidc/callback", allow: all},
		"POST /auth/reauth":        {path: "/auth/reauth", body: map[string]string{"password": "wrong"}, allow: all},
		"POST /me/password":        {path: "/me/password", body: map[string]string{"old_password": "x", "new_password": "y"}, allow: all},
		"POST /me/totp":            {path: "/me/totp", allow: all},
		"POST /me/totp/confirm":    {path: "/me/totp/confirm", body: map[string]string{"code": "000000"}, allow: all},
		"DELETE /me/totp":          {path: "/me/totp", body: map[string]string{"password": "x"}, allow: all},
		"GET /profile":             {path: "/profile", allow: all},
		"GET /profiles":            {path: "/profiles", allow: all},
		"GET /units":               {path: "/units", allow: all}, // one's own unit at least
		"GET /units/{id}":          {path: "/units/{unit}", allow: all},
		"GET /roles":               {path: "/roles", allow: all},
		"GET /tokens":              {path: "/tokens", allow: all}, // one's own
		"DELETE /tokens/{id}":      {path: "/tokens/{token}", allow: []string{sysAdm}, note: hidden},
		"POST /tokens":             {path: "/tokens", body: map[string]any{"name": "t", "scopes": []string{"camera.live"}}, allow: []string{sysAdm, unitAd}},
		"GET /users":               {path: "/users", allow: []string{sysAdm, unitAd}},
		"GET /users/{id}":          {path: "/users/{user}", allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /users/{id}/grants":   {path: "/users/{user}/grants", allow: []string{sysAdm, unitAd}, note: hidden},
		"PATCH /whep/{session}":    {path: "/whep/nosuchsession", body: "a=candidate:1", ctype: "application/trickle-ice-sdpfrag", allow: all, note: hidden},
		"DELETE /whep/{session}":   {path: "/whep/nosuchsession", allow: all, note: hidden},
		"GET /recordings/forecast": {path: "/recordings/forecast", allow: []string{sysAdm}},

		// Units: admin.units; the kind and moves need more (see identity).
		"POST /units":            {path: "/units", body: map[string]string{"parent_id": "{unit}", "name": "新单位", "kind": "building_unit", "division": "310107"}, allow: []string{sysAdm, unitAd}},
		"PATCH /units/{id}":      {path: "/units/{unit}", body: map[string]string{"kind": "police"}, allow: []string{sysAdm}},
		"DELETE /units/{id}":     {path: "/units/{spareunit}", allow: []string{sysAdm, unitAd}, note: hidden},
		"PATCH /units/{id}#move": {path: "/units/{spareunit}", body: map[string]string{"parent_id": "{city}"}, allow: []string{sysAdm}, note: hidden},

		// Users and grants: admin.users; roles: admin.roles.
		"POST /users":                         {path: "/users", body: map[string]string{"username": "newbie", "name": "新人", "unit_id": "{unit}", "password": "Initial-Pass1"}, allow: []string{sysAdm, unitAd}},
		"PATCH /users/{id}":                   {path: "/users/{user}", body: map[string]string{"name": "改名"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /users/{id}/disable":            {path: "/users/{user}/disable", allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /users/{id}/enable":             {path: "/users/{user}/enable", allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /users/{id}/reset-password":     {path: "/users/{user}/reset-password", body: map[string]string{"new_password": "Reset-Pass-12"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /users/{id}/reset-totp":         {path: "/users/{user}/reset-totp", allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /users/{id}/grants":             {path: "/users/{user}/grants", body: map[string]string{"role_id": "{role}", "scope_unit_id": "{unit}"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"DELETE /users/{id}/grants/{grantId}": {path: "/users/{user}/grants/{grant}", allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /roles":                         {path: "/roles", body: map[string]any{"name": "r2", "permissions": []string{"camera.live"}}, allow: []string{secAdm}},
		"PATCH /roles/{id}":                   {path: "/roles/{role}", body: map[string]any{"description": "x"}, allow: []string{secAdm}},
		"DELETE /roles/{id}":                  {path: "/roles/{role}", allow: []string{secAdm}},

		// Audit and the access registry.
		"GET /audit":          {path: "/audit", allow: []string{audtr}}, // the auditor alone (AUD-2)
		"POST /audit/verify":  {path: "/audit/verify", allow: []string{audtr}},
		"GET /access-records": {path: "/access-records", allow: []string{sysAdm, unitAd, audtr}},

		// Camera files (一机一档): camera.admin writes; any camera permission reads.
		"GET /cameras":                  {path: "/cameras", allow: camRead, note: filtered},
		"POST /cameras":                 {path: "/cameras", body: "{camerabody}", allow: []string{sysAdm, unitAd}},
		"POST /cameras/import":          {path: "/cameras/import?unit_id={unit}&dry_run=true", body: "code,name,type\n31010700001320000009,东门,fixed\n", ctype: "text/csv", allow: []string{sysAdm, unitAd}},
		"GET /cameras/{id}":             {path: "/cameras/{camera}", allow: camRead, note: hidden},
		"PUT /cameras/{id}":             {path: "/cameras/{camera}", body: "{camerabody}", allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /cameras/{id}/history":     {path: "/cameras/{camera}/history", allow: camRead, note: hidden},
		"POST /cameras/{id}/admit":      {path: "/cameras/{camera}/admit", allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /cameras/{id}/deregister": {path: "/cameras/{camera}/deregister", body: map[string]string{"reason": "拆除"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /cameras/{id}/moves":      {path: "/cameras/{camera}/moves", body: map[string]any{"kind": "temporary", "restore_by": "2099-01-01", "consent_by": "公安"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"POST /cameras/{id}/consents":   {path: "/cameras/{camera}/consents", body: map[string]string{"zone_id": "z", "basis": "special_plan", "reference": "x"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /moves":                    {path: "/moves", allow: camRead, note: filtered},
		"POST /moves/{id}/restore":      {path: "/moves/{move}/restore", allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /catalogue":                {path: "/catalogue?unit_id={unit}", allow: camRead, note: filtered},
		"GET /completeness":             {path: "/completeness?unit_id={unit}", allow: camRead, note: filtered},
		"GET /sites":                    {path: "/sites?unit_id={unit}", allow: camRead, note: filtered},
		"POST /sites":                   {path: "/sites", body: map[string]any{"unit_id": "{unit}", "name": "校区", "category": "squares"}, allow: []string{sysAdm, unitAd}},
		"GET /zones":                    {path: "/zones", allow: camRead, note: filtered},
		"POST /zones":                   {path: "/zones", body: map[string]any{"name": "z", "kind": "other", "polygon": [][2]float64{{121, 31}, {121.1, 31}, {121, 31.1}}}, allow: []string{sysAdm}},
		"POST /coverage/check":          {path: "/coverage/check", body: map[string]any{"lat": 31.25, "lon": 121.4, "azimuth": 0, "fov": 90, "range": 50}, allow: camRead},
		"GET /coverage/area":            {path: "/coverage/area?south=31.2&west=121.3&north=31.3&east=121.5&rows=2&cols=2", allow: camRead},

		// Systems, archives, filings (备案), staff.
		"GET /systems":                   {path: "/systems?unit_id={unit}", allow: camRead, note: filtered},
		"POST /systems":                  {path: "/systems", body: map[string]any{"unit_id": "{unit}", "name": "系统二"}, allow: []string{sysAdm, unitAd}},
		"GET /systems/{id}":              {path: "/systems/{system}", allow: camRead, note: hidden},
		"POST /systems/{id}/attachments": {path: "/systems/{system}/attachments?kind=acceptance&name=a.pdf", body: "%PDF-1.4\n%%EOF\n", ctype: "application/pdf", allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /attachments/{id}":          {path: "/attachments/{attachment}", allow: camRead, note: hidden},
		"GET /filings":                   {path: "/filings?unit_id={unit}", allow: camRead, note: filtered},
		"POST /filings":                  {path: "/filings", body: map[string]any{"system_id": "{system}", "kind": "initial"}, allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /filings/overdue":           {path: "/filings/overdue?unit_id={unit}", allow: camRead, note: filtered},
		"POST /filings/{id}/accept":      {path: "/filings/{filing}/accept", allow: []string{}, note: hidden}, // only a police unit above the filer
		"POST /filings/{id}/return":      {path: "/filings/{filing}/return", body: map[string]string{"reason": "缺材料"}, allow: []string{}, note: hidden},
		"GET /filings/{id}/form":         {path: "/filings/{filing}/form", allow: camRead, note: hidden},
		"GET /staff":                     {path: "/staff?unit_id={unit}", allow: camRead, note: filtered},
		"POST /staff":                    {path: "/staff", body: map[string]any{"unit_id": "{unit}", "name": "值班员", "role": "watcher"}, allow: []string{sysAdm, unitAd}},
		"PUT /staff/{id}":                {path: "/staff/{staff}", body: map[string]any{"unit_id": "{unit}", "name": "值班员乙", "role": "watcher"}, allow: []string{sysAdm, unitAd}, note: hidden},

		// Recordings and retention.
		"GET /cameras/{id}/recordings":    {path: "/cameras/{camera}/recordings", allow: []string{sysAdm, unitAd, watchr, invest}, note: hidden},
		"DELETE /cameras/{id}/recordings": {path: "/cameras/{camera}/recordings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", allow: []string{}, note: hidden}, // footage goes only by retention
		"GET /cameras/{id}/playback":      {path: "/cameras/{camera}/playback?start=2026-01-01T00:00:00Z&duration=60&purpose=x", allow: []string{sysAdm, unitAd, watchr, invest}, note: hidden},
		"GET /cameras/{id}/retention":     {path: "/cameras/{camera}/retention", allow: camRead, note: hidden},
		"PUT /cameras/{id}/retention":     {path: "/cameras/{camera}/retention", body: map[string]int{"days": 60}, allow: []string{sysAdm, unitAd}, note: hidden},
		"GET /holds":                      {path: "/holds?camera={camera}", allow: []string{sysAdm, invest}, note: hidden},
		"POST /holds":                     {path: "/holds", body: "{holdbody}", allow: []string{sysAdm, invest}, note: hidden},
		"POST /holds/{id}/release":        {path: "/holds/{hold}/release", allow: []string{sysAdm, invest}, note: hidden},

		// Live view and PTZ (the gate).
		"POST /cameras/{id}/whep":        {path: "/cameras/{camera}/whep?purpose=x", body: sdpOffer, ctype: "application/sdp", allow: []string{sysAdm, unitAd, watchr, invest}, note: hidden},
		"GET /cameras/{id}/live/info":    {path: "/cameras/{camera}/live/info?purpose=x", allow: []string{sysAdm, unitAd, watchr, invest}, note: hidden},
		"GET /cameras/{id}/live.mp4":     {path: "/cameras/{camera}/live.mp4?purpose=x", allow: []string{sysAdm, unitAd, watchr, invest}, note: hidden},
		"GET /cameras/{id}/ingest":       {path: "/cameras/{camera}/ingest", allow: camRead, note: hidden},
		"GET /ingest":                    {path: "/ingest", allow: camRead, note: filtered},
		"GET /cameras/{id}/snapshot.jpg": {path: "/cameras/{camera}/snapshot.jpg?purpose=x", allow: []string{sysAdm, unitAd, watchr, invest}, note: hidden},
		"POST /cameras/{id}/ptz":         {path: "/cameras/{camera}/ptz", body: map[string]any{"action": "stop"}, allow: []string{sysAdm, unitAd}, note: hidden},
	}
	// security_admin holds every permission but admin.system and
	// audit.read (AUD-2), over the root like system_admin: it may do what
	// system_admin may, except the rows that need admin.system.
	needsSystem := map[string]bool{"PATCH /units/{id}": true, "DELETE /tokens/{id}": true, "POST /zones": true, "GET /recordings/forecast": true}
	for k, r := range rows {
		if contains(r.allow, sysAdm) && !needsSystem[k] {
			r.allow = append(r.allow, secAdm)
			rows[k] = r
		}
	}
	return rows
}

// documentedRoutes lists "METHOD /path" of the OpenAPI document, /api/v1
// stripped.
// sdpOffer is a minimal WebRTC offer with a video m-line.
const sdpOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n" +
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n" +
	"a=setup:actpass\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"

func documentedRoutes(t *testing.T) []string {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "post", "put", "patch", "delete":
				out = append(out, strings.ToUpper(m)+" "+strings.TrimPrefix(p, "/api/v1"))
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestRoleRouteMatrixCoversOpenAPI: every documented route has a row; a
// route added without one fails here (ACC-1).
func TestRoleRouteMatrixCoversOpenAPI_ACC1(t *testing.T) {
	m := matrix()
	var missing []string
	for _, r := range documentedRoutes(t) {
		if _, ok := m[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("routes of the OpenAPI document without a row in the role × route matrix (matrix_test.go):\n  %s", strings.Join(missing, "\n  "))
	}
	for k := range m {
		if r := strings.Split(k, "#")[0]; !contains(documentedRoutes(t), r) {
			t.Errorf("matrix row %q names no documented route", k)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type matrixEnv struct {
	t    *testing.T
	srv  *httptest.Server
	db   *store.DB
	ids  map[string]string
	hc   map[string]*http.Client
	csrf map[string]string
}

func (e *matrixEnv) expand(s string) string {
	for k, v := range e.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func (e *matrixEnv) call(role, method, path string, body any, ctype string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		switch b {
		case "{camerabody}":
			body := cameraBody("31010700001320000077", "school_gate")
			body["unit_id"] = e.ids["unit"]
			j, _ := json.Marshal(body)
			rd, ctype = bytes.NewReader(j), "application/json"
		case "{holdbody}":
			j, _ := json.Marshal(map[string]any{"camera_id": e.ids["camera"], "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z",
				"reason": "刑事案件取证", "case_number": "沪公(刑)字[2026]1号", "until": time.Now().AddDate(3, 0, 0).Format(time.RFC3339)})
			rd, ctype = bytes.NewReader(j), "application/json"
		default:
			rd = strings.NewReader(e.expand(b))
		}
	default:
		j, _ := json.Marshal(body)
		rd, ctype = strings.NewReader(e.expand(string(j))), "application/json"
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/api/v1"+e.expand(path), rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept-Language", "en")
	hc := http.DefaultClient
	if role != "" {
		hc = e.hc[role]
		req.Header.Set(CSRFHeader, e.csrf[role])
	}
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *matrixEnv) denials() int {
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entries WHERE outcome = 'denied'`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// newMatrixEnv serves the whole API (New) over a fresh database with a
// user per role, and the objects the routes name, made by the system
// administrator.
func newMatrixEnv(t *testing.T, db *store.DB) *matrixEnv {
	t.Helper()
	ctx := context.Background()
	kr := storetest.Keyring(t, keyring.Standard)
	l := audit.New(db, kr)
	t.Cleanup(l.Close)
	p, err := profile.Load(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	idsvc := identity.New(db, l, kr, identity.Options{Argon2: identity.Argon2Params{Time: 1, Memory: 1024, Threads: 1},
		SignInPerAddress: 100000, SignInPerUser: 100000})
	if _, err := idsvc.Bootstrap(ctx, identity.OnePassword(testAdminPassword)); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewLocal([]string{t.TempDir()}, -1)
	if err != nil {
		t.Fatal(err)
	}
	x := record.NewIndex(db, kr)
	gate := policy.NewGate(db, l, p)
	lv, err := live.New(media.NewHub(), gate, live.CamerasFunc(func(ctx context.Context, id string) (policy.Camera, error) {
		c, err := record.LookupCamera(ctx, db, id)
		if err != nil {
			return policy.Camera{}, err
		}
		return policy.Camera{ID: c.ID, Name: c.Name, UnitID: c.UnitID, UnitPath: c.UnitPath}, nil
	}), live.Options{WebRTC: live.WebRTCOptions{Interfaces: []string{"lo"}, IncludeLoopback: true}, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lv.Close() })
	// Each denial comes two coalescing windows after the last, so each is
	// written at once (coalescing has its own test).
	var tick time.Time
	now := func() time.Time { tick = tick.Add(2 * DefaultDenialWindow); return tick }
	srv := httptest.NewServer(New(Deps{Now: now, Ping: db.SQL().PingContext, Audit: l, Identity: idsvc, Gate: gate,
		Registry:   registry.New(db, l, p, kr, registry.DirStore{Dir: t.TempDir()}),
		Recordings: RecordingDeps{Playback: playback.NewService(x, st, gate), Retention: retention.New(x, st, l, p)},
		Live:       LiveDeps{Live: lv}, Ingest: IngestDeps{Recorder: record.New(media.NewHub(), st, x, l, record.Options{})}, Profile: p, Keyring: kr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	e := &matrixEnv{t: t, srv: srv, db: db, ids: map[string]string{}, hc: map[string]*http.Client{}, csrf: map[string]string{}}
	signIn := func(role, user, pw string) {
		jar, _ := cookiejar.New(nil)
		e.hc[role] = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		st, b := e.call(role, "POST", "/session", map[string]string{"username": user, "password": pw}, "")
		var s struct{ CSRF string }
		if json.Unmarshal(b, &s); st != 200 || s.CSRF == "" {
			t.Fatalf("sign-in of %s: %d %s", user, st, b)
		}
		e.csrf[role] = s.CSRF
	}
	signIn(sysAdm, "admin", testAdminPassword)
	signIn(secAdm, "secadmin", testAdminPassword)
	signIn(rootAuditor, "auditor", testAdminPassword) // not a matrix role: the first auditor, over the root
	mkAs := func(role, what, method, path string, body any, ctype string) map[string]any {
		t.Helper()
		st, b := e.call(role, method, path, body, ctype)
		if st >= 300 {
			t.Fatalf("fixture %s: %d %s", what, st, b)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	mk := func(what, method, path string, body any, ctype string) map[string]any {
		t.Helper()
		return mkAs(sysAdm, what, method, path, body, ctype)
	}
	var root string
	for _, u := range mk("units", "GET", "/units", nil, "")["units"].([]any) {
		root = u.(map[string]any)["id"].(string)
	}
	e.ids["city"] = mk("city", "POST", "/units", map[string]string{"parent_id": root, "name": "市局", "kind": "police", "division": "310107"}, "")["id"].(string)
	e.ids["unit"] = mk("school", "POST", "/units", map[string]string{"parent_id": "{city}", "name": "学校", "kind": "building_unit", "division": "310107"}, "")["id"].(string)
	e.ids["spareunit"] = mk("spare", "POST", "/units", map[string]string{"parent_id": "{unit}", "name": "空单位", "kind": "building_unit", "division": "310107"}, "")["id"].(string)
	for _, role := range matrixRoles[2:] {
		roles := []string{role}
		if role == "none" {
			roles = nil
		}
		if err := idsvc.CreateUserCLI(ctx, "u-"+strings.ReplaceAll(role, "_", ""), "用户"+role, e.ids["unit"], "Matrix-Pass-1", roles); err != nil {
			t.Fatal(err)
		}
		signIn(role, "u-"+strings.ReplaceAll(role, "_", ""), "Matrix-Pass-1")
	}
	e.ids["user"] = mk("user", "POST", "/users", map[string]string{"username": "target", "name": "目标", "unit_id": "{unit}", "password": "Initial-Pass1"}, "")["id"].(string)
	e.ids["role"] = mkAs(secAdm, "role", "POST", "/roles", map[string]any{"name": "巡查", "permissions": []string{"camera.live"}}, "")["id"].(string)
	e.ids["grant"] = mk("grant", "POST", "/users/{user}/grants", map[string]string{"role_id": "{role}", "scope_unit_id": "{unit}"}, "")["id"].(string)
	e.ids["token"] = mk("token", "POST", "/tokens", map[string]any{"name": "t", "scopes": []string{"camera.live"}}, "")["id"].(string)
	cam := cameraBody("31010700001320000001", "school_gate")
	cam["unit_id"] = e.ids["unit"]
	e.ids["camera"] = mk("camera", "POST", "/cameras", cam, "")["id"].(string)
	e.ids["system"] = mk("system", "POST", "/systems", map[string]any{"unit_id": "{unit}", "name": "校园监控", "in_use_on": "2026-01-02"}, "")["id"].(string)
	e.ids["attachment"] = mk("attachment", "POST", "/systems/{system}/attachments?kind=acceptance&name=a.pdf", "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")["id"].(string)
	e.ids["filing"] = mk("filing", "POST", "/filings", map[string]any{"system_id": "{system}", "kind": "initial"}, "")["id"].(string)
	e.ids["move"] = mk("move", "POST", "/cameras/{camera}/moves", map[string]any{"kind": "temporary", "restore_by": "2099-01-01", "consent_by": "公安"}, "")["id"].(string)
	e.ids["staff"] = mk("staff", "POST", "/staff", map[string]any{"unit_id": "{unit}", "name": "值班员", "role": "watcher"}, "")["id"].(string)
	e.ids["hold"] = mk("hold", "POST", "/holds", "{holdbody}", "")["id"].(string)
	return e
}

// TestRoleRouteMatrix_ACC1: every route × every built-in role. A role not
// allowed is refused with 403 (or 404 where the row says the object's
// existence is hidden) and the refusal has exactly one audit entry (AUD-4);
// an allowed role is not refused on reads. Writes are sent only to denied
// roles, so the fixture stays as made.
func TestRoleRouteMatrix_ACC1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newMatrixEnv(t, db)
		rows := matrix()
		keys := make([]string, 0, len(rows))
		for k := range rows {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r := rows[k]
			method := strings.Fields(k)[0]
			for _, role := range matrixRoles {
				allowed := contains(r.allow, anyone) || contains(r.allow, role)
				if allowed && method != "GET" {
					continue
				}
				before := e.denials()
				st, b := e.call(role, method, r.path, r.body, r.ctype)
				if allowed {
					if st == 401 || st == 403 {
						t.Errorf("%s as %s: refused %d %s", k, role, st, b)
					}
					continue
				}
				if st == 404 && r.note == hidden {
					t.Logf("HIDDEN %s as %s", k, role)
					continue
				}
				if r.note == filtered && st == 200 {
					for name, id := range e.ids {
						if strings.Contains(string(b), id) {
							t.Errorf("%s as %s: the list shows %s %s", k, role, name, id)
						}
					}
					continue
				}
				if st != 403 {
					t.Errorf("%s as %s: %d, want 403 (deny by default): %s", k, role, st, trim(b))
					continue
				}
				if n := e.denials() - before; n != 1 {
					t.Errorf("%s as %s: refused with %d audit entries, want 1", k, role, n)
				}
			}
		}
		// Anonymous callers are refused and audited too.
		before := e.denials()
		if st, _ := e.call("", "GET", "/cameras", nil, ""); st != 401 {
			t.Fatalf("anonymous: %d", st)
		}
		if e.denials() != before+1 {
			t.Fatal("an anonymous refusal was not audited")
		}
	})
}

func trim(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
