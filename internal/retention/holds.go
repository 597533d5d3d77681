package retention

import (
	"context"
	"fmt"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Hold is an evidence hold (证据保全, RET-2): footage of a camera over a
// range kept until Until whatever its retention.
type Hold struct {
	ID         string    `json:"id"`
	CameraID   string    `json:"camera_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Reason     string    `json:"reason"`
	CaseNumber string    `json:"case_number"`
	Until      time.Time `json:"until"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ReleasedBy string    `json:"released_by,omitempty"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
}

// HoldInput is what creating a hold takes. A zero Until means the
// profile's minimum hold from now.
type HoldInput struct {
	CameraID   string    `json:"camera_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Reason     string    `json:"reason"`
	CaseNumber string    `json:"case_number"`
	Until      time.Time `json:"until"`
}

// MinHold returns the profile's minimum hold and its article.
func (e *Engine) MinHold() (int, []string) {
	if e.profile == nil {
		return 730, []string{}
	}
	return e.profile.ImportantFootageHoldDays()
}

// CreateHold places an evidence hold, for a subject holding
// camera.export on the camera; audited.
func (e *Engine) CreateHold(ctx context.Context, subj *policy.Subject, in HoldInput) (*Hold, error) {
	by := actorOf(subj)
	if in.CameraID != "" {
		if _, err := e.authorize(ctx, subj, policy.CameraExport, in.CameraID); err != nil {
			return nil, err
		}
	}
	in.Reason, in.CaseNumber = strings.TrimSpace(in.Reason), strings.TrimSpace(in.CaseNumber)
	if in.CameraID == "" {
		return nil, problem.Invalid("retention.hold_field_required", "camera_id", problem.P{"field": "camera_id"})
	}
	if in.Reason == "" {
		return nil, problem.Invalid("retention.hold_field_required", "reason", problem.P{"field": "reason"})
	}
	if in.CaseNumber == "" {
		return nil, problem.Invalid("retention.hold_field_required", "case_number", problem.P{"field": "case_number"})
	}
	if in.Start.IsZero() || in.End.IsZero() || !in.End.After(in.Start) {
		return nil, problem.Invalid("retention.bad_range", "end", problem.P{"start": timeText(in.Start), "end": timeText(in.End)})
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	days, cite := e.MinHold()
	earliest := now.AddDate(0, 0, days)
	if in.Until.IsZero() {
		in.Until = earliest
	}
	if in.Until.Before(earliest) {
		return nil, problem.Unprocessable("retention.hold_too_short", problem.P{"until": timeText(in.Until), "min": days, "cite": strings.Join(cite, "; ")})
	}
	h := &Hold{ID: keyring.RandomToken(10), CameraID: in.CameraID, Start: in.Start.UTC().Truncate(time.Microsecond), End: in.End.UTC().Truncate(time.Microsecond),
		Reason: in.Reason, CaseNumber: in.CaseNumber, Until: in.Until.UTC().Truncate(time.Microsecond), CreatedBy: by.ID, CreatedAt: now}
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO evidence_holds (id, camera_id, start_us, end_us, reason, case_number, until_us, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.ID, h.CameraID, store.Micros(h.Start), store.Micros(h.End), h.Reason, h.CaseNumber,
			store.Micros(h.Until), h.CreatedBy, store.Micros(now))
		if err != nil {
			return err
		}
		_, err = e.audit.AppendTx(ctx, tx, audit.Entry{Actor: by, Action: "hold.create", Object: "camera:" + h.CameraID, Outcome: audit.OK,
			Details: map[string]any{"hold": h.ID, "start": timeText(h.Start), "end": timeText(h.End), "until": timeText(h.Until),
				"reason": h.Reason, "case_number": h.CaseNumber}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create hold: %w", err)
	}
	return h, nil
}

const holdCols = `id, camera_id, start_us, end_us, reason, case_number, until_us, created_by, created_at, released_by, released_at`

func scanHold(r interface{ Scan(...any) error }) (Hold, error) {
	var h Hold
	var s, e, u, c, rel int64
	err := r.Scan(&h.ID, &h.CameraID, &s, &e, &h.Reason, &h.CaseNumber, &u, &h.CreatedBy, &c, &h.ReleasedBy, &rel)
	h.Start, h.End, h.Until, h.CreatedAt, h.ReleasedAt = store.Time(s), store.Time(e), store.Time(u), store.Time(c), store.Time(rel)
	return h, err
}

// Holds lists a camera's holds ("" for all cameras), released ones too
// when all is set.
func (e *Engine) Holds(ctx context.Context, camera string, all bool) ([]Hold, error) {
	q := `SELECT ` + holdCols + ` FROM evidence_holds WHERE 1 = 1`
	var args []any
	if camera != "" {
		q += ` AND camera_id = ?`
		args = append(args, camera)
	}
	if !all {
		q += ` AND released_at = 0`
	}
	rows, err := e.db.Query(ctx, q+` ORDER BY created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	defer rows.Close()
	out := []Hold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Hold returns one hold.
func (e *Engine) Hold(ctx context.Context, id string) (*Hold, error) {
	h, err := scanHold(e.db.QueryRow(ctx, `SELECT `+holdCols+` FROM evidence_holds WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, problem.NotFound("retention.hold_not_found", problem.P{"id": id})
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// ReleaseHold releases a hold that has run out, for a subject holding
// camera.export on its camera; a hold still in force cannot be released.
// Audited either way.
func (e *Engine) ReleaseHold(ctx context.Context, subj *policy.Subject, id string) (*Hold, error) {
	by := actorOf(subj)
	h, err := e.Hold(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := e.authorize(ctx, subj, policy.CameraExport, h.CameraID); err != nil {
		return nil, err
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	if now.Before(h.Until) {
		e.audit.Append(ctx, audit.Entry{Actor: by, Action: "hold.release", Object: "camera:" + h.CameraID, Outcome: audit.Denied,
			Details: map[string]any{"hold": id, "until": timeText(h.Until)}})
		return nil, problem.Conflict("retention.hold_active", problem.P{"id": id, "until": timeText(h.Until)})
	}
	err = e.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE evidence_holds SET released_by = ?, released_at = ? WHERE id = ? AND released_at = 0`,
			by.ID, store.Micros(now), id); err != nil {
			return err
		}
		_, err := e.audit.AppendTx(ctx, tx, audit.Entry{Actor: by, Action: "hold.release", Object: "camera:" + h.CameraID, Outcome: audit.OK,
			Details: map[string]any{"hold": id}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("release hold %s: %w", id, err)
	}
	return e.Hold(ctx, id)
}
