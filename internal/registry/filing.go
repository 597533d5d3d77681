package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Filing kinds and states (备案, REG-3).
const (
	FilingInitial      = "initial"      // 首次备案
	FilingChange       = "change"       // 变更备案
	FilingCancellation = "cancellation" // 注销备案

	FilingSubmitted = "submitted"
	FilingAccepted  = "accepted"
	FilingReturned  = "returned"
)

// FilingInput is what the managing unit submits.
type FilingInput struct {
	SystemID  string   `json:"system_id"`
	Kind      string   `json:"kind"`
	Locations []string `json:"locations"` // build locations; default: the cameras' addresses
	Note      string   `json:"note"`
}

// FilingContent is what a filing states, fixed at submission.
type FilingContent struct {
	UnitName      string         `json:"unit_name"`
	SystemName    string         `json:"system_name"`
	Locations     []string       `json:"locations"`
	CameraCount   int            `json:"camera_count"`
	CameraTypes   map[string]int `json:"camera_types"`
	RetentionDays int            `json:"retention_days"`
	Attachments   []string       `json:"attachments"` // attachment ids
	InUseOn       string         `json:"in_use_on"`
	AcceptedOn    string         `json:"accepted_on"`
	Note          string         `json:"note"`
}

// Filing is one filing and its review.
type Filing struct {
	ID          string        `json:"id"`
	SystemID    string        `json:"system_id"`
	UnitID      string        `json:"unit_id"`
	Kind        string        `json:"kind"`
	State       string        `json:"state"`
	Content     FilingContent `json:"content"`
	SubmittedAt time.Time     `json:"submitted_at"`
	SubmittedBy string        `json:"submitted_by"`
	ReviewedAt  time.Time     `json:"reviewed_at,omitzero"`
	ReviewedBy  string        `json:"reviewed_by,omitempty"`
	Reason      string        `json:"reason,omitempty"`
}

// SubmitFiling submits a filing for a system; audited ("filing.submit").
// An initial filing is refused while another is pending or accepted; a
// change or cancellation needs an accepted filing first.
func (s *Service) SubmitFiling(ctx context.Context, subj *policy.Subject, in FilingInput) (*Filing, error) {
	if !oneOf(in.Kind, []string{FilingInitial, FilingChange, FilingCancellation}) {
		return nil, invalid("registry.bad_value", "kind", problem.P{"field": "kind"})
	}
	sys, err := s.getSystem(ctx, in.SystemID)
	if err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, s.db, sys.UnitID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return nil, err
	}
	f := &Filing{ID: newID(), SystemID: sys.ID, UnitID: sys.UnitID, Kind: in.Kind, State: FilingSubmitted,
		SubmittedAt: store.Time(store.Micros(s.now())), SubmittedBy: Actor(subj).ID}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var pending, accepted int
		if err := tx.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN state = 'submitted' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN state = 'accepted' THEN 1 ELSE 0 END), 0) FROM filings WHERE system_id = ?`, sys.ID).Scan(&pending, &accepted); err != nil {
			return fmt.Errorf("filings of system: %w", err)
		}
		switch {
		case pending > 0:
			return problem.Conflict("registry.filing_pending", problem.P{"system": sys.Name})
		case in.Kind == FilingInitial && accepted > 0:
			return problem.Conflict("registry.filing_exists", problem.P{"system": sys.Name})
		case in.Kind != FilingInitial && accepted == 0:
			return problem.Conflict("registry.filing_needs_initial", problem.P{"system": sys.Name})
		}
		c := FilingContent{UnitName: u.Name, SystemName: sys.Name, CameraTypes: map[string]int{}, RetentionDays: sys.RetentionDays,
			InUseOn: sys.InUseOn, AcceptedOn: sys.AcceptedOn, Note: in.Note, Locations: in.Locations, Attachments: []string{}}
		rows, err := tx.Query(ctx, `SELECT type, address FROM cameras WHERE system_id = ? AND state <> 'deregistered'`, sys.ID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		var addrs []string
		for rows.Next() {
			var typ, addr string
			if err := rows.Scan(&typ, &addr); err != nil {
				rows.Close()
				return err
			}
			c.CameraCount++
			if typ == "" {
				typ = "unknown"
			}
			c.CameraTypes[typ]++
			if addr != "" && !seen[addr] {
				seen[addr] = true
				addrs = append(addrs, addr)
			}
		}
		rows.Close()
		if len(c.Locations) == 0 {
			sort.Strings(addrs)
			c.Locations = addrs
		}
		if c.Locations == nil {
			c.Locations = []string{}
		}
		arows, err := tx.Query(ctx, `SELECT id FROM attachments WHERE system_id = ? ORDER BY created_at`, sys.ID)
		if err != nil {
			return err
		}
		for arows.Next() {
			var id string
			arows.Scan(&id)
			c.Attachments = append(c.Attachments, id)
		}
		arows.Close()
		f.Content = c
		body, _ := json.Marshal(c)
		if _, err := tx.Exec(ctx, `INSERT INTO filings (id, system_id, unit_id, kind, state, content, submitted_at, submitted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.SystemID, f.UnitID, f.Kind, f.State, string(body), store.Micros(f.SubmittedAt), f.SubmittedBy); err != nil {
			return fmt.Errorf("insert filing: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE cameras SET filing_state = ? WHERE system_id = ? AND filing_state <> 'accepted'`, FilingSubmitted, sys.ID); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Actor(subj), "filing.submit", "filing:"+f.ID, map[string]any{"system": sys.Name, "kind": f.Kind, "cameras": c.CameraCount})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// AcceptFiling accepts a submitted filing (police, see checkReview);
// audited ("filing.accept"). An accepted cancellation cancels the system.
func (s *Service) AcceptFiling(ctx context.Context, subj *policy.Subject, id string) (*Filing, error) {
	return s.review(ctx, subj, id, FilingAccepted, "")
}

// ReturnFiling returns a submitted filing with a reason (police); audited
// ("filing.return").
func (s *Service) ReturnFiling(ctx context.Context, subj *policy.Subject, id, reason string) (*Filing, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, invalid("registry.required", "reason", problem.P{"field": "reason"})
	}
	return s.review(ctx, subj, id, FilingReturned, reason)
}

func (s *Service) review(ctx context.Context, subj *policy.Subject, id, to, reason string) (*Filing, error) {
	fs, err := s.listFilings(ctx, "f.id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, problem.NotFound("registry.filing_not_found", problem.P{"id": id})
	}
	f := fs[0]
	u, err := s.unit(ctx, s.db, f.UnitID)
	if err != nil {
		return nil, err
	}
	if subj == nil {
		return nil, &policy.DeniedError{Permission: policy.AdminUnits, Target: "unit " + u.Name}
	}
	own, err := s.unit(ctx, s.db, subj.UnitID)
	if err != nil {
		return nil, &policy.DeniedError{Permission: policy.AdminUnits, Target: "unit " + u.Name}
	}
	if err := checkReview(subj, own, u); err != nil {
		return nil, err
	}
	if f.SubmittedBy == Actor(subj).ID {
		return nil, &policy.DeniedError{Permission: policy.AdminUnits, Target: "filing " + f.ID,
			Reason: "a filing is reviewed by someone other than the person who submitted it"}
	}
	a := Actor(subj)
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE filings SET state = ?, reviewed_at = ?, reviewed_by = ?, reason = ? WHERE id = ? AND state = 'submitted'`,
			to, store.Micros(now), a.ID, reason, id)
		if err != nil {
			return fmt.Errorf("review filing: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return problem.Conflict("registry.filing_not_pending", problem.P{"id": id, "state": f.State})
		}
		camState := to
		if to == FilingReturned {
			// A returned change leaves the earlier acceptance standing.
			var accepted int
			tx.QueryRow(ctx, `SELECT COUNT(*) FROM filings WHERE system_id = ? AND state = 'accepted'`, f.SystemID).Scan(&accepted)
			if accepted > 0 {
				camState = FilingAccepted
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE cameras SET filing_state = ? WHERE system_id = ?`, camState, f.SystemID); err != nil {
			return err
		}
		if to == FilingAccepted && f.Kind == FilingCancellation {
			if _, err := tx.Exec(ctx, `UPDATE systems SET cancelled = ? WHERE id = ?`, true, f.SystemID); err != nil {
				return err
			}
		}
		action := "filing.accept"
		if to == FilingReturned {
			action = "filing.return"
		}
		return s.auditTx(ctx, tx, a, action, "filing:"+id, map[string]any{"system": f.Content.SystemName, "reason": reason})
	})
	if err != nil {
		return nil, err
	}
	f.State, f.ReviewedAt, f.ReviewedBy, f.Reason = to, store.Time(store.Micros(now)), a.ID, reason
	return f, nil
}

func (s *Service) listFilings(ctx context.Context, cond string, args []any) ([]*Filing, error) {
	rows, err := s.db.Query(ctx, `SELECT f.id, f.system_id, f.unit_id, f.kind, f.state, f.content, f.submitted_at, f.submitted_by,
		f.reviewed_at, f.reviewed_by, f.reason FROM filings f JOIN units u ON u.id = f.unit_id WHERE `+cond+` ORDER BY f.submitted_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("list filings: %w", err)
	}
	defer rows.Close()
	out := []*Filing{}
	for rows.Next() {
		f := &Filing{}
		var content string
		var sub, rev int64
		if err := rows.Scan(&f.ID, &f.SystemID, &f.UnitID, &f.Kind, &f.State, &content, &sub, &f.SubmittedBy, &rev, &f.ReviewedBy, &f.Reason); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(content), &f.Content)
		f.SubmittedAt, f.ReviewedAt = store.Time(sub), store.Time(rev)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Filings lists the filings subj may read (state "" for all), oldest first.
func (s *Service) Filings(ctx context.Context, subj *policy.Subject, unitID, state string) ([]*Filing, error) {
	cond, args := scopeWhere("u.path", readScopes(subj))
	if unitID != "" {
		u, err := s.unit(ctx, s.db, unitID)
		if err != nil {
			return nil, err
		}
		cond += " AND u.path LIKE ?"
		args = append(args, u.Path+"%")
	}
	if state != "" {
		cond += " AND f.state = ?"
		args = append(args, state)
	}
	return s.listFilings(ctx, cond, args)
}

// FilingDue is a system whose filing is not (yet) accepted.
type FilingDue struct {
	SystemID    string   `json:"system_id"`
	SystemName  string   `json:"system_name"`
	UnitID      string   `json:"unit_id"`
	UnitName    string   `json:"unit_name"`
	Status      string   `json:"status"`     // missing | returned | pending | no_date
	TriggerOn   string   `json:"trigger_on"` // the date the deadline counts from
	DueOn       string   `json:"due_on"`
	Overdue     bool     `json:"overdue"`
	DaysOverdue int      `json:"days_overdue"`
	Cite        []string `json:"cite"`
}

// FilingsDue lists the systems subj may read that have no accepted filing:
// missing, returned or pending, with the profile's deadline counted from
// going into use or acceptance (FilingTrigger); overdueOnly keeps those past
// it (REG-3).
func (s *Service) FilingsDue(ctx context.Context, subj *policy.Subject, unitID string, overdueOnly bool) ([]FilingDue, error) {
	systems, err := s.Systems(ctx, subj, unitID)
	if err != nil {
		return nil, err
	}
	days, trigger, cite := 30, "in_use", []string{}
	if s.profile != nil {
		days, cite = s.profile.FilingDeadlineDays()
		trigger, _ = s.profile.FilingTrigger()
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	out := []FilingDue{}
	for _, sys := range systems {
		if sys.Cancelled {
			continue
		}
		fs, err := s.listFilings(ctx, "f.system_id = ?", []any{sys.ID})
		if err != nil {
			return nil, err
		}
		status := "missing"
		for _, f := range fs {
			switch f.State {
			case FilingAccepted:
				status = "accepted"
			case FilingSubmitted:
				if status != "accepted" {
					status = "pending"
				}
			case FilingReturned:
				if status == "missing" {
					status = "returned"
				}
			}
		}
		if status == "accepted" {
			continue
		}
		d := FilingDue{SystemID: sys.ID, SystemName: sys.Name, UnitID: sys.UnitID, UnitName: sys.UnitName, Status: status, Cite: cite}
		d.TriggerOn = sys.InUseOn
		if trigger == "acceptance" && sys.AcceptedOn != "" || d.TriggerOn == "" {
			d.TriggerOn = sys.AcceptedOn
		}
		if d.TriggerOn == "" {
			d.Status = "no_date"
		} else if t, err := time.Parse("2006-01-02", d.TriggerOn); err == nil {
			due := t.AddDate(0, 0, days)
			d.DueOn = due.Format("2006-01-02")
			if today.After(due) && status != "pending" {
				d.Overdue = true
				d.DaysOverdue = int(today.Sub(due).Hours() / 24)
			}
		}
		if !overdueOnly || d.Overdue {
			out = append(out, d)
		}
	}
	return out, nil
}
