package identity

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Unit kinds (单位类别).
const (
	KindPolice        = "police"           // 公安机关
	KindStateSecurity = "state_security"   // 国家安全机关
	KindAdminDept     = "admin_department" // 其他行政部门
	KindBuildingUnit  = "building_unit"    // 建设单位/管理单位
	KindOperator      = "operator"         // 运维/受托运营单位
)

// UnitKinds lists the kinds a unit may have.
var UnitKinds = []string{KindPolice, KindStateSecurity, KindAdminDept, KindBuildingUnit, KindOperator}

// Unit is one organisation (单位) in the tree city → district → unit.
type Unit struct {
	ID        string    `json:"id"`
	ParentID  string    `json:"parent_id,omitempty"`
	Path      string    `json:"path"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Division  string    `json:"division"` // administrative division code (行政区划代码), 6 digits
	Contact   string    `json:"contact"`
	Phone     string    `json:"phone"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UnitInput is what creating a unit takes.
type UnitInput struct {
	ParentID string `json:"parent_id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Division string `json:"division"`
	Contact  string `json:"contact"`
	Phone    string `json:"phone"`
}

// UnitPatch changes a unit; nil fields stay. A ParentID moves the unit.
type UnitPatch struct {
	ParentID *string `json:"parent_id"`
	Name     *string `json:"name"`
	Kind     *string `json:"kind"`
	Division *string `json:"division"`
	Contact  *string `json:"contact"`
	Phone    *string `json:"phone"`
}

var provinceCodes = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82"

// ValidDivision reports whether s is a plausible administrative division
// code (GB/T 2260): six digits starting with a province code.
func ValidDivision(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return strings.Contains(provinceCodes, s[:2])
}

func validKind(k string) bool {
	for _, x := range UnitKinds {
		if x == k {
			return true
		}
	}
	return false
}

func checkText(field, v string, required bool, max int) error {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return problem.Invalid("field.required", field, problem.P{"field": field})
	}
	if utf8.RuneCountInString(v) > max {
		return problem.Invalid("field.too_long", field, problem.P{"field": field, "max": max})
	}
	return nil
}

func checkPhone(field, v string) error {
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r == '-' || r == '+' || r == ' ' || r == '(' || r == ')') {
			return problem.Invalid("field.bad_phone", field, problem.P{"field": field})
		}
	}
	return checkText(field, v, false, 32)
}

func (in *UnitInput) validate(root bool) error {
	in.Name = strings.TrimSpace(in.Name)
	if err := checkText("name", in.Name, true, 100); err != nil {
		return err
	}
	if !validKind(in.Kind) {
		return problem.Invalid("unit.bad_kind", "kind", problem.P{"kind": in.Kind, "kinds": strings.Join(UnitKinds, ", ")})
	}
	if !ValidDivision(in.Division) && !(root && in.Division == "") {
		return problem.Invalid("unit.bad_division", "division", problem.P{"division": in.Division})
	}
	if err := checkText("contact", in.Contact, false, 50); err != nil {
		return err
	}
	return checkPhone("phone", in.Phone)
}

const unitCols = `id, COALESCE(parent_id, ''), path, name, kind, division, contact, phone, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanUnit(r scanner) (Unit, error) {
	var u Unit
	var c, up int64
	err := r.Scan(&u.ID, &u.ParentID, &u.Path, &u.Name, &u.Kind, &u.Division, &u.Contact, &u.Phone, &c, &up)
	u.CreatedAt, u.UpdatedAt = store.Time(c), store.Time(up)
	return u, err
}

func (s *Service) unitTx(ctx context.Context, tx reader, id string) (Unit, error) {
	u, err := scanUnit(tx.QueryRow(ctx, `SELECT `+unitCols+` FROM units WHERE id = ?`, id))
	if noRows(err) {
		return u, errNotFound("unit", id)
	}
	return u, wrap("read unit", err)
}

// CreateUnit adds a unit under in.ParentID (admin.units over the parent;
// a police or state-security unit also needs admin.system over the parent,
// see checkKind).
func (s *Service) CreateUnit(ctx context.Context, subj *policy.Subject, in UnitInput) (Unit, error) {
	if err := in.validate(false); err != nil {
		return Unit{}, err
	}
	var out Unit
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		parent, err := s.unitTx(ctx, tx, in.ParentID)
		if err != nil {
			if in.ParentID == "" {
				return problem.Invalid("field.required", "parent_id", problem.P{"field": "parent_id"})
			}
			return err
		}
		if err := policy.Check(subj, policy.AdminUnits, parent.Path, "unit "+parent.Name); err != nil {
			return err
		}
		if privilegedKind(in.Kind) {
			if err := checkKind(subj, parent.Path, in.Name); err != nil {
				return err
			}
		}
		now := s.now()
		id := newID()
		out = Unit{ID: id, ParentID: parent.ID, Path: parent.Path + id + "/", Name: in.Name, Kind: in.Kind,
			Division: in.Division, Contact: strings.TrimSpace(in.Contact), Phone: strings.TrimSpace(in.Phone), CreatedAt: now, UpdatedAt: now}
		if _, err := tx.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, division, contact, phone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, out.ID, out.ParentID, out.Path, out.Name, out.Kind, out.Division,
			out.Contact, out.Phone, store.Micros(now), store.Micros(now)); err != nil {
			return wrap("insert unit", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "unit.create", Object: "unit:" + id,
			Details: map[string]any{"name": out.Name, "kind": out.Kind, "parent": parent.ID, "division": out.Division}})
		return err
	})
	return out, err
}

// privilegedKind reports whether units of kind k hold powers over others:
// the police review filings and draw protected zones.
func privilegedKind(k string) bool { return k == KindPolice || k == KindStateSecurity }

// checkKind allows setting a unit's kind (ACC-1): a unit's kind is
// privileged, so only an administrator above the unit — admin.system over
// its parent, never a grant scoped to the unit itself — sets it. A unit
// administrator cannot make its own unit, or a child it creates, a police
// unit. aboveMe is the parent's path (the root's own path for the root,
// which has nobody above it).
func checkKind(subj *policy.Subject, aboveMe, unitName string) error {
	if subj.Can(policy.AdminSystem, aboveMe) {
		return nil
	}
	return &policy.DeniedError{Permission: policy.AdminSystem, Target: "unit " + unitName,
		Reason: "a unit's kind is set by a system administrator above the unit (admin.system over its parent), not by the unit's own administrators"}
}

// canSee reports whether the subject may see the unit at path: it lies in
// the subtree of one of the subject's grants (any permission), or it is
// the subject's own unit.
func canSee(subj *policy.Subject, u Unit) bool {
	if subj == nil {
		return false
	}
	if u.ID == subj.UnitID {
		return true
	}
	if len(subj.Permissions()) == 0 {
		return false
	}
	for _, g := range subj.Grants {
		if strings.HasPrefix(u.Path, g.ScopePath) {
			return true
		}
	}
	return false
}

// GetUnit returns a unit the subject may see (see ListUnits).
func (s *Service) GetUnit(ctx context.Context, subj *policy.Subject, id string) (Unit, error) {
	u, err := scanUnit(s.db.QueryRow(ctx, `SELECT `+unitCols+` FROM units WHERE id = ?`, id))
	if noRows(err) || (err == nil && !canSee(subj, u)) {
		return Unit{}, errNotFound("unit", id)
	}
	return u, wrap("read unit", err)
}

// ListUnits returns the units the subject may see, in tree order: the
// subtrees of its grants, whatever their permissions (a person who may
// view a unit's cameras needs to see the unit's name), and its own unit.
func (s *Service) ListUnits(ctx context.Context, subj *policy.Subject) ([]Unit, error) {
	if subj == nil {
		return nil, problem.Unauthorized("auth.required", nil)
	}
	conds := []string{"id = ?"}
	args := []any{subj.UnitID}
	if len(subj.Permissions()) > 0 {
		for _, g := range subj.Grants {
			conds = append(conds, "path LIKE ?")
			args = append(args, g.ScopePath+"%")
		}
	}
	rows, err := s.db.Query(ctx, `SELECT `+unitCols+` FROM units WHERE `+strings.Join(conds, " OR ")+` ORDER BY path`, args...)
	if err != nil {
		return nil, wrap("list units", err)
	}
	defer rows.Close()
	out := []Unit{}
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, wrap("list units", err)
		}
		out = append(out, u)
	}
	return out, wrap("list units", rows.Err())
}

// UpdateUnit changes a unit (admin.units over it). Changing its kind needs
// admin.system above it (checkKind). Moving it needs admin.units over the
// old and the new parent, and rewrites the paths of the whole subtree in
// the same transaction.
func (s *Service) UpdateUnit(ctx context.Context, subj *policy.Subject, id string, p UnitPatch) (Unit, error) {
	var out Unit
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.unitTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(subj, u) {
			return errNotFound("unit", id)
		}
		if err := policy.Check(subj, policy.AdminUnits, u.Path, "unit "+u.Name); err != nil {
			return err
		}
		in := UnitInput{ParentID: u.ParentID, Name: u.Name, Kind: u.Kind, Division: u.Division, Contact: u.Contact, Phone: u.Phone}
		changed := map[string]any{}
		set := func(dst *string, v *string, name string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed[name] = *v
			}
		}
		set(&in.Name, p.Name, "name")
		set(&in.Kind, p.Kind, "kind")
		set(&in.Division, p.Division, "division")
		set(&in.Contact, p.Contact, "contact")
		set(&in.Phone, p.Phone, "phone")
		set(&in.ParentID, p.ParentID, "parent_id")
		if _, ok := changed["kind"]; ok {
			above := u.Path
			if u.ParentID != "" {
				parent, err := s.unitTx(ctx, tx, u.ParentID)
				if err != nil {
					return err
				}
				above = parent.Path
			}
			if err := checkKind(subj, above, u.Name); err != nil {
				return err
			}
		}
		// The root, created by Bootstrap, may keep an empty division code
		// until an administrator sets it.
		if err := in.validate(u.ParentID == ""); err != nil {
			return err
		}
		if in.ParentID != u.ParentID {
			if u.ParentID == "" {
				return problem.Unprocessable("unit.root_immovable", nil)
			}
			oldParent, err := s.unitTx(ctx, tx, u.ParentID)
			if err != nil {
				return err
			}
			np, err := s.unitTx(ctx, tx, in.ParentID)
			if err != nil {
				return err
			}
			if strings.HasPrefix(np.Path, u.Path) {
				return problem.Unprocessable("unit.move_into_itself", problem.P{"unit": u.Name, "parent": np.Name})
			}
			if err := policy.Check(subj, policy.AdminUnits, oldParent.Path, "unit "+oldParent.Name); err != nil {
				return err
			}
			if err := policy.Check(subj, policy.AdminUnits, np.Path, "unit "+np.Name); err != nil {
				return err
			}
			newPath := np.Path + u.ID + "/"
			// Rewrite the subtree: every path starting with the old one.
			if _, err := tx.Exec(ctx, `UPDATE units SET path = ? || substr(path, ?) WHERE path LIKE ?`,
				newPath, len(u.Path)+1, u.Path+"%"); err != nil {
				return wrap("move unit subtree", err)
			}
		}
		if len(changed) == 0 {
			out = u
			return nil
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE units SET parent_id = ?, name = ?, kind = ?, division = ?, contact = ?, phone = ?, updated_at = ? WHERE id = ?`,
			in.ParentID, in.Name, in.Kind, in.Division, strings.TrimSpace(in.Contact), strings.TrimSpace(in.Phone), store.Micros(now), id); err != nil {
			return wrap("update unit", err)
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "unit.update", Object: "unit:" + id,
			Details: changed}); err != nil {
			return err
		}
		out, err = s.unitTx(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteUnit removes an empty unit: one without child units, users or
// grants scoped to it (admin.units over its parent).
func (s *Service) DeleteUnit(ctx context.Context, subj *policy.Subject, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.unitTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(subj, u) {
			return errNotFound("unit", id)
		}
		if u.ParentID == "" {
			return problem.Conflict("unit.not_empty", problem.P{"unit": u.Name})
		}
		parent, err := s.unitTx(ctx, tx, u.ParentID)
		if err != nil {
			return err
		}
		if err := policy.Check(subj, policy.AdminUnits, parent.Path, "unit "+parent.Name); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM units WHERE parent_id = ?) + (SELECT COUNT(*) FROM users WHERE unit_id = ?)
			+ (SELECT COUNT(*) FROM role_grants WHERE scope_unit_id = ?)`, id, id, id).Scan(&n); err != nil {
			return wrap("count unit members", err)
		}
		if n > 0 {
			return problem.Conflict("unit.not_empty", problem.P{"unit": u.Name})
		}
		if _, err := tx.Exec(ctx, `DELETE FROM units WHERE id = ?`, id); err != nil {
			if strings.Contains(strings.ToLower(err.Error()), "foreign key") {
				return problem.Conflict("unit.not_empty", problem.P{"unit": u.Name})
			}
			return wrap("delete unit", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "unit.delete", Object: "unit:" + id,
			Details: map[string]any{"name": u.Name}})
		return err
	})
}

// UnitPath returns the path "/root/…/id/" of a unit, for the gate.
func (s *Service) UnitPath(ctx context.Context, unitID string) (string, error) {
	var p string
	err := s.db.QueryRow(ctx, `SELECT path FROM units WHERE id = ?`, unitID).Scan(&p)
	if noRows(err) {
		return "", errNotFound("unit", unitID)
	}
	return p, wrap("read unit path", err)
}
