package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Company is a company involved in a system (design, construction,
// inspection, maintenance …).
type Company struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Licence string `json:"licence,omitempty"`
}

// Technician is a person involved in a system.
type Technician struct {
	Name        string `json:"name"`
	Company     string `json:"company"`
	Role        string `json:"role"`
	Certificate string `json:"certificate,omitempty"`
}

// SystemInput is what creating a system (系统) takes: it groups a unit's
// cameras for filing and acceptance (REG-3, REG-10).
type SystemInput struct {
	UnitID        string       `json:"unit_id"`
	Name          string       `json:"name"`
	InUseOn       string       `json:"in_use_on"`   // went into use, YYYY-MM-DD
	AcceptedOn    string       `json:"accepted_on"` // passed acceptance, YYYY-MM-DD
	RetentionDays int          `json:"retention_days"`
	Companies     []Company    `json:"companies"`
	Technicians   []Technician `json:"technicians"`
}

// System is a system with its archive and filings.
type System struct {
	ID string `json:"id"`
	SystemInput
	UnitName    string       `json:"unit_name"`
	Cancelled   bool         `json:"cancelled"`
	CameraCount int          `json:"camera_count"`
	Attachments []Attachment `json:"attachments"`
	Filings     []*Filing    `json:"filings"`
	CreatedAt   time.Time    `json:"created_at"`
}

func (in *SystemInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 300 {
		return invalid("registry.required", "name", problem.P{"field": "name"})
	}
	for _, d := range []struct{ f, v string }{{"in_use_on", in.InUseOn}, {"accepted_on", in.AcceptedOn}} {
		if d.v != "" && !validDate(d.v) {
			return invalid("registry.bad_date", d.f, problem.P{"field": d.f})
		}
	}
	if in.RetentionDays < 0 || in.RetentionDays > 3650 {
		return invalid("registry.bad_value", "retention_days", problem.P{"field": "retention_days"})
	}
	if in.Companies == nil {
		in.Companies = []Company{}
	}
	if in.Technicians == nil {
		in.Technicians = []Technician{}
	}
	return nil
}

// CreateSystem creates a system; audited ("system.create"). A retention
// below the profile's general minimum is refused.
func (s *Service) CreateSystem(ctx context.Context, subj *policy.Subject, in SystemInput) (*System, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if s.profile != nil && in.RetentionDays > 0 {
		if min, cite := s.profile.MinRetentionDays("", false, false); in.RetentionDays < min {
			return nil, problem.Unprocessable("registry.retention_below_minimum", problem.P{"days": in.RetentionDays, "min": min, "article": strings.Join(cite, "; ")})
		}
	}
	u, err := s.unit(ctx, s.db, in.UnitID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return nil, err
	}
	id := newID()
	comp, _ := json.Marshal(in.Companies)
	tech, _ := json.Marshal(in.Technicians)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := store.Micros(s.now())
		if _, err := tx.Exec(ctx, `INSERT INTO systems (id, unit_id, name, in_use_on, accepted_on, retention_days, companies, technicians, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.UnitID, in.Name, in.InUseOn, in.AcceptedOn, in.RetentionDays, string(comp), string(tech), now, now); err != nil {
			return fmt.Errorf("insert system: %w", err)
		}
		return s.auditTx(ctx, tx, Actor(subj), "system.create", "system:"+id, map[string]any{"name": in.Name, "unit": u.Name})
	})
	if err != nil {
		return nil, err
	}
	return s.System(ctx, subj, id)
}

const systemCols = `s.id, s.unit_id, u.name, s.name, s.in_use_on, s.accepted_on, s.retention_days, s.companies, s.technicians, s.cancelled, s.created_at,
	(SELECT COUNT(*) FROM cameras c WHERE c.system_id = s.id AND c.state <> 'deregistered')`

func scanSystem(r scanner) (*System, error) {
	sys := &System{}
	var comp, tech string
	var created int64
	if err := r.Scan(&sys.ID, &sys.UnitID, &sys.UnitName, &sys.Name, &sys.InUseOn, &sys.AcceptedOn, &sys.RetentionDays, &comp, &tech,
		&sys.Cancelled, &created, &sys.CameraCount); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(comp), &sys.Companies)
	json.Unmarshal([]byte(tech), &sys.Technicians)
	sys.CreatedAt = store.Time(created)
	return sys, nil
}

func (s *Service) getSystem(ctx context.Context, id string) (*System, error) {
	sys, err := scanSystem(s.db.QueryRow(ctx, `SELECT `+systemCols+` FROM systems s JOIN units u ON u.id = s.unit_id WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, problem.NotFound("registry.system_not_found", problem.P{"id": id})
	}
	if err != nil {
		return nil, fmt.Errorf("load system %s: %w", id, err)
	}
	return sys, nil
}

// System returns a system with its attachments and filings.
func (s *Service) System(ctx context.Context, subj *policy.Subject, id string) (*System, error) {
	sys, err := s.getSystem(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, s.db, sys.UnitID)
	if err != nil {
		return nil, err
	}
	if !canRead(subj, u.Path) {
		return nil, problem.NotFound("registry.system_not_found", problem.P{"id": id})
	}
	if sys.Attachments, err = s.attachments(ctx, id); err != nil {
		return nil, err
	}
	if sys.Filings, err = s.listFilings(ctx, "f.system_id = ?", []any{id}); err != nil {
		return nil, err
	}
	return sys, nil
}

// Systems lists the systems subj may read (unitID: that unit's subtree).
func (s *Service) Systems(ctx context.Context, subj *policy.Subject, unitID string) ([]*System, error) {
	cond, args := scopeWhere("u.path", readScopes(subj))
	if unitID != "" {
		u, err := s.unit(ctx, s.db, unitID)
		if err != nil {
			return nil, err
		}
		cond += " AND u.path LIKE ?"
		args = append(args, u.Path+"%")
	}
	rows, err := s.db.Query(ctx, `SELECT `+systemCols+` FROM systems s JOIN units u ON u.id = s.unit_id WHERE `+cond+` ORDER BY s.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	defer rows.Close()
	out := []*System{}
	for rows.Next() {
		sys, err := scanSystem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sys)
	}
	return out, rows.Err()
}
