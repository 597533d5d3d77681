package registry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func sptr(s string) *string { return &s }

// TestONVIFSettingsSealedAndNeverReturned stores a camera's ONVIF settings:
// the password is sealed at rest, absent from the read model, the history
// and the audit log, and unsealed only by Service.ONVIF; nil keeps, a nil
// password keeps the stored one, an empty URL clears. // MED-3
func TestONVIFSettingsSealedAndNeverReturned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		const secret = "Ptz-S3cret-Word"
		c, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(1, ""),
			ONVIF: &ONVIFInput{URL: " http://10.0.0.5/onvif/device_service ", Username: "operator", Password: sptr(secret)}})
		if err != nil {
			t.Fatal(err)
		}
		if !c.HasONVIF {
			t.Errorf("registered camera has_onvif = false")
		}
		b, _ := json.Marshal(c)
		if strings.Contains(string(b), secret) || !strings.Contains(string(b), `"has_onvif":true`) {
			t.Errorf("read model %s", b)
		}
		var enc, user string
		if err := db.QueryRow(ctx, `SELECT onvif_password_enc, onvif_user FROM cameras WHERE id = ?`, c.ID).Scan(&enc, &user); err != nil {
			t.Fatal(err)
		}
		if enc == "" || strings.Contains(enc, secret) || user != "operator" {
			t.Errorf("stored password %q user %q: want sealed", enc, user)
		}
		u, n, p, err := fx.reg.ONVIF(ctx, c.ID)
		if err != nil || u != "http://10.0.0.5/onvif/device_service" || n != "operator" || p != secret {
			t.Errorf("ONVIF() = %q %q %q %v", u, n, p, err)
		}

		// A new address without a password keeps the stored password.
		c2, err := fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: completeFile(1, ""),
			ONVIF: &ONVIFInput{URL: "https://10.0.0.6/onvif/device_service", Username: "operator"}})
		if err != nil {
			t.Fatal(err)
		}
		if u, _, p, _ := fx.reg.ONVIF(ctx, c.ID); u != "https://10.0.0.6/onvif/device_service" || p != secret || !c2.HasONVIF {
			t.Errorf("after address change: %q %q has_onvif=%v", u, p, c2.HasONVIF)
		}
		// nil keeps everything.
		up := completeFile(1, "")
		up.Name = "云台 1"
		if _, err := fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: up}); err != nil {
			t.Fatal(err)
		}
		if u, _, p, _ := fx.reg.ONVIF(ctx, c.ID); u == "" || p != secret {
			t.Errorf("an update without onvif changed it: %q %q", u, p)
		}
		h, err := fx.reg.History(ctx, fx.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		hb, _ := json.Marshal(h)
		if !strings.Contains(string(hb), `"field":"onvif"`) || strings.Contains(string(hb), secret) {
			t.Errorf("history %s", hb)
		}
		var leaked int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entries WHERE details LIKE ?`, "%"+secret+"%").Scan(&leaked)
		if leaked != 0 {
			t.Errorf("%d audit entries hold the ONVIF password", leaked)
		}
		// An empty address clears the settings.
		c3, err := fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: up, ONVIF: &ONVIFInput{}})
		if err != nil {
			t.Fatal(err)
		}
		if u, n, p, err := fx.reg.ONVIF(ctx, c.ID); err != nil || u != "" || n != "" || p != "" || c3.HasONVIF {
			t.Errorf("after clearing: %q %q %q %v has_onvif=%v", u, n, p, err, c3.HasONVIF)
		}
		if _, _, _, err := fx.reg.ONVIF(ctx, "no-such-camera"); err != store.ErrNotFound {
			t.Errorf("ONVIF of a missing camera: %v", err)
		}
	})
}

// TestONVIFSettingsValidated refuses addresses that are not http(s)
// device-service URLs or that carry credentials. // MED-3
func TestONVIFSettingsValidated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		for i, tc := range []struct {
			name string
			in   ONVIFInput
		}{
			{"rtsp scheme", ONVIFInput{URL: "rtsp://10.0.0.5/onvif/device_service"}},
			{"no host", ONVIFInput{URL: "http:///onvif/device_service"}},
			{"relative", ONVIFInput{URL: "/onvif/device_service"}},
			{"credentials in the address", ONVIFInput{URL: "http://admin:pw@10.0.0.5/onvif/device_service"}},
			{"password too long", ONVIFInput{URL: "http://10.0.0.5/", Password: sptr(strings.Repeat("x", 201))}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := tc.in
				_, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(10+i, ""), ONVIF: &in})
				wantCode(t, err, "registry.bad_onvif")
			})
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM cameras`).Scan(&n)
		if n != 0 {
			t.Errorf("%d cameras registered with bad ONVIF settings", n)
		}
	})
}
