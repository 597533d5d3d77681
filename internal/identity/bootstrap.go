package identity

import (
	"context"
	"fmt"
	"strings"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// RootUnitName is the name Bootstrap gives the root unit.
const RootUnitName = "本级平台"

// FirstAccount is one of the accounts the first start creates: one per
// duty (三员分立, AUD-2), so that no account combines them.
type FirstAccount struct {
	Username, Name, Role string
}

// FirstAccounts are the system administrator, the security administrator
// and the security auditor.
var FirstAccounts = []FirstAccount{
	{Username: "admin", Name: "系统管理员", Role: RoleSystemAdmin},
	{Username: "secadmin", Name: "安全管理员", Role: RoleSecurityAdmin},
	{Username: "auditor", Name: "安全审计员", Role: RoleAuditor},
}

// Bootstrap prepares the database: the root unit (kind admin_department),
// the built-in roles (bringing existing ones to this version's
// definition), and, for each duty of FirstAccounts whose role no active
// user holds and whose username is free, that account holding the role
// over the root, with the
// password password(username) — on an empty database all three. It is
// idempotent: on a database where every duty is held, password is not
// called. It returns the usernames it created. Everything it creates is
// audited with the system as actor.
func (s *Service) Bootstrap(ctx context.Context, password func(username string) string) (created []string, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		created = nil
		if tx.Dialect == store.Postgres {
			// Two nodes starting on an empty database create one admin.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7418191)`); err != nil {
				return err
			}
		}
		root, err := s.ensureRoot(ctx, tx)
		if err != nil {
			return err
		}
		roles, err := s.ensureBuiltinRoles(ctx, tx)
		if err != nil {
			return err
		}
		sys := systemSubject(root.Path)
		for _, a := range FirstAccounts {
			var held int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM role_grants g JOIN users u ON u.id = g.user_id
				WHERE g.role_id = ? AND u.status = 'active'`, roles[a.Role]).Scan(&held); err != nil {
				return wrap("count duty holders", err)
			}
			var taken int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE username = ?`, a.Username).Scan(&taken); err != nil {
				return wrap("read user", err)
			}
			if held > 0 || taken > 0 {
				// Held; or its account exists without the role (its grant
				// was revoked): the security administrator decides, a
				// restart does not.
				continue
			}
			pw := ""
			if password != nil {
				pw = password(a.Username)
			}
			if pw == "" {
				return fmt.Errorf("bootstrap: nobody holds the role %s and no password was given for the account %s", a.Role, a.Username)
			}
			if err := CheckPasswordPolicy(pw, a.Username, s.opts.MinPasswordLength); err != nil {
				return fmt.Errorf("bootstrap: the password of %s does not meet the password policy: %w", a.Username, err)
			}
			id, err := s.insertUserTx(ctx, tx, sys, UserInput{Username: a.Username, Name: a.Name, UnitID: root.ID, Password: pw}, root)
			if err != nil {
				return fmt.Errorf("bootstrap: create %s: %w", a.Username, err)
			}
			if err := s.insertGrantTx(ctx, tx, sys, id, roles[a.Role], root); err != nil {
				return err
			}
			created = append(created, a.Username)
		}
		return nil
	})
	return created, err
}

func (s *Service) ensureRoot(ctx context.Context, tx *store.Tx) (Unit, error) {
	u, err := scanUnit(tx.QueryRow(ctx, `SELECT `+unitCols+` FROM units WHERE parent_id IS NULL ORDER BY created_at LIMIT 1`))
	if err == nil || !noRows(err) {
		return u, wrap("read root unit", err)
	}
	now := s.now()
	id := newID()
	u = Unit{ID: id, Path: "/" + id + "/", Name: RootUnitName, Kind: KindAdminDept, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.Exec(ctx, `INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES (?, NULL, ?, ?, ?, ?, ?)`,
		u.ID, u.Path, u.Name, u.Kind, store.Micros(now), store.Micros(now)); err != nil {
		return u, wrap("create root unit", err)
	}
	_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.System, Action: "unit.create", Object: "unit:" + id,
		Details: map[string]any{"name": u.Name, "kind": u.Kind, "root": true}})
	return u, err
}

// ensureBuiltinRoles creates the built-in roles that are missing, brings
// the permissions of existing ones up to this version's definition (a
// release that adds a permission gives it to system_admin), and returns
// the ids of all of them by name.
func (s *Service) ensureBuiltinRoles(ctx context.Context, tx *store.Tx) (map[string]string, error) {
	ids := map[string]string{}
	for _, in := range BuiltinRoles {
		in.validate()
		r, err := scanRole(tx.QueryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE name = ?`, in.Name))
		switch {
		case noRows(err):
			if r, err = s.insertRole(ctx, tx, nil, in, true); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, wrap("read role", err)
		case r.Builtin && encodePerms(r.Permissions) != encodePerms(in.Permissions):
			if _, err := tx.Exec(ctx, `UPDATE roles SET permissions = ?, updated_at = ? WHERE id = ?`,
				encodePerms(in.Permissions), store.Micros(s.now()), r.ID); err != nil {
				return nil, wrap("update built-in role", err)
			}
			if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.System, Action: "role.update", Object: "role:" + r.ID,
				Details: map[string]any{"name": r.Name, "permissions": in.Permissions, "builtin": true}}); err != nil {
				return nil, err
			}
		}
		ids[in.Name] = r.ID
	}
	return ids, nil
}

// insertUserTx writes a user created by the system (bootstrap, CLI): the
// password is the operator's, so it need not be changed at first sign-in.
func (s *Service) insertUserTx(ctx context.Context, tx *store.Tx, subj *policy.Subject, in UserInput, unit Unit) (string, error) {
	if err := in.validate(s.opts.MinPasswordLength); err != nil {
		return "", err
	}
	id := newID()
	now := store.Micros(s.now())
	hash := HashPassword(in.Password, s.opts.Argon2)
	_, err := tx.Exec(ctx, `INSERT INTO users (id, username, name, unit_id, status, password_hash, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)`, id, in.Username, in.Name, unit.ID, hash, now, now, now)
	if store.IsUniqueViolation(err) {
		return "", problem.Invalid("user.username_taken", "username", problem.P{"username": in.Username})
	}
	if err != nil {
		return "", wrap("insert user", err)
	}
	if err := s.rememberPassword(ctx, tx, id, hash); err != nil {
		return "", err
	}
	_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "user.create", Object: "user:" + id,
		Details: map[string]any{"username": in.Username, "name": in.Name, "unit": unit.ID}})
	return id, err
}

func (s *Service) insertGrantTx(ctx context.Context, tx *store.Tx, subj *policy.Subject, userID, roleID string, scope Unit) error {
	id := newID()
	if _, err := tx.Exec(ctx, `INSERT INTO role_grants (id, user_id, role_id, scope_unit_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		id, userID, roleID, scope.ID, store.Micros(s.now()), actorOf(subj).ID); err != nil {
		return wrap("insert grant", err)
	}
	if err := s.requireSeparatedDuties(ctx, tx, userID); err != nil {
		return err
	}
	var name string
	tx.QueryRow(ctx, `SELECT name FROM roles WHERE id = ?`, roleID).Scan(&name)
	_, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "role.grant", Object: "user:" + userID,
		Details: map[string]any{"grant": id, "role": name, "scope_unit": scope.ID, "scope_name": scope.Name}})
	return err
}

// CreateUserCLI creates a user for `vigil user create`, acting as the
// system (audited): in unitID ("" = the root unit), with the built-in or
// defined roles named in roles granted over that unit.
func (s *Service) CreateUserCLI(ctx context.Context, username, name, unitID, password string, roles []string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		root, err := s.ensureRoot(ctx, tx)
		if err != nil {
			return err
		}
		unit := root
		if unitID != "" {
			if unit, err = s.unitTx(ctx, tx, unitID); err != nil {
				return err
			}
		}
		if password == "" {
			return problem.Invalid("field.required", "password", problem.P{"field": "password"})
		}
		sys := systemSubject(root.Path)
		id, err := s.insertUserTx(ctx, tx, sys, UserInput{Username: username, Name: name, UnitID: unit.ID, Password: password}, unit)
		if err != nil {
			return err
		}
		for _, r := range roles {
			var rid string
			if err := tx.QueryRow(ctx, `SELECT id FROM roles WHERE name = ?`, strings.TrimSpace(r)).Scan(&rid); err != nil {
				if noRows(err) {
					return errNotFound("role", r)
				}
				return wrap("read role", err)
			}
			if err := s.insertGrantTx(ctx, tx, sys, id, rid, unit); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) rootSubject(ctx context.Context) (*policy.Subject, error) {
	var p string
	if err := s.db.QueryRow(ctx, `SELECT path FROM units WHERE parent_id IS NULL ORDER BY created_at LIMIT 1`).Scan(&p); err != nil {
		return nil, wrap("read root unit", err)
	}
	return systemSubject(p), nil
}

// ResetPasswordCLI sets a user's password for `vigil user reset-password`
// (the system acts, audited), clears a lockout and ends the user's
// sessions.
func (s *Service) ResetPasswordCLI(ctx context.Context, username, password string) error {
	sys, err := s.rootSubject(ctx)
	if err != nil {
		return err
	}
	return s.resetPassword(ctx, sys, "u.username = ?", strings.ToLower(username), password, false)
}

// DisableUserCLI disables a user for `vigil user disable` (the system acts,
// audited); the last active system administrator cannot be disabled.
func (s *Service) DisableUserCLI(ctx context.Context, username string) error {
	sys, err := s.rootSubject(ctx)
	if err != nil {
		return err
	}
	var id string
	if err := s.db.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, strings.ToLower(username)).Scan(&id); err != nil {
		if noRows(err) {
			return errNotFound("user", username)
		}
		return wrap("read user", err)
	}
	_, err = s.SetUserDisabled(ctx, sys, id, true)
	return err
}

// OnePassword is a Bootstrap password function giving every first account
// the same password p (tests and demos; production prints one each).
func OnePassword(p string) func(string) string {
	return func(string) string { return p }
}
