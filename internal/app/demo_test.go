package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"vigil/internal/app"
	"vigil/internal/config"
)

// TestDemoCamerasRecorded: `vigil serve --demo N` registers N simulated
// cameras in the camera files and records them; their footage shows in the
// recordings listing within seconds (the open segment counts). RET-5
func TestDemoCamerasRecorded(t *testing.T) {
	cfg := config.Default()
	cfg.Demo = 2
	cfg.Recording.SegmentLength = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Start(ctx, app.Options{Config: &cfg, DataDir: t.TempDir(), Listen: "127.0.0.1:0", AdminPassword: adminPassword,
		Stdout: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("start vigil: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	admin := signIn(t, a.URL(), "admin", adminPassword)
	var list struct {
		Cameras []struct {
			ID    string `json:"id"`
			Model string `json:"model"`
		} `json:"cameras"`
	}
	admin.do("GET", "/api/v1/cameras", nil, &list)
	var ids []string
	for _, c := range list.Cameras {
		if c.Model == "simulator" {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("%d demo cameras in the camera files, want 2: %+v", len(ids), list.Cameras)
	}
	for _, id := range ids {
		var cov struct {
			Recorded float64 `json:"recorded_seconds"`
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			admin.do("GET", "/api/v1/cameras/"+id+"/recordings", nil, &cov)
			if cov.Recorded >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("demo camera %s: %.1f s recorded after 30 s", id, cov.Recorded)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
