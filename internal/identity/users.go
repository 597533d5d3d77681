package identity

import (
	"context"
	"regexp"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// User statuses. "locked" is not stored: it is shown while a lockout after
// failed sign-ins lasts.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusLocked   = "locked"
)

// User is a real-name person (实名用户) of one unit. It never carries the
// password hash, the sealed ID number or the TOTP secret.
type User struct {
	ID                 string     `json:"id"`
	Username           string     `json:"username"`
	Name               string     `json:"name"`
	UnitID             string     `json:"unit_id"`
	UnitName           string     `json:"unit_name"`
	Post               string     `json:"post"`
	Phone              string     `json:"phone"`
	IDNumberMasked     string     `json:"id_number_masked"`
	Status             string     `json:"status"`
	LockedUntil        *time.Time `json:"locked_until,omitempty"`
	MustChangePassword bool       `json:"must_change_password"`
	PasswordExpired    bool       `json:"password_expired"` // older than password.max_age_days: must be changed (AUD-2)
	TOTPEnabled        bool       `json:"totp_enabled"`
	OIDCLinked         bool       `json:"oidc_linked"`
	StandingPurpose    string     `json:"standing_purpose"` // 值班 standing purpose (调用事由) for duty officers
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`

	unitPath     string
	passwordHash string
	failed       int
	lockedUntil  int64
	totpSecret   string
	totpLastStep int64
}

// UserInput is what creating a user takes. An empty Password leaves the
// user able to sign in only through OIDC until one is set.
type UserInput struct {
	Username        string `json:"username"`
	Name            string `json:"name"`
	UnitID          string `json:"unit_id"`
	Post            string `json:"post"`
	Phone           string `json:"phone"`
	IDNumber        string `json:"id_number"`
	Password        string `json:"password"`
	StandingPurpose string `json:"standing_purpose"`
}

// UserPatch changes a user; nil fields stay. A UnitID moves the user.
type UserPatch struct {
	Name            *string `json:"name"`
	UnitID          *string `json:"unit_id"`
	Post            *string `json:"post"`
	Phone           *string `json:"phone"`
	IDNumber        *string `json:"id_number"`
	StandingPurpose *string `json:"standing_purpose"`
}

// UserFilter selects users for ListUsers. Zero fields do not filter.
type UserFilter struct {
	UnitID string // the unit and its subtree
	Status string // active, disabled or locked
	Query  string // substring of the name or username
	Limit  int    // default 200, at most 1000
	Offset int
}

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// ValidUsername reports whether u is an acceptable username: 2–32 lower-case
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidUsername(u string) bool { return usernameRe.MatchString(u) }

const userCols = `u.id, u.username, u.name, u.unit_id, un.name, un.path, u.post, u.phone, u.id_number_masked, u.status,
	u.must_change_password, u.totp_enabled, u.oidc_subject, u.standing_purpose, u.created_at, u.updated_at,
	u.password_hash, u.failed_logins, u.locked_until, u.totp_secret_enc, u.totp_last_step, u.password_changed_at`

const userFrom = ` FROM users u JOIN units un ON un.id = u.unit_id`

func (s *Service) scanUser(r scanner) (User, error) {
	var u User
	var oidcSub string
	var c, up, changed int64
	err := r.Scan(&u.ID, &u.Username, &u.Name, &u.UnitID, &u.UnitName, &u.unitPath, &u.Post, &u.Phone, &u.IDNumberMasked,
		&u.Status, &u.MustChangePassword, &u.TOTPEnabled, &oidcSub, &u.StandingPurpose, &c, &up,
		&u.passwordHash, &u.failed, &u.lockedUntil, &u.totpSecret, &u.totpLastStep, &changed)
	if err != nil {
		return u, err
	}
	if s.passwordExpired(u.passwordHash, changed) {
		u.PasswordExpired, u.MustChangePassword = true, true
	}
	u.OIDCLinked = oidcSub != ""
	u.CreatedAt, u.UpdatedAt = store.Time(c), store.Time(up)
	if u.Status == StatusActive && u.lockedUntil > store.Micros(s.now()) {
		u.Status = StatusLocked
		t := store.Time(u.lockedUntil)
		u.LockedUntil = &t
	}
	return u, nil
}

func (s *Service) userTx(ctx context.Context, tx reader, where string, args ...any) (User, error) {
	u, err := s.scanUser(tx.QueryRow(ctx, `SELECT `+userCols+userFrom+` WHERE `+where, args...))
	if noRows(err) {
		return u, errNotFound("user", str(args[len(args)-1]))
	}
	return u, wrap("read user", err)
}

func str(v any) string { s, _ := v.(string); return s }

// onField names the request field a problem is about.
func onField(err error, field string) error {
	if pe, ok := problem.As(err); ok {
		pe.Field = field
	}
	return err
}

func (in *UserInput) validate(minPw int) error {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if !ValidUsername(in.Username) {
		return problem.Invalid("user.bad_username", "username", problem.P{"username": in.Username})
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := checkText("name", in.Name, true, 50); err != nil {
		return err
	}
	if err := checkText("post", in.Post, false, 50); err != nil {
		return err
	}
	if err := checkPhone("phone", in.Phone); err != nil {
		return err
	}
	if err := checkText("standing_purpose", in.StandingPurpose, false, 200); err != nil {
		return err
	}
	in.IDNumber = strings.ToUpper(strings.TrimSpace(in.IDNumber))
	if in.IDNumber != "" && !ValidIDNumber(in.IDNumber) {
		return problem.Invalid("user.bad_id_number", "id_number", nil)
	}
	if in.Password != "" {
		if err := CheckPasswordPolicy(in.Password, in.Username, minPw); err != nil {
			return err
		}
	}
	return nil
}

// sealID seals an ID number for the users row; the AAD binds it to the user.
func (s *Service) sealID(userID, idNumber string) (enc, masked string, err error) {
	if idNumber == "" {
		return "", "", nil
	}
	enc, err = s.kr.Seal(idNumber, "user:"+userID+":id_number")
	return enc, MaskIDNumber(idNumber), wrap("seal ID number", err)
}

// CreateUser adds a user to a unit (admin.users over the unit). A password
// set by an administrator must be changed at first sign-in.
func (s *Service) CreateUser(ctx context.Context, subj *policy.Subject, in UserInput) (User, error) {
	return s.createUser(ctx, subj, in, true)
}

func (s *Service) createUser(ctx context.Context, subj *policy.Subject, in UserInput, mustChange bool) (User, error) {
	if err := in.validate(s.opts.MinPasswordLength); err != nil {
		return User{}, err
	}
	var out User
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		unit, err := s.unitTx(ctx, tx, in.UnitID)
		if err != nil {
			if in.UnitID == "" {
				return problem.Invalid("field.required", "unit_id", problem.P{"field": "unit_id"})
			}
			return err
		}
		if err := policy.Check(subj, policy.AdminUsers, unit.Path, "unit "+unit.Name); err != nil {
			return err
		}
		id := newID()
		enc, masked, err := s.sealID(id, in.IDNumber)
		if err != nil {
			return err
		}
		hash := ""
		if in.Password != "" {
			hash = HashPassword(in.Password, s.opts.Argon2)
		}
		now := store.Micros(s.now())
		_, err = tx.Exec(ctx, `INSERT INTO users (id, username, name, unit_id, post, phone, id_number_enc, id_number_masked, status,
			password_hash, password_changed_at, must_change_password, standing_purpose, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
			id, in.Username, in.Name, unit.ID, strings.TrimSpace(in.Post), strings.TrimSpace(in.Phone), enc, masked,
			hash, now, mustChange && hash != "", strings.TrimSpace(in.StandingPurpose), now, now)
		if store.IsUniqueViolation(err) {
			return problem.Invalid("user.username_taken", "username", problem.P{"username": in.Username})
		}
		if err != nil {
			return wrap("insert user", err)
		}
		if err := s.rememberPassword(ctx, tx, id, hash); err != nil {
			return err
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "user.create", Object: "user:" + id,
			Details: map[string]any{"username": in.Username, "name": in.Name, "unit": unit.ID}}); err != nil {
			return err
		}
		out, err = s.userTx(ctx, tx, "u.id = ?", id)
		return err
	})
	return out, err
}

// checkUserAdmin authorises acting on an existing user: admin.users over
// the user's unit, and every permission the user holds over each of its
// grants' scopes — so that nobody takes over an account stronger than
// their own (no privilege escalation by resetting a password).
func (s *Service) checkUserAdmin(ctx context.Context, tx *store.Tx, subj *policy.Subject, u User) error {
	if err := policy.Check(subj, policy.AdminUsers, u.unitPath, "user "+u.Username); err != nil {
		return err
	}
	grants, err := s.grantsTx(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	for _, g := range grants {
		for _, p := range g.Permissions {
			if err := policy.Check(subj, p, g.ScopePath, "user "+u.Username+" (role "+g.RoleName+" over "+g.ScopeUnitName+")"); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetUser returns a user: oneself, or one the subject administers
// (admin.users over the user's unit); others are not found.
func (s *Service) GetUser(ctx context.Context, subj *policy.Subject, id string) (User, error) {
	u, err := s.scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+userFrom+` WHERE u.id = ?`, id))
	if noRows(err) {
		return User{}, errNotFound("user", id)
	}
	if err != nil {
		return User{}, wrap("read user", err)
	}
	if subj == nil || (subj.UserID != id && policy.Check(subj, policy.AdminUsers, u.unitPath, "user") != nil) {
		return User{}, errNotFound("user", id)
	}
	return u, nil
}

// ListUsers returns the users of the units the subject administers
// (admin.users scopes), filtered, ordered by username.
func (s *Service) ListUsers(ctx context.Context, subj *policy.Subject, f UserFilter) ([]User, error) {
	scopes := subj.Scopes(policy.AdminUsers)
	if len(scopes) == 0 {
		return nil, &policy.DeniedError{Permission: policy.AdminUsers, Target: "the users"}
	}
	var conds []string
	var args []any
	var sc []string
	for _, p := range scopes {
		sc = append(sc, "un.path LIKE ?")
		args = append(args, p+"%")
	}
	conds = append(conds, "("+strings.Join(sc, " OR ")+")")
	if f.UnitID != "" {
		p, err := s.UnitPath(ctx, f.UnitID)
		if err != nil {
			return nil, err
		}
		conds = append(conds, "un.path LIKE ?")
		args = append(args, p+"%")
	}
	now := store.Micros(s.now())
	switch f.Status {
	case "":
	case StatusActive:
		conds = append(conds, "u.status = 'active' AND u.locked_until <= ?")
		args = append(args, now)
	case StatusLocked:
		conds = append(conds, "u.status = 'active' AND u.locked_until > ?")
		args = append(args, now)
	case StatusDisabled:
		conds = append(conds, "u.status = 'disabled'")
	default:
		return nil, problem.Invalid("request.bad_parameter", "status", problem.P{"name": "status", "error": "expected active, disabled or locked"})
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		conds = append(conds, "(u.name LIKE ? OR u.username LIKE ?)")
		args = append(args, "%"+q+"%", "%"+strings.ToLower(q)+"%")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	if limit > 1000 {
		limit = 1000
	}
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.db.Query(ctx, `SELECT `+userCols+userFrom+` WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY u.username LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, wrap("list users", rows.Err())
}

// UpdateUser changes a user's particulars (see checkUserAdmin). Moving the
// user to another unit also needs admin.users over that unit.
func (s *Service) UpdateUser(ctx context.Context, subj *policy.Subject, id string, p UserPatch) (User, error) {
	var out User
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", id)
		if err != nil {
			return err
		}
		if err := s.checkUserAdmin(ctx, tx, subj, u); err != nil {
			return err
		}
		in := UserInput{Username: u.Username, Name: u.Name, UnitID: u.UnitID, Post: u.Post, Phone: u.Phone, StandingPurpose: u.StandingPurpose}
		changed := map[string]any{}
		set := func(dst *string, v *string, name string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed[name] = *v
			}
		}
		set(&in.Name, p.Name, "name")
		set(&in.UnitID, p.UnitID, "unit_id")
		set(&in.Post, p.Post, "post")
		set(&in.Phone, p.Phone, "phone")
		set(&in.StandingPurpose, p.StandingPurpose, "standing_purpose")
		if p.IDNumber != nil {
			in.IDNumber = *p.IDNumber
			changed["id_number"] = "changed" // never the value itself
		}
		if err := in.validate(s.opts.MinPasswordLength); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = u
			return nil
		}
		if in.UnitID != u.UnitID {
			nu, err := s.unitTx(ctx, tx, in.UnitID)
			if err != nil {
				return err
			}
			if err := policy.Check(subj, policy.AdminUsers, nu.Path, "unit "+nu.Name); err != nil {
				return err
			}
		}
		q := `UPDATE users SET name = ?, unit_id = ?, post = ?, phone = ?, standing_purpose = ?, updated_at = ?`
		args := []any{in.Name, in.UnitID, strings.TrimSpace(in.Post), strings.TrimSpace(in.Phone), strings.TrimSpace(in.StandingPurpose), store.Micros(s.now())}
		if p.IDNumber != nil {
			enc, masked, err := s.sealID(id, in.IDNumber)
			if err != nil {
				return err
			}
			q += `, id_number_enc = ?, id_number_masked = ?`
			args = append(args, enc, masked)
		}
		if _, err := tx.Exec(ctx, q+` WHERE id = ?`, append(args, id)...); err != nil {
			return wrap("update user", err)
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "user.update", Object: "user:" + id, Details: changed}); err != nil {
			return err
		}
		out, err = s.userTx(ctx, tx, "u.id = ?", id)
		return err
	})
	return out, err
}

// SetUserDisabled disables (ending the user's sessions) or re-enables a
// user. Disabling the last active holder of admin.system is refused, and
// nobody disables themselves.
func (s *Service) SetUserDisabled(ctx context.Context, subj *policy.Subject, id string, disabled bool) (User, error) {
	var out User
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", id)
		if err != nil {
			return err
		}
		if err := s.checkUserAdmin(ctx, tx, subj, u); err != nil {
			return err
		}
		status, action := StatusActive, "user.enable"
		if disabled {
			status, action = StatusDisabled, "user.disable"
			if subj != nil && subj.UserID == id {
				return problem.Unprocessable("user.cannot_disable_self", nil)
			}
			if err := s.requireOtherSystemAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET status = ?, failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?`,
			status, store.Micros(s.now()), id); err != nil {
			return wrap("set user status", err)
		}
		if disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return wrap("end sessions", err)
			}
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: action, Object: "user:" + id,
			Details: map[string]any{"username": u.Username}}); err != nil {
			return err
		}
		out, err = s.userTx(ctx, tx, "u.id = ?", id)
		return err
	})
	return out, err
}

// ResetPassword sets a new password for a user (see checkUserAdmin), which
// must be changed at the next sign-in, clears a lockout and ends the
// user's sessions.
func (s *Service) ResetPassword(ctx context.Context, subj *policy.Subject, id, password string) error {
	return s.resetPassword(ctx, subj, "u.id = ?", id, password, true)
}

func (s *Service) resetPassword(ctx context.Context, subj *policy.Subject, where, key, password string, mustChange bool) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, where, key)
		if err != nil {
			return err
		}
		if err := s.checkUserAdmin(ctx, tx, subj, u); err != nil {
			return err
		}
		if err := CheckPasswordPolicy(password, u.Username, s.opts.MinPasswordLength); err != nil {
			return onField(err, "new_password")
		}
		now := store.Micros(s.now())
		hash := HashPassword(password, s.opts.Argon2)
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, must_change_password = ?,
			failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?`,
			hash, now, mustChange, now, u.ID); err != nil {
			return wrap("reset password", err)
		}
		if err := s.rememberPassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return wrap("end sessions", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "user.password_reset", Object: "user:" + u.ID,
			Details: map[string]any{"username": u.Username}})
		return err
	})
}

// ChangePassword changes the subject's own password, given the current
// one. The subject's other sessions end; keepSession (the hash of the
// session making the change) stays.
func (s *Service) ChangePassword(ctx context.Context, subj *policy.Subject, oldPassword, newPassword, keepSessionID string) error {
	if subj == nil || subj.TokenID != "" {
		return problem.Forbidden("auth.session_required", nil)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", subj.UserID)
		if err != nil {
			return err
		}
		if ok, _ := VerifyPassword(oldPassword, u.passwordHash, s.opts.Argon2); !ok {
			return problem.Invalid("password.wrong_current", "old_password", nil)
		}
		if err := CheckPasswordPolicy(newPassword, u.Username, s.opts.MinPasswordLength); err != nil {
			return onField(err, "new_password")
		}
		if newPassword == oldPassword {
			return problem.Invalid("password.unchanged", "new_password", nil)
		}
		if err := s.checkPasswordReuse(ctx, tx, u.ID, newPassword); err != nil {
			return err
		}
		now := store.Micros(s.now())
		hash := HashPassword(newPassword, s.opts.Argon2)
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, must_change_password = FALSE, updated_at = ? WHERE id = ?`,
			hash, now, now, u.ID); err != nil {
			return wrap("change password", err)
		}
		if err := s.rememberPassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, u.ID, hashOrEmpty(keepSessionID)); err != nil {
			return wrap("end other sessions", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "user.password_change", Object: "user:" + u.ID})
		return err
	})
}
