package registry

import (
	"context"
	"testing"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestTransportPerCamera_MED1: a camera's RTSP transport is chosen in its
// file (auto by default), changed with history, read by the recorder, and
// a value that is none of auto, tcp, udp, multicast is refused. Before,
// neither the API nor the console could choose it. // MED-1
func TestTransportPerCamera_MED1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		c, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(1, "")})
		if err != nil {
			t.Fatal(err)
		}
		if c.Transport != "auto" {
			t.Fatalf("default transport %q", c.Transport)
		}
		udp := "udp"
		c, err = fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: c.CameraFile, Transport: &udp})
		if err != nil || c.Transport != "udp" {
			t.Fatalf("update: %v %+v", err, c)
		}
		if got, err := fx.reg.Transport(ctx, c.ID); err != nil || got != "udp" {
			t.Fatalf("Transport() = %q %v", got, err)
		}
		h, err := fx.reg.History(ctx, fx.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ch := range h {
			found = found || ch.Field == "transport" && ch.Old == "auto" && ch.New == "udp"
		}
		if !found {
			t.Errorf("no history entry for the transport change: %+v", h)
		}
		bad := "sctp"
		_, err = fx.reg.Update(ctx, fx.admin, c.ID, CameraInput{CameraFile: c.CameraFile, Transport: &bad})
		wantCode(t, err, "registry.bad_transport")
		tcp := "tcp"
		c2, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(2, ""), Transport: &tcp})
		if err != nil || c2.Transport != "tcp" {
			t.Fatalf("register with tcp: %v %+v", err, c2)
		}
	})
}
