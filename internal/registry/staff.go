package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// StaffInput records a monitoring staff member (监控值班人员, 系统管理员,
// REG-11): the background check, training and confidentiality agreement,
// each with its date (YYYY-MM-DD, "" when not done).
type StaffInput struct {
	UnitID            string `json:"unit_id"`
	UserID            string `json:"user_id"` // the Vigil user, if any
	Name              string `json:"name"`
	Role              string `json:"role"` // watcher | admin
	BackgroundCheckOn string `json:"background_check_on"`
	BackgroundResult  string `json:"background_result"` // "", passed, failed
	TrainingOn        string `json:"training_on"`
	ConfidentialityOn string `json:"confidentiality_on"`
}

// Staff is a stored staff record with what it still lacks.
type Staff struct {
	ID string `json:"id"`
	StaffInput
	UnitName  string    `json:"unit_name"`
	Lacking   []string  `json:"lacking"` // background_check, training, confidentiality
	UpdatedAt time.Time `json:"updated_at"`
}

func (in *StaffInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return invalid("registry.required", "name", problem.P{"field": "name"})
	}
	if !oneOf(in.Role, []string{"watcher", "admin"}) {
		return invalid("registry.bad_value", "role", problem.P{"field": "role"})
	}
	if !oneOf(in.BackgroundResult, []string{"", "passed", "failed"}) {
		return invalid("registry.bad_value", "background_result", problem.P{"field": "background_result"})
	}
	for _, d := range []struct{ f, v string }{{"background_check_on", in.BackgroundCheckOn}, {"training_on", in.TrainingOn}, {"confidentiality_on", in.ConfidentialityOn}} {
		if d.v != "" && !validDate(d.v) {
			return invalid("registry.bad_date", d.f, problem.P{"field": d.f})
		}
	}
	return nil
}

func (st *Staff) fill() {
	st.Lacking = []string{}
	if st.BackgroundCheckOn == "" || st.BackgroundResult != "passed" {
		st.Lacking = append(st.Lacking, "background_check")
	}
	if st.TrainingOn == "" {
		st.Lacking = append(st.Lacking, "training")
	}
	if st.ConfidentialityOn == "" {
		st.Lacking = append(st.Lacking, "confidentiality")
	}
}

// SaveStaff creates (id "") or replaces a staff record; camera.admin over
// the unit; audited ("staff.save").
func (s *Service) SaveStaff(ctx context.Context, subj *policy.Subject, id string, in StaffInput) (*Staff, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, s.db, in.UnitID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return nil, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if id == "" {
			id = newID()
			if _, err := tx.Exec(ctx, `INSERT INTO monitor_staff (id, unit_id, user_id, name, role, background_check_on, background_result,
				training_on, confidentiality_on, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.UnitID, in.UserID, in.Name,
				in.Role, in.BackgroundCheckOn, in.BackgroundResult, in.TrainingOn, in.ConfidentialityOn, store.Micros(now), store.Micros(now)); err != nil {
				return fmt.Errorf("insert staff: %w", err)
			}
		} else {
			var oldUnit string
			if err := tx.QueryRow(ctx, `SELECT unit_id FROM monitor_staff WHERE id = ?`, id).Scan(&oldUnit); err != nil {
				return problem.NotFound("registry.staff_not_found", problem.P{"id": id})
			}
			ou, err := s.unit(ctx, tx, oldUnit)
			if err != nil {
				return err
			}
			if err := policy.Check(subj, policy.CameraAdmin, ou.Path, "unit "+ou.Name); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE monitor_staff SET unit_id = ?, user_id = ?, name = ?, role = ?, background_check_on = ?,
				background_result = ?, training_on = ?, confidentiality_on = ?, updated_at = ? WHERE id = ?`, in.UnitID, in.UserID, in.Name, in.Role,
				in.BackgroundCheckOn, in.BackgroundResult, in.TrainingOn, in.ConfidentialityOn, store.Micros(now), id); err != nil {
				return fmt.Errorf("update staff: %w", err)
			}
		}
		return s.auditTx(ctx, tx, Actor(subj), "staff.save", "staff:"+id, map[string]any{"name": in.Name, "role": in.Role, "unit": u.Name})
	})
	if err != nil {
		return nil, err
	}
	st := &Staff{ID: id, StaffInput: in, UnitName: u.Name, UpdatedAt: store.Time(store.Micros(now))}
	st.fill()
	return st, nil
}

// StaffReport is the monitoring staff of a unit subtree, as reported to
// the district police (REG-11).
type StaffReport struct {
	UnitID     string   `json:"unit_id"`
	UnitName   string   `json:"unit_name"`
	Total      int      `json:"total"`
	Watchers   int      `json:"watchers"`
	Admins     int      `json:"admins"`
	Incomplete int      `json:"incomplete"` // lacking a check, training or agreement
	Staff      []*Staff `json:"staff"`
}

// StaffReport lists the staff of the unit's subtree that subj may read.
func (s *Service) StaffReport(ctx context.Context, subj *policy.Subject, unitID string) (*StaffReport, error) {
	u, err := s.unit(ctx, s.db, unitID)
	if err != nil {
		return nil, err
	}
	if err := checkRead(subj, u); err != nil {
		return nil, err
	}
	cond, args := scopeWhere("u.path", readScopes(subj))
	rows, err := s.db.Query(ctx, `SELECT m.id, m.unit_id, u.name, m.user_id, m.name, m.role, m.background_check_on, m.background_result,
		m.training_on, m.confidentiality_on, m.updated_at FROM monitor_staff m JOIN units u ON u.id = m.unit_id
		WHERE u.path LIKE ? AND `+cond+` ORDER BY u.name, m.name`, append([]any{u.Path + "%"}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("staff report: %w", err)
	}
	defer rows.Close()
	rep := &StaffReport{UnitID: u.ID, UnitName: u.Name, Staff: []*Staff{}}
	for rows.Next() {
		st := &Staff{}
		var updated int64
		if err := rows.Scan(&st.ID, &st.UnitID, &st.UnitName, &st.UserID, &st.Name, &st.Role, &st.BackgroundCheckOn, &st.BackgroundResult,
			&st.TrainingOn, &st.ConfidentialityOn, &updated); err != nil {
			return nil, err
		}
		st.UpdatedAt = store.Time(updated)
		st.fill()
		rep.Total++
		if st.Role == "watcher" {
			rep.Watchers++
		} else {
			rep.Admins++
		}
		if len(st.Lacking) > 0 {
			rep.Incomplete++
		}
		rep.Staff = append(rep.Staff, st)
	}
	return rep, rows.Err()
}
