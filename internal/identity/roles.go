package identity

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Role is a named set of permissions. Built-in roles are created by
// Bootstrap and cannot be changed or removed.
type Role struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Permissions []policy.Permission `json:"permissions"`
	Builtin     bool                `json:"builtin"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

// RoleInput creates or changes a role.
type RoleInput struct {
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Permissions []policy.Permission `json:"permissions"`
}

// Built-in role names; their labels are the i18n keys "role.<name>".
const (
	RoleSystemAdmin   = "system_admin"   // 系统管理员
	RoleSecurityAdmin = "security_admin" // 安全管理员
	RoleUnitAdmin     = "unit_admin"
	RoleAuditor       = "auditor"      // 安全审计员
	RoleWatcher       = "watcher"      // 值班监看
	RoleInvestigator  = "investigator" // 侦查调阅
)

// Duties (三员分立, AUD-2): the system administrator's, the security
// administrator's and the security auditor's. Each duty permission belongs
// to one duty, lives only in that duty's built-in role, and no account may
// hold two duties.
const (
	DutySystem   = "system"   // system settings, profile, tokens of others
	DutySecurity = "security" // defining roles: the authorisation policy
	DutyAudit    = "audit"    // reading and verifying the audit log
)

// DutyOf maps each duty permission to its duty.
var DutyOf = map[policy.Permission]string{
	policy.AdminSystem: DutySystem,
	policy.AdminRoles:  DutySecurity,
	policy.AuditRead:   DutyAudit,
}

// dutyRole is the built-in role that alone carries each duty.
var dutyRole = map[string]string{DutySystem: RoleSystemAdmin, DutySecurity: RoleSecurityAdmin, DutyAudit: RoleAuditor}

// allBut is every permission except those named.
func allBut(except ...policy.Permission) []policy.Permission {
	var out []policy.Permission
	for _, p := range policy.AllPermissions {
		if !hasPermission(except, p) {
			out = append(out, p)
		}
	}
	return out
}

// BuiltinRoles are the roles every installation has. A unit administrator
// holds the camera permissions it may hand to watchers, since nobody
// grants what they do not hold; so do the system and the security
// administrators, each without the other two duties.
var BuiltinRoles = []RoleInput{
	{Name: RoleSystemAdmin, Description: "system administration: settings, units, users, cameras (no roles, no audit log)",
		Permissions: allBut(policy.AdminRoles, policy.AuditRead)},
	{Name: RoleSecurityAdmin, Description: "security administration: roles and grants (no system settings, no audit log)",
		Permissions: allBut(policy.AdminSystem, policy.AuditRead)},
	{Name: RoleUnitAdmin, Description: "units, users and cameras of a subtree", Permissions: []policy.Permission{
		policy.AdminUnits, policy.AdminUsers, policy.CameraAdmin, policy.CameraLive, policy.CameraPlay, policy.CameraPTZ,
		policy.AccessRead, policy.TokensOwn}},
	{Name: RoleAuditor, Description: "security audit: reads the audit log and the access registry", Permissions: []policy.Permission{
		policy.AuditRead, policy.AccessRead}},
	{Name: RoleWatcher, Description: "live and recorded video (duty watch)", Permissions: []policy.Permission{
		policy.CameraLive, policy.CameraPlay}},
	{Name: RoleInvestigator, Description: "live, recorded and exported video", Permissions: []policy.Permission{
		policy.CameraLive, policy.CameraPlay, policy.CameraExport}},
}

// Grant is a role held by a user over a unit subtree.
type Grant struct {
	ID            string              `json:"id"`
	UserID        string              `json:"user_id"`
	RoleID        string              `json:"role_id"`
	RoleName      string              `json:"role_name"`
	Permissions   []policy.Permission `json:"permissions"`
	ScopeUnitID   string              `json:"scope_unit_id"`
	ScopeUnitName string              `json:"scope_unit_name"`
	ScopePath     string              `json:"scope_path"`
	CreatedAt     time.Time           `json:"created_at"`
	CreatedBy     string              `json:"created_by"`
}

func encodePerms(ps []policy.Permission) string {
	b, _ := json.Marshal(ps)
	return string(b)
}

func decodePerms(s string) []policy.Permission {
	var ps []policy.Permission
	json.Unmarshal([]byte(s), &ps)
	return ps
}

func (in *RoleInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if err := checkText("name", in.Name, true, 50); err != nil {
		return err
	}
	if err := checkText("description", in.Description, false, 200); err != nil {
		return err
	}
	if len(in.Permissions) == 0 {
		return problem.Invalid("field.required", "permissions", problem.P{"field": "permissions"})
	}
	seen := map[policy.Permission]bool{}
	var ps []policy.Permission
	for _, p := range in.Permissions {
		if !policy.ValidPermission(p) {
			return problem.Invalid("role.bad_permission", "permissions", problem.P{"permission": string(p)})
		}
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	in.Permissions = ps
	return nil
}

const roleCols = `id, name, description, permissions, builtin, created_at, updated_at`

func scanRole(r scanner) (Role, error) {
	var ro Role
	var perms string
	var c, u int64
	err := r.Scan(&ro.ID, &ro.Name, &ro.Description, &perms, &ro.Builtin, &c, &u)
	ro.Permissions, ro.CreatedAt, ro.UpdatedAt = decodePerms(perms), store.Time(c), store.Time(u)
	return ro, err
}

// ListRoles returns every role. Any signed-in person may read them: the
// console shows what a grant carries.
func (s *Service) ListRoles(ctx context.Context, subj *policy.Subject) ([]Role, error) {
	if subj == nil {
		return nil, problem.Unauthorized("auth.required", nil)
	}
	rows, err := s.db.Query(ctx, `SELECT `+roleCols+` FROM roles ORDER BY builtin DESC, name`)
	if err != nil {
		return nil, wrap("list roles", err)
	}
	defer rows.Close()
	out := []Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, wrap("list roles", err)
		}
		out = append(out, r)
	}
	return out, wrap("list roles", rows.Err())
}

func (s *Service) roleTx(ctx context.Context, tx reader, id string) (Role, error) {
	r, err := scanRole(tx.QueryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE id = ?`, id))
	if noRows(err) {
		return r, errNotFound("role", id)
	}
	return r, wrap("read role", err)
}

// CreateRole defines a role (admin.roles). Its permissions must be ones
// the subject holds: nobody defines what they could not hand out.
func (s *Service) CreateRole(ctx context.Context, subj *policy.Subject, in RoleInput) (Role, error) {
	if err := policy.Check(subj, policy.AdminRoles, "", "the roles"); err != nil {
		return Role{}, err
	}
	if err := s.requireRecentAuth(subj); err != nil {
		return Role{}, err
	}
	if err := in.validate(); err != nil {
		return Role{}, err
	}
	if err := checkNoDuty(in.Permissions); err != nil {
		return Role{}, err
	}
	for _, p := range in.Permissions {
		if err := policy.Check(subj, p, "", "role "+in.Name); err != nil {
			return Role{}, err
		}
	}
	var out Role
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.insertRole(ctx, tx, subj, in, false)
		return err
	})
	return out, err
}

func (s *Service) insertRole(ctx context.Context, tx *store.Tx, subj *policy.Subject, in RoleInput, builtin bool) (Role, error) {
	now := s.now()
	r := Role{ID: newID(), Name: in.Name, Description: in.Description, Permissions: in.Permissions, Builtin: builtin, CreatedAt: now, UpdatedAt: now}
	_, err := tx.Exec(ctx, `INSERT INTO roles (id, name, description, permissions, builtin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Name, r.Description, encodePerms(r.Permissions), builtin, store.Micros(now), store.Micros(now))
	if store.IsUniqueViolation(err) {
		return r, problem.Invalid("role.name_taken", "name", problem.P{"name": in.Name})
	}
	if err != nil {
		return r, wrap("insert role", err)
	}
	_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "role.create", Object: "role:" + r.ID,
		Details: map[string]any{"name": r.Name, "permissions": r.Permissions, "builtin": builtin}})
	return r, err
}

// UpdateRole changes a role that is not built in (admin.roles). A
// permission added to a role reaches everyone holding it, so the subject
// must hold it over the scope of every grant of the role. Removing
// admin.system from the role that the last holder relies on is refused.
func (s *Service) UpdateRole(ctx context.Context, subj *policy.Subject, id string, in RoleInput) (Role, error) {
	if err := policy.Check(subj, policy.AdminRoles, "", "the roles"); err != nil {
		return Role{}, err
	}
	if err := s.requireRecentAuth(subj); err != nil {
		return Role{}, err
	}
	if err := in.validate(); err != nil {
		return Role{}, err
	}
	if err := checkNoDuty(in.Permissions); err != nil {
		return Role{}, err
	}
	var out Role
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.roleTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Builtin {
			return problem.Unprocessable("role.builtin", problem.P{"name": r.Name})
		}
		if err := s.checkRoleWidening(ctx, tx, subj, r, in.Permissions); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE roles SET name = ?, description = ?, permissions = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Description, encodePerms(in.Permissions), store.Micros(s.now()), id); err != nil {
			if store.IsUniqueViolation(err) {
				return problem.Invalid("role.name_taken", "name", problem.P{"name": in.Name})
			}
			return wrap("update role", err)
		}
		if err := s.requireSystemAdmin(ctx, tx); err != nil {
			return err
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "role.update", Object: "role:" + id,
			Details: map[string]any{"name": in.Name, "permissions": in.Permissions}}); err != nil {
			return err
		}
		out, err = s.roleTx(ctx, tx, id)
		return err
	})
	return out, err
}

// checkRoleWidening authorises the permissions added to role r over the
// scopes of its grants.
func (s *Service) checkRoleWidening(ctx context.Context, tx *store.Tx, subj *policy.Subject, r Role, perms []policy.Permission) error {
	var added []policy.Permission
	for _, p := range perms {
		if !hasPermission(r.Permissions, p) {
			added = append(added, p)
		}
	}
	if len(added) == 0 {
		return nil
	}
	scopes := []string{""}
	rows, err := tx.Query(ctx, `SELECT DISTINCT un.path, un.name FROM role_grants g JOIN units un ON un.id = g.scope_unit_id WHERE g.role_id = ?`, r.ID)
	if err != nil {
		return wrap("read grants of role", err)
	}
	names := map[string]string{}
	for rows.Next() {
		var p, n string
		if err := rows.Scan(&p, &n); err != nil {
			rows.Close()
			return wrap("read grants of role", err)
		}
		scopes, names[p] = append(scopes, p), n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap("read grants of role", err)
	}
	for _, sp := range scopes {
		for _, p := range added {
			if err := policy.Check(subj, p, sp, "role "+r.Name+" granted over "+names[sp]); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteRole removes a role that is not built in and is not granted to
// anyone (admin.roles).
func (s *Service) DeleteRole(ctx context.Context, subj *policy.Subject, id string) error {
	if err := policy.Check(subj, policy.AdminRoles, "", "the roles"); err != nil {
		return err
	}
	if err := s.requireRecentAuth(subj); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.roleTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Builtin {
			return problem.Unprocessable("role.builtin", problem.P{"name": r.Name})
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM role_grants WHERE role_id = ?`, id).Scan(&n); err != nil {
			return wrap("count grants", err)
		}
		if n > 0 {
			return problem.Conflict("role.in_use", problem.P{"name": r.Name, "count": n})
		}
		if _, err := tx.Exec(ctx, `DELETE FROM roles WHERE id = ?`, id); err != nil {
			return wrap("delete role", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "role.delete", Object: "role:" + id,
			Details: map[string]any{"name": r.Name}})
		return err
	})
}

const grantSelect = `SELECT g.id, g.user_id, g.role_id, r.name, r.permissions, g.scope_unit_id, un.name, un.path, g.created_at, g.created_by
	FROM role_grants g JOIN roles r ON r.id = g.role_id JOIN units un ON un.id = g.scope_unit_id`

func scanGrant(r scanner) (Grant, error) {
	var g Grant
	var perms string
	var c int64
	err := r.Scan(&g.ID, &g.UserID, &g.RoleID, &g.RoleName, &perms, &g.ScopeUnitID, &g.ScopeUnitName, &g.ScopePath, &c, &g.CreatedBy)
	g.Permissions, g.CreatedAt = decodePerms(perms), store.Time(c)
	return g, err
}

func (s *Service) grantsTx(ctx context.Context, tx reader, userID string) ([]Grant, error) {
	rows, err := tx.Query(ctx, grantSelect+` WHERE g.user_id = ? ORDER BY un.path, r.name`, userID)
	if err != nil {
		return nil, wrap("list grants", err)
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, wrap("list grants", err)
		}
		out = append(out, g)
	}
	return out, wrap("list grants", rows.Err())
}

// ListGrants returns a user's grants: one's own, or those of a user the
// subject administers.
func (s *Service) ListGrants(ctx context.Context, subj *policy.Subject, userID string) ([]Grant, error) {
	if _, err := s.GetUser(ctx, subj, userID); err != nil {
		return nil, err
	}
	return s.grantsTx(ctx, s.db, userID)
}

// checkNoDuty refuses a defined role carrying a duty permission: those live
// only in their built-in roles (AUD-2).
func checkNoDuty(perms []policy.Permission) error {
	for _, p := range perms {
		if d, ok := DutyOf[p]; ok {
			return problem.Invalid("role.duty_reserved", "permissions", problem.P{"permission": string(p), "role": dutyRole[d]})
		}
	}
	return nil
}

// checkGrantable authorises giving or taking role r over scope: admin.users
// over the scope and every permission of the role over it — nobody hands
// out what they do not hold. The one exception is a duty permission
// (DutyOf), which the security administrator (admin.roles) hands out
// without holding it: that is how the other two duties are assigned.
func checkGrantable(subj *policy.Subject, perms []policy.Permission, roleName, scopePath, scopeName string) error {
	if err := policy.Check(subj, policy.AdminUsers, scopePath, "unit "+scopeName); err != nil {
		return err
	}
	for _, p := range perms {
		if _, duty := DutyOf[p]; duty && subj.Can(policy.AdminRoles, "") {
			continue
		}
		if err := policy.Check(subj, p, scopePath, "unit "+scopeName+" (to grant role "+roleName+")"); err != nil {
			return err
		}
	}
	return nil
}

// AddGrant gives a user a role over a unit subtree (see checkGrantable; the
// subject must also administer the user).
func (s *Service) AddGrant(ctx context.Context, subj *policy.Subject, userID, roleID, scopeUnitID string) (Grant, error) {
	var out Grant
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", userID)
		if err != nil {
			return err
		}
		if err := policy.Check(subj, policy.AdminUsers, u.unitPath, "user "+u.Username); err != nil {
			return err
		}
		r, err := s.roleTx(ctx, tx, roleID)
		if err != nil {
			return onField(err, "role_id")
		}
		scope, err := s.unitTx(ctx, tx, scopeUnitID)
		if err != nil {
			return onField(err, "scope_unit_id")
		}
		if err := checkGrantable(subj, r.Permissions, r.Name, scope.Path, scope.Name); err != nil {
			return err
		}
		if err := s.requireRecentAuth(subj); err != nil {
			return err
		}
		id := newID()
		_, err = tx.Exec(ctx, `INSERT INTO role_grants (id, user_id, role_id, scope_unit_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
			id, userID, roleID, scopeUnitID, store.Micros(s.now()), actorOf(subj).ID)
		if store.IsUniqueViolation(err) {
			return problem.Conflict("grant.exists", problem.P{"role": r.Name, "unit": scope.Name})
		}
		if err != nil {
			return wrap("insert grant", err)
		}
		if err := s.requireSeparatedDuties(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "role.grant", Object: "user:" + userID,
			Details: map[string]any{"grant": id, "role": r.Name, "scope_unit": scope.ID, "scope_name": scope.Name}}); err != nil {
			return err
		}
		out, err = scanGrant(tx.QueryRow(ctx, grantSelect+` WHERE g.id = ?`, id))
		return wrap("read grant", err)
	})
	return out, err
}

// RevokeGrant takes a grant away (same authority as giving it). Revoking
// the last active holder's admin.system is refused.
func (s *Service) RevokeGrant(ctx context.Context, subj *policy.Subject, userID, grantID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := scanGrant(tx.QueryRow(ctx, grantSelect+` WHERE g.id = ? AND g.user_id = ?`, grantID, userID))
		if noRows(err) {
			return errNotFound("grant", grantID)
		}
		if err != nil {
			return wrap("read grant", err)
		}
		u, err := s.userTx(ctx, tx, "u.id = ?", userID)
		if err != nil {
			return err
		}
		if err := policy.Check(subj, policy.AdminUsers, u.unitPath, "user "+u.Username); err != nil {
			return err
		}
		if err := checkGrantable(subj, g.Permissions, g.RoleName, g.ScopePath, g.ScopeUnitName); err != nil {
			return err
		}
		if err := s.requireRecentAuth(subj); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM role_grants WHERE id = ?`, grantID); err != nil {
			return wrap("delete grant", err)
		}
		if err := s.requireSystemAdmin(ctx, tx); err != nil {
			return err
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "role.revoke", Object: "user:" + userID,
			Details: map[string]any{"grant": grantID, "role": g.RoleName, "scope_unit": g.ScopeUnitID}})
		return err
	})
}

// countSystemAdmins counts active users holding admin.system through a
// grant, leaving out exceptUser.
func countSystemAdmins(ctx context.Context, tx *store.Tx, exceptUser string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(DISTINCT u.id) FROM users u JOIN role_grants g ON g.user_id = u.id
		JOIN roles r ON r.id = g.role_id WHERE u.status = 'active' AND r.permissions LIKE ? AND u.id <> ?`,
		`%"`+string(policy.AdminSystem)+`"%`, exceptUser).Scan(&n)
	return n, wrap("count system administrators", err)
}

// requireOtherSystemAdmin refuses when no active admin.system holder other
// than userID would remain.
func (s *Service) requireOtherSystemAdmin(ctx context.Context, tx *store.Tx, userID string) error {
	n, err := countSystemAdmins(ctx, tx, userID)
	if err != nil {
		return err
	}
	if n == 0 {
		return problem.Conflict("user.last_system_admin", nil)
	}
	return nil
}

// requireSystemAdmin refuses (rolling back the caller's change) when no
// active admin.system holder remains.
func (s *Service) requireSystemAdmin(ctx context.Context, tx *store.Tx) error {
	return s.requireOtherSystemAdmin(ctx, tx, "")
}

// userDuties returns the duties userID holds through its grants, sorted.
func userDuties(ctx context.Context, tx reader, userID string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT r.permissions FROM role_grants g JOIN roles r ON r.id = g.role_id WHERE g.user_id = ?`, userID)
	if err != nil {
		return nil, wrap("read duties", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var perms string
		if err := rows.Scan(&perms); err != nil {
			return nil, wrap("read duties", err)
		}
		for _, p := range decodePerms(perms) {
			if d, ok := DutyOf[p]; ok && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Strings(out)
	return out, wrap("read duties", rows.Err())
}

// requireSeparatedDuties refuses (rolling back the caller's change) when
// userID would hold two of the three duties (三员分立, AUD-2).
func (s *Service) requireSeparatedDuties(ctx context.Context, tx reader, userID string) error {
	ds, err := userDuties(ctx, tx, userID)
	if err != nil {
		return err
	}
	if len(ds) > 1 {
		return problem.Conflict("grant.duty_conflict", problem.P{"duties": strings.Join(ds, ", ")})
	}
	return nil
}
