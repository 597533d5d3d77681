package live_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/live"
	"vigil/internal/media"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/sim"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// fixture is a live service over a hub fed by simulated cameras, with a
// real gate on SQLite.
type fixture struct {
	svc  *live.Service
	gate *policy.Gate
	hub  *media.Hub
	subj *policy.Subject
	stop context.CancelFunc // stops the simulated cameras
	log  *audit.Log
}

// staticCameras is the camera resolver of the tests: camera id = hub name.
type staticCameras map[string]policy.Camera

func (c staticCameras) GateCamera(_ context.Context, id string) (policy.Camera, error) {
	cam, ok := c[id]
	if !ok {
		return cam, fmt.Errorf("camera %s: %w", id, store.ErrNotFound)
	}
	return cam, nil
}

func (c staticCameras) StreamName(id string) string { return id }

// newFixture starts n simulated cameras cam1…camN (H.264 with audio) and
// the live service.
func newFixture(t testing.TB, n int, audio media.Codec, opts live.Options) *fixture {
	t.Helper()
	return newFixtureCodec(t, n, media.H264, audio, opts)
}

// newFixtureCodec is newFixture with the cameras' video codec.
func newFixtureCodec(t testing.TB, n int, video, audio media.Codec, opts live.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	for _, u := range []struct{ id, parent, path string }{{"city", "", "/city/"}, {"putuo", "city", "/city/putuo/"}} {
		var parent any
		if u.parent != "" {
			parent = u.parent
		}
		if _, err := db.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, 'police', 1, 1)`,
			u.id, parent, u.path, u.id); err != nil {
			t.Fatal(err)
		}
	}
	p, err := profile.Load(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(db, storetest.Keyring(t, keyring.Standard))
	t.Cleanup(l.Close)
	gate := policy.NewGate(db, l, p)

	hub := media.NewHub()
	cams := staticCameras{}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("cam%d", i)
		cams[name] = policy.Camera{ID: name, Name: "校门" + name, UnitID: "putuo", UnitPath: "/city/putuo/"}
		go func() {
			sim.Publish(sctx, hub, name, sim.Options{Codec: video, Audio: audio})
			done <- struct{}{}
		}()
	}
	t.Cleanup(func() {
		cancel()
		for range n {
			<-done
		}
	})
	// Wait until every camera is published and has a keyframe cached.
	for i := 1; i <= n; i++ {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		rd, err := hub.SubscribeWait(wctx, fmt.Sprintf("cam%d", i), media.ReaderOptions{})
		if err == nil {
			_, err = rd.Next(wctx)
			rd.Close()
		}
		wcancel()
		if err != nil {
			t.Fatalf("simulated camera %d: %v", i, err)
		}
	}
	if opts.WebRTC.Interfaces == nil {
		opts.WebRTC.IncludeLoopback = true
		opts.WebRTC.Interfaces = []string{"lo"}
	}
	svc, err := live.New(hub, gate, cams, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	subj := &policy.Subject{UserID: "u1", Username: "zhang", Name: "张三", UnitID: "putuo", UnitName: "普陀分局", UnitKind: "police",
		Grants: []policy.Grant{{Role: "watcher", Permissions: []policy.Permission{policy.CameraLive, policy.CameraPTZ, policy.CameraPlay},
			ScopeUnitID: "putuo", ScopePath: "/city/putuo/"}}}
	return &fixture{svc: svc, gate: gate, hub: hub, subj: subj, stop: cancel, log: l}
}

// access returns the access records of camera id.
func (f *fixture) access(t testing.TB, id string) []policy.AccessRecord {
	t.Helper()
	recs, err := f.gate.ListAccess(context.Background(), policy.AccessFilter{Camera: id})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
