package registry

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func TestParseCode(t *testing.T) { // REG-1
	for _, tc := range []struct {
		code string
		part string // "" when valid
	}{
		{"31010700001320000001", ""},
		{"44030500001310000123", ""},
		{"3101070000132000000", "length"},
		{"3101070000132000000x", "digits"},
		{"99010700001320000001", "division"},
		{"11000100001320000001", "division"},
		{"31010700001110000001", "type"}, // 111 is a DVR, not a camera
		{"31010700005000000001", "type"}, // 500 is outside the table
	} {
		_, err := ParseCode(tc.code)
		var ce *CodeError
		switch {
		case tc.part == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.code, err)
		case tc.part != "" && (!errors.As(err, &ce) || ce.Part != tc.part):
			t.Errorf("%s: %v, want a %s error", tc.code, err, tc.part)
		}
	}
	c, _ := ParseCode("31010700001320000001")
	if c.Division != "310107" || c.Type != 132 || c.Industry != "00" || c.Serial != "000001" {
		t.Errorf("parsed %+v", c)
	}
}

func TestWGS84ToGCJ02(t *testing.T) { // REG-1
	// Reference point (Beijing, Tiananmen) of the published transform.
	lat, lon := WGS84ToGCJ02(39.915, 116.404)
	if math.Abs(lat-39.91640428150164) > 1e-9 || math.Abs(lon-116.41024449916938) > 1e-9 {
		t.Errorf("Beijing: %.12f %.12f", lat, lon)
	}
	// Outside China the transform is the identity.
	if lat, lon := WGS84ToGCJ02(35.6895, 139.6917); lat != 35.6895 || lon != 139.6917 {
		t.Errorf("Tokyo moved: %v %v", lat, lon)
	}
	// The GCJ-02 offset in Shanghai is a few hundred metres.
	la, lo := WGS84ToGCJ02(31.2304, 121.4737)
	d := math.Hypot((la-31.2304)*111195, (lo-121.4737)*111195*math.Cos(31.23*math.Pi/180))
	if d < 100 || d > 1000 {
		t.Errorf("Shanghai offset %.0f m", d)
	}
}

func TestCompletenessWeightsSumTo100(t *testing.T) { // REG-1
	sum := 0
	for _, w := range weights {
		sum += w.weight
	}
	if sum != 100 {
		t.Fatalf("weights sum to %d", sum)
	}
	f := completeFile(1, "site")
	if score, missing := Completeness(&f); score != 100 || len(missing) != 0 {
		t.Errorf("complete file scored %d, missing %v", score, missing)
	}
	f.Vendor, f.Azimuth = "", nil
	if score, missing := Completeness(&f); score != 90 || !slices.Equal(missing, []string{"vendor", "azimuth"}) {
		t.Errorf("scored %d, missing %v", score, missing)
	}
}

func TestRegisterAuditHistoryAndScope(t *testing.T) { // REG-1, REG-2
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		src := "rtsp://admin:secret@10.0.0.5:554/ch1"
		c, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(1, ""), SourceURL: &src})
		if err != nil {
			t.Fatal(err)
		}
		if c.State != StateRegistered || c.GCJ02 == nil || !c.HasSource || c.Completeness != 94 {
			t.Errorf("registered %+v", c)
		}
		if got, err := fx.reg.SourceURL(ctx, c.ID); err != nil || got != src {
			t.Errorf("source url %q %v", got, err)
		}
		var enc string
		db.QueryRow(ctx, `SELECT source_url_enc FROM cameras WHERE id = ?`, c.ID).Scan(&enc)
		if strings.Contains(enc, "secret") {
			t.Error("the stream URL is stored in clear")
		}
		// Duplicate code refused.
		_, err = fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(1, "")})
		wantCode(t, err, "registry.duplicate_code")
		// Outside the subject's scope.
		f := completeFile(2, "")
		f.UnitID = "jingan"
		_, err = fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f})
		var denied *policy.DeniedError
		if !errors.As(err, &denied) {
			t.Fatalf("register outside scope: %v", err)
		}
		if _, err := fx.reg.Camera(ctx, fx.other, c.ID); err == nil {
			t.Error("jingan admin read a putuo camera")
		}
		// The district police read the file (they review its filing).
		if _, err := fx.reg.Camera(ctx, fx.cop, c.ID); err != nil {
			t.Errorf("police read: %v", err)
		}
		// Update: each changed field in the history.
		up := completeFile(1, "")
		up.Name, up.Firmware = "校门东", "V5.8"
		c2, err := fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: up})
		if err != nil {
			t.Fatal(err)
		}
		if c2.Name != "校门东" || !c2.HasSource {
			t.Errorf("updated %+v", c2)
		}
		h, err := fx.reg.History(ctx, fx.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for _, ch := range h {
			fields = append(fields, ch.Action+":"+ch.Field)
		}
		if !slices.Equal(fields, []string{"register:*", "update:name", "update:firmware"}) {
			t.Errorf("history %v", fields)
		}
		for _, ch := range h {
			if ch.Field == "name" && (ch.Old != "校门 1" || ch.New != "校门东" || ch.ActorID != "admin") {
				t.Errorf("name change %+v", ch)
			}
		}
		acts := auditActions(t, db)
		if !slices.Contains(acts, "camera.register") || !slices.Contains(acts, "camera.update") {
			t.Errorf("audit %v", acts)
		}
		list, total, err := fx.reg.Cameras(ctx, fx.admin, CameraFilter{})
		if err != nil || total != 1 || len(list) != 1 {
			t.Errorf("list %d %v", total, err)
		}
		if list, _, _ := fx.reg.Cameras(ctx, fx.other, CameraFilter{}); len(list) != 0 {
			t.Errorf("jingan sees %d cameras", len(list))
		}
	})
}

func TestProhibitedPlacesRefused(t *testing.T) { // REG-6
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		for i, pt := range profile.PlaceTypes() {
			f := completeFile(100+i, "")
			f.PlaceType = pt.Code
			_, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f})
			pe := wantCode(t, err, "registry.prohibited_place")
			if pe.Status != 422 || pe.Params["place"] != pt.Code || pe.Params["article"] == "" || pe.Params["rule"] != "REG-6" {
				t.Errorf("%s: %+v", pt.Code, pe)
			}
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM cameras`).Scan(&n)
		if n != 0 {
			t.Errorf("%d cameras stored at prohibited places", n)
		}
	})
}

func TestLifecycle(t *testing.T) { // REG-2, REG-7, REG-9, REG-12
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		site, err := fx.reg.CreateSite(ctx, fx.admin, SiteInput{UnitID: "school", Name: "某中学", Category: "schools", SecurityKey: true, Public: true})
		if err != nil {
			t.Fatal(err)
		}
		if !site.Mandated || site.MinRetentionDays < 30 || len(site.RetentionCite) == 0 {
			t.Errorf("site %+v", site)
		}
		// Incomplete: admission refused.
		f := completeFile(1, site.ID)
		f.Vendor = ""
		c, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f})
		if err != nil {
			t.Fatal(err)
		}
		pe := wantCode(t, func() error { _, err := fx.reg.Admit(ctx, fx.admin, c.ID); return err }(), "registry.incomplete")
		if !strings.Contains(pe.Params["missing"].(string), "vendor") {
			t.Errorf("missing %v", pe.Params)
		}
		f.Vendor = "大华"
		f.Signage = false
		if c, err = fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: f}); err != nil {
			t.Fatal(err)
		}
		if !c.SignageMissing {
			t.Error("public camera without signage not reported")
		}
		if l, _, _ := fx.reg.Cameras(ctx, fx.admin, CameraFilter{NoSignage: true}); len(l) != 1 {
			t.Errorf("no-signage filter found %d", len(l))
		}
		// Inside a protected zone: admission needs consent.
		if _, err := fx.reg.CreateZone(ctx, fx.admin, ZoneInput{Name: "x", Kind: "military", Polygon: [][2]float64{{0, 0}, {1, 0}, {1, 1}}}); err == nil {
			t.Error("a unit admin drew a protected zone")
		}
		z, err := fx.reg.CreateZone(ctx, fx.cop, ZoneInput{Name: "某营区", Kind: "military",
			Polygon: [][2]float64{{121.39, 31.24}, {121.41, 31.24}, {121.41, 31.26}, {121.39, 31.26}}})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, func() error { _, err := fx.reg.Admit(ctx, fx.admin, c.ID); return err }(), "registry.zone_consent_required")
		if err := fx.reg.RecordConsent(ctx, fx.admin, c.ID, ConsentInput{ZoneID: z.ID, Basis: "consent", GrantedBy: "营区管理处", Reference: "2026-01"}); err != nil {
			t.Fatal(err)
		}
		if c, err = fx.reg.Admit(ctx, fx.admin, c.ID); err != nil || c.State != StateAdmitted {
			t.Fatalf("admit: %v", err)
		}
		if c, err = fx.reg.SetOnline(ctx, c.ID, true); err != nil || c.State != StateOnline {
			t.Fatalf("online: %v", err)
		}
		if c, err = fx.reg.SetOnline(ctx, c.ID, false); err != nil || c.State != StateOffline {
			t.Fatalf("offline: %v", err)
		}
		// Admitting twice is a bad transition.
		wantCode(t, func() error { _, err := fx.reg.Admit(ctx, fx.admin, c.ID); return err }(), "registry.bad_transition")
		// Temporary move: consent and restoration date; overdue once past it.
		if _, err := fx.reg.RecordMove(ctx, fx.admin, c.ID, MoveInput{Kind: "temporary", RestoreBy: "2026-05-01"}); err == nil {
			t.Error("temporary move without consent accepted")
		}
		m, err := fx.reg.RecordMove(ctx, fx.admin, c.ID, MoveInput{Kind: "temporary", ConsentBy: "某学校", RestoreBy: "2026-05-01"})
		if err != nil {
			t.Fatal(err)
		}
		if od, _ := fx.reg.Moves(ctx, fx.admin, true); len(od) != 1 || od[0].ID != m.ID {
			t.Errorf("overdue moves %+v", od)
		}
		if err := fx.reg.Restore(ctx, fx.admin, m.ID); err != nil {
			t.Fatal(err)
		}
		if od, _ := fx.reg.Moves(ctx, fx.admin, true); len(od) != 0 {
			t.Errorf("restored move still overdue")
		}
		// Mandated site: removal needs a replacement plan.
		_, err = fx.reg.Deregister(ctx, fx.admin, c.ID, DeregisterInput{Reason: "改造"})
		wantCode(t, err, "registry.replacement_plan_required")
		r, err := fx.reg.Deregister(ctx, fx.admin, c.ID, DeregisterInput{Reason: "改造", ReplacementPlan: "新点位 31010700001320000099"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Camera.State != StateDeregistered || r.Camera.Enabled || (r.FilingRequired && r.FilingDueOn == "") {
			t.Errorf("removal %+v", r)
		}
		acts := strings.Join(auditActions(t, db), " ")
		for _, a := range []string{"camera.register", "camera.admit", "camera.online", "camera.offline", "camera.deregister", "zone.consent", "camera.move"} {
			if !strings.Contains(acts, a) {
				t.Errorf("audit lacks %s: %s", a, acts)
			}
		}
	})
}
