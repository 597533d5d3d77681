package record

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"vigil/internal/store"
)

// CameraInfo is what recording, retention and playback need of a camera
// from the registry's cameras table (the one camera table of Vigil) and
// its site and unit.
type CameraInfo struct {
	ID            string
	Name          string
	UnitID        string
	UnitPath      string
	SiteCategory  string
	AntiTerror    bool
	SecurityKey   bool
	SystemID      string
	SystemDays    int // the system's configured retention (0 = none)
	RecordingMode string
	Enabled       bool
}

const cameraInfoQuery = `SELECT c.id, c.name, c.unit_id, u.path, COALESCE(s.category, ''), COALESCE(s.anti_terror, FALSE),
	COALESCE(s.security_key, FALSE), c.system_id, COALESCE(y.retention_days, 0), c.recording_mode, c.enabled
	FROM cameras c JOIN units u ON u.id = c.unit_id
	LEFT JOIN sites s ON s.id = c.site_id
	LEFT JOIN systems y ON y.id = c.system_id`

func scanCameraInfo(r interface{ Scan(...any) error }) (CameraInfo, error) {
	var c CameraInfo
	err := r.Scan(&c.ID, &c.Name, &c.UnitID, &c.UnitPath, &c.SiteCategory, &c.AntiTerror, &c.SecurityKey,
		&c.SystemID, &c.SystemDays, &c.RecordingMode, &c.Enabled)
	return c, err
}

// LookupCamera reads a camera's registry entry; store.ErrNotFound when
// the registry has none.
func LookupCamera(ctx context.Context, db *store.DB, id string) (CameraInfo, error) {
	c, err := scanCameraInfo(db.QueryRow(ctx, cameraInfoQuery+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return CameraInfo{}, fmt.Errorf("camera %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return CameraInfo{}, fmt.Errorf("camera %s: %w", id, err)
	}
	return c, nil
}

// RecordableCameras lists the enabled, not deregistered cameras whose
// recording mode is continuous: the ones a node records all the time.
func RecordableCameras(ctx context.Context, db *store.DB) ([]CameraInfo, error) {
	rows, err := db.Query(ctx, cameraInfoQuery+` WHERE c.enabled = TRUE AND c.recording_mode = 'continuous' AND c.state <> 'deregistered' ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("recordable cameras: %w", err)
	}
	defer rows.Close()
	var out []CameraInfo
	for rows.Next() {
		c, err := scanCameraInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("recordable cameras: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
