package registry

import (
	"context"
	"fmt"
)

// StreamTarget is what the recorder needs of a camera: where to pull its
// stream (credentials included) and how to record it.
type StreamTarget struct {
	ID            string `json:"id"`
	Code          string `json:"code"`
	Name          string `json:"name"`
	UnitID        string `json:"unit_id"`
	URL           string `json:"-"`
	RecordingMode string `json:"recording_mode"`
	State         State  `json:"state"`
}

// StreamTargets returns the enabled, not deregistered cameras that have a
// stream URL, with the URL unsealed — for the recorder and the stream hub,
// never for an API answer.
func (s *Service) StreamTargets(ctx context.Context) ([]StreamTarget, error) {
	rows, err := s.db.Query(ctx, `SELECT id, code, name, unit_id, source_url_enc, recording_mode, state FROM cameras
		WHERE enabled = ? AND state <> 'deregistered' AND source_url_enc <> '' ORDER BY code`, true)
	if err != nil {
		return nil, fmt.Errorf("stream targets: %w", err)
	}
	defer rows.Close()
	var out []StreamTarget
	for rows.Next() {
		var t StreamTarget
		var enc string
		if err := rows.Scan(&t.ID, &t.Code, &t.Name, &t.UnitID, &enc, &t.RecordingMode, &t.State); err != nil {
			return nil, err
		}
		if t.URL, err = s.keyring.Open(enc, "cameras.source_url:"+t.ID); err != nil {
			return nil, fmt.Errorf("unseal stream URL of camera %s: %w", t.Code, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
