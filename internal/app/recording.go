package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"vigil/internal/i18n"
	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/policy"
	"vigil/internal/record"
	"vigil/internal/registry"
	"vigil/internal/sim"
)

// startRecording runs the recorder for the registry's cameras, the
// retention engine, and the demo cameras if asked (`--demo N`). Everything
// stops when the App closes.
func (a *App) startRecording(ctx context.Context) error {
	a.bgDone.Add(2)
	go func() {
		defer a.bgDone.Done()
		a.Recorder.RunCameras(a.bg, a.DB, a.Registry.SourceURL, rtsp.ClientOptions{}, 30*time.Second)
	}()
	go func() {
		defer a.bgDone.Done()
		a.Retention.Loop(a.bg, 10*time.Minute)
	}()
	if a.cfg.Demo == 0 {
		return nil
	}
	ids, wait, err := startDemo(a.bg, a.Hub, a.Recorder, a.cfg.Demo, a.registerDemoCamera, a.log)
	if err != nil {
		return fmt.Errorf("demo cameras: %w", err)
	}
	a.bgDone.Add(1)
	go func() { defer a.bgDone.Done(); wait() }()
	a.log.Info("demo cameras recording", "cameras", len(ids))
	return nil
}

// startDemo starts n simulated cameras (`vigil serve --demo N`): each
// publishes the simulator's clip (H.264 with AAC) into the hub under the id
// register gives it (its registry file, so the gate knows its unit) and is
// recorded. The simulator lives here, not in the recorder: production
// recording does not depend on it. It returns at once; everything stops
// when ctx ends, and wait blocks until it has.
func startDemo(ctx context.Context, hub *media.Hub, rec *record.Recorder, n int,
	register func(ctx context.Context, i int) (string, error), log *slog.Logger) (ids []string, wait func(), err error) {
	for i := 1; i <= n; i++ {
		id, err := register(ctx, i)
		if err != nil {
			return nil, nil, fmt.Errorf("demo camera %d: %w", i, err)
		}
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := sim.Publish(ctx, hub, id, sim.Options{Audio: media.AAC}); err != nil {
				log.Error("demo camera", "camera", id, "err", err)
			}
		}()
		go func() { defer wg.Done(); rec.Record(ctx, id, id) }()
	}
	return ids, wg.Wait, nil
}

// registerDemoCamera gives the i-th demo camera a registry file in the root
// unit (once; a restart finds it by its code), so that the gate knows its
// unit like any other camera's. Its name is in the console's default
// language, zh-CN.
func (a *App) registerDemoCamera(ctx context.Context, i int) (string, error) {
	code := fmt.Sprintf("11010100001320%06d", i)
	var id string
	err := a.DB.QueryRow(ctx, `SELECT id FROM cameras WHERE code = ?`, code).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	var rootID, rootPath string
	if err := a.DB.QueryRow(ctx, `SELECT id, path FROM units WHERE parent_id IS NULL ORDER BY created_at LIMIT 1`).Scan(&rootID, &rootPath); err != nil {
		return "", fmt.Errorf("find the root unit: %w", err)
	}
	system := &policy.Subject{UserID: "system", Username: "system", Name: "system", UnitID: rootID,
		Grants: []policy.Grant{{Role: "system", Permissions: policy.AllPermissions, ScopeUnitID: rootID, ScopePath: rootPath}}}
	enabled := true
	cam, err := a.Registry.Register(ctx, system, registry.CameraInput{Enabled: &enabled, CameraFile: registry.CameraFile{
		Code: code, UnitID: rootID, Name: i18n.T("zh-CN", "demo.camera_name", map[string]any{"n": i}), Vendor: "Vigil", Model: "simulator",
		Type: "fixed", RecordingMode: "continuous", Division: "110101",
	}})
	if err != nil {
		return "", err
	}
	return cam.ID, nil
}
