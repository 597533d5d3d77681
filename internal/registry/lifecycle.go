package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/store"
)

// transition moves a camera from one of the states in from to state to,
// writing its history and audit entry; check runs inside the transaction
// before the move and may refuse it.
func (s *Service) transition(ctx context.Context, subj *policy.Subject, id string, from []State, to State, action string,
	check func(tx *store.Tx, c *Camera) error, details map[string]any) (*Camera, error) {
	a := Actor(subj)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.getCamera(ctx, tx, id)
		if err != nil {
			return err
		}
		if subj != nil {
			u, err := s.unit(ctx, tx, c.UnitID)
			if err != nil {
				return err
			}
			if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
				return err
			}
		}
		ok := false
		for _, f := range from {
			ok = ok || c.State == f
		}
		if !ok {
			return problem.Conflict("registry.bad_transition", problem.P{"code": c.Code, "from": string(c.State), "to": string(to)})
		}
		if check != nil {
			if err := check(tx, c); err != nil {
				return err
			}
		}
		now := store.Micros(s.now())
		if _, err := tx.Exec(ctx, `UPDATE cameras SET state = ?, updated_at = ? WHERE id = ?`, string(to), now, id); err != nil {
			return fmt.Errorf("camera state: %w", err)
		}
		if err := s.history(ctx, tx, id, a, strings.TrimPrefix(action, "camera."), [][3]string{{"state", string(c.State), string(to)}}, now); err != nil {
			return err
		}
		d := map[string]any{"id": id, "from": string(c.State), "to": string(to)}
		for k, v := range details {
			d[k] = v
		}
		return s.auditTx(ctx, tx, a, action, "camera:"+c.Code, d)
	})
	if err != nil {
		return nil, err
	}
	c, err := s.getCamera(ctx, s.db, id)
	if err == nil {
		s.indexCamera(c)
	}
	return c, err
}

// Admit admits a registered camera (入网, REG-2): refused while the file is
// incomplete, or while the camera stands inside a protected zone without a
// consent record (REG-7).
func (s *Service) Admit(ctx context.Context, subj *policy.Subject, id string) (*Camera, error) {
	return s.transition(ctx, subj, id, []State{StateRegistered}, StateAdmitted, "camera.admit", func(tx *store.Tx, c *Camera) error {
		if c.Completeness < 100 {
			return problem.Unprocessable("registry.incomplete", problem.P{"code": c.Code, "completeness": c.Completeness,
				"missing": strings.Join(c.Missing, ", ")})
		}
		zones, err := s.zonesContaining(ctx, tx, c.Lat, c.Lon)
		if err != nil {
			return err
		}
		for _, z := range zones {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM zone_consents WHERE zone_id = ? AND camera_id = ?`, z.ID, c.ID).Scan(&n); err != nil {
				return fmt.Errorf("zone consent: %w", err)
			}
			if n == 0 {
				return problem.Unprocessable("registry.zone_consent_required", problem.P{"code": c.Code, "zone": z.Name, "rule": "REG-7"})
			}
		}
		return nil
	}, nil)
}

// SetOnline records that an admitted camera came online or went offline
// (the recorder and health checks call it; the actor is the system).
// Nothing is written when the state does not change.
func (s *Service) SetOnline(ctx context.Context, id string, online bool) (*Camera, error) {
	to, action := StateOffline, "camera.offline"
	if online {
		to, action = StateOnline, "camera.online"
	}
	from := []State{StateAdmitted, StateOnline, StateOffline}
	c, err := s.getCamera(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if c.State == to {
		return c, nil
	}
	return s.transition(ctx, nil, id, from, to, action, nil, nil)
}

// DeregisterInput is why a camera leaves the registry (注销).
type DeregisterInput struct {
	Reason          string `json:"reason"`
	ReplacementPlan string `json:"replacement_plan"` // required at mandated sites (REG-12)
}

// Removal tells what a deregistration obliges: the removal filing and its deadline.
type Removal struct {
	Camera         *Camera  `json:"camera"`
	FilingRequired bool     `json:"filing_required"`
	FilingDueOn    string   `json:"filing_due_on,omitempty"`
	Timing         string   `json:"timing,omitempty"` // before | after the removal
	Cite           []string `json:"cite"`
}

// Deregister removes a camera from service: at a site of a mandated
// category it needs a replacement plan (REG-12). The removal is recorded as
// a move of kind "removal", audited ("camera.deregister"), and the removal
// filing deadline from the profile is returned (REG-3).
func (s *Service) Deregister(ctx context.Context, subj *policy.Subject, id string, in DeregisterInput) (*Removal, error) {
	if strings.TrimSpace(in.Reason) == "" {
		return nil, invalid("registry.required", "reason", problem.P{"field": "reason"})
	}
	c, err := s.transition(ctx, subj, id, []State{StateRegistered, StateAdmitted, StateOnline, StateOffline}, StateDeregistered,
		"camera.deregister", func(tx *store.Tx, c *Camera) error {
			if err := s.needReplacementPlan(ctx, tx, c, in.ReplacementPlan); err != nil {
				return err
			}
			now := store.Micros(s.now())
			if _, err := tx.Exec(ctx, `INSERT INTO camera_moves (id, camera_id, kind, replacement_plan, created_at, created_by) VALUES (?, ?, 'removal', ?, ?, ?)`,
				newID(), c.ID, in.ReplacementPlan, now, Actor(subj).ID); err != nil {
				return err
			}
			// A deregistered camera is no longer pulled or recorded.
			if _, err := tx.Exec(ctx, `UPDATE cameras SET enabled = ? WHERE id = ?`, false, c.ID); err != nil {
				return err
			}
			return s.history(ctx, tx, c.ID, Actor(subj), "deregister", [][3]string{{"enabled", fmt.Sprint(c.Enabled), "false"}}, now)
		}, map[string]any{"reason": in.Reason})
	if err != nil {
		return nil, err
	}
	r := &Removal{Camera: c, Cite: []string{}}
	if s.profile != nil {
		days, req, timing, cite := s.profile.RemovalFilingDeadlineDays()
		req, cite = s.filingAtSite(ctx, c, req, cite)
		r.FilingRequired, r.Timing, r.Cite = req, timing, cite
		if req {
			r.FilingDueOn = s.now().AddDate(0, 0, days).Format("2006-01-02")
		}
	}
	return r, nil
}

// filingAtSite narrows a removal or move filing to the systems the profile
// files: where filings concern only systems outside the mandated sites
// (004 §10 ¶2), a camera at a mandated site is not filed — its replacement
// plan (¶1) was required instead.
func (s *Service) filingAtSite(ctx context.Context, c *Camera, req bool, cite []string) (bool, []string) {
	f := s.profile.Filing.NonMandatedOnly
	if !req || !f.Value || c.SiteID == "" {
		return req, cite
	}
	var category string
	if err := s.db.QueryRow(ctx, `SELECT category FROM sites WHERE id = ?`, c.SiteID).Scan(&category); err != nil {
		return req, cite
	}
	if mandated, mcite := s.profile.IsMandatedSite(category); mandated {
		return false, append(append(append([]string{}, f.Cite...), mcite...), s.profile.Sites.RemovalReplacementPlan.Cite...)
	}
	return req, cite
}

// needReplacementPlan refuses a move or removal of a camera at a mandated
// site without a replacement plan, when the profile requires one.
func (s *Service) needReplacementPlan(ctx context.Context, q querier, c *Camera, plan string) error {
	if c.SiteID == "" || s.profile == nil || strings.TrimSpace(plan) != "" {
		return nil
	}
	if !s.profile.Sites.RemovalReplacementPlan.Value {
		return nil
	}
	var category string
	if err := q.QueryRow(ctx, `SELECT category FROM sites WHERE id = ?`, c.SiteID).Scan(&category); err != nil {
		return fmt.Errorf("load site: %w", err)
	}
	if mandated, cite := s.profile.IsMandatedSite(category); mandated {
		cite = append(cite, s.profile.Sites.RemovalReplacementPlan.Cite...)
		l, _ := profile.LabelOf(category)
		return problem.Unprocessable("registry.replacement_plan_required", problem.P{"code": c.Code, "category": category, "category_zh": l.ZH, "category_en": l.EN,
			"article": strings.Join(cite, "; "), "rule": "REG-12"})
	}
	return nil
}

// MoveInput records a move of a camera (REG-12). Kind "move" is permanent
// (a new position, a replacement plan at mandated sites); "temporary" is a
// move for works, with the managing unit's consent and a restoration date.
type MoveInput struct {
	Kind            string  `json:"kind"`
	ReplacementPlan string  `json:"replacement_plan"`
	ConsentBy       string  `json:"consent_by"`
	RestoreBy       string  `json:"restore_by"` // YYYY-MM-DD
	Lat             float64 `json:"lat"`
	Lon             float64 `json:"lon"`
}

// Move is a recorded move or removal.
type Move struct {
	ID              string    `json:"id"`
	CameraID        string    `json:"camera_id"`
	CameraCode      string    `json:"camera_code"`
	Kind            string    `json:"kind"`
	ReplacementPlan string    `json:"replacement_plan"`
	ConsentBy       string    `json:"consent_by"`
	RestoreBy       string    `json:"restore_by"`
	RestoredAt      time.Time `json:"restored_at,omitzero"`
	Overdue         bool      `json:"overdue"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by"`

	// The filing a permanent move obliges (REG-3), as for a removal.
	FilingRequired bool     `json:"filing_required,omitempty"`
	FilingDueOn    string   `json:"filing_due_on,omitempty"`
	Timing         string   `json:"timing,omitempty"` // before | after the move
	Cite           []string `json:"cite,omitempty"`
}

// RecordMove records a move. A permanent move also updates the position.
func (s *Service) RecordMove(ctx context.Context, subj *policy.Subject, id string, in MoveInput) (*Move, error) {
	switch in.Kind {
	case "move":
	case "temporary":
		if strings.TrimSpace(in.ConsentBy) == "" {
			return nil, invalid("registry.required", "consent_by", problem.P{"field": "consent_by"})
		}
		if !validDate(in.RestoreBy) {
			return nil, invalid("registry.bad_date", "restore_by", problem.P{"field": "restore_by"})
		}
	default:
		return nil, invalid("registry.bad_value", "kind", problem.P{"field": "kind"})
	}
	c, err := s.getCamera(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, s.db, c.UnitID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return nil, err
	}
	if in.Kind == "move" {
		if err := s.needReplacementPlan(ctx, s.db, c, in.ReplacementPlan); err != nil {
			return nil, err
		}
	}
	mid := newID()
	a := Actor(subj)
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO camera_moves (id, camera_id, kind, replacement_plan, consent_by, restore_by, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, mid, id, in.Kind, in.ReplacementPlan, in.ConsentBy, in.RestoreBy, store.Micros(now), a.ID); err != nil {
			return fmt.Errorf("record move: %w", err)
		}
		if in.Kind == "move" && (in.Lat != 0 || in.Lon != 0) {
			nf := c.CameraFile
			nf.Lat, nf.Lon = in.Lat, in.Lon
			if errs := nf.Validate(); len(errs) > 0 {
				return fileProblem(errs)
			}
			if _, err := tx.Exec(ctx, `UPDATE cameras SET lat = ?, lon = ?, updated_at = ? WHERE id = ?`, in.Lat, in.Lon, store.Micros(now), id); err != nil {
				return err
			}
			if err := s.history(ctx, tx, id, a, "move", diff(&c.CameraFile, &nf), store.Micros(now)); err != nil {
				return err
			}
		}
		return s.auditTx(ctx, tx, a, "camera.move", "camera:"+c.Code, map[string]any{"id": id, "kind": in.Kind, "restore_by": in.RestoreBy})
	})
	if err != nil {
		return nil, err
	}
	if c2, err := s.getCamera(ctx, s.db, id); err == nil {
		s.indexCamera(c2)
	}
	m := &Move{ID: mid, CameraID: id, CameraCode: c.Code, Kind: in.Kind, ReplacementPlan: in.ReplacementPlan, ConsentBy: in.ConsentBy,
		RestoreBy: in.RestoreBy, CreatedAt: store.Time(store.Micros(now)), CreatedBy: a.ID}
	// A permanent move is filed like a removal where the profile says so
	// (004 §10 ¶2: within the 30 days before it is moved or removed).
	if in.Kind == "move" && s.profile != nil {
		days, req, timing, cite := s.profile.MoveFilingDeadlineDays()
		req, cite = s.filingAtSite(ctx, c, req, cite)
		m.FilingRequired, m.Timing, m.Cite = req, timing, cite
		if req {
			m.FilingDueOn = now.AddDate(0, 0, days).Format("2006-01-02")
		}
	}
	return m, nil
}

// Restore records that a temporarily moved camera is back.
func (s *Service) Restore(ctx context.Context, subj *policy.Subject, moveID string) error {
	var camID, kind string
	var restored int64
	if err := s.db.QueryRow(ctx, `SELECT camera_id, kind, restored_at FROM camera_moves WHERE id = ?`, moveID).Scan(&camID, &kind, &restored); err != nil {
		return problem.NotFound("registry.move_not_found", problem.P{"id": moveID})
	}
	if kind != "temporary" || restored != 0 {
		return problem.Conflict("registry.not_restorable", problem.P{"id": moveID})
	}
	c, err := s.getCamera(ctx, s.db, camID)
	if err != nil {
		return err
	}
	u, err := s.unit(ctx, s.db, c.UnitID)
	if err != nil {
		return err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE camera_moves SET restored_at = ? WHERE id = ?`, store.Micros(s.now()), moveID); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Actor(subj), "camera.restore", "camera:"+c.Code, map[string]any{"move": moveID})
	})
}

// Moves lists the moves and removals of cameras subj may read; overdueOnly
// keeps the temporary moves past their restoration date and not restored.
func (s *Service) Moves(ctx context.Context, subj *policy.Subject, overdueOnly bool) ([]Move, error) {
	cond, args := scopeWhere("u.path", readScopes(subj))
	rows, err := s.db.Query(ctx, `SELECT m.id, m.camera_id, c.code, m.kind, m.replacement_plan, m.consent_by, m.restore_by, m.restored_at,
		m.created_at, m.created_by FROM camera_moves m JOIN cameras c ON c.id = m.camera_id JOIN units u ON u.id = c.unit_id
		WHERE `+cond+` ORDER BY m.created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("list moves: %w", err)
	}
	defer rows.Close()
	today := s.now().Format("2006-01-02")
	out := []Move{}
	for rows.Next() {
		var m Move
		var restored, created int64
		if err := rows.Scan(&m.ID, &m.CameraID, &m.CameraCode, &m.Kind, &m.ReplacementPlan, &m.ConsentBy, &m.RestoreBy, &restored, &created, &m.CreatedBy); err != nil {
			return nil, err
		}
		m.RestoredAt, m.CreatedAt = store.Time(restored), store.Time(created)
		m.Overdue = m.Kind == "temporary" && restored == 0 && m.RestoreBy < today
		if !overdueOnly || m.Overdue {
			out = append(out, m)
		}
	}
	return out, rows.Err()
}
