// Package identity holds Vigil's people (ACC-1, ACC-2, REG-11): units
// (单位) in a tree, real-name users (实名用户), roles and their grants
// scoped to a unit subtree, passwords, TOTP, sessions, API tokens and OIDC
// sign-in through the government identity platform.
//
// Invariants:
//   - Every operation takes the acting *policy.Subject and is authorised by
//     policy.Check against the unit path it touches; no ad-hoc checks.
//   - Nobody gives what they do not hold: granting a role, editing,
//     disabling or resetting a user needs every permission involved over
//     the scope involved (no privilege escalation).
//   - Every state change commits in one transaction with its audit entry;
//     a refused change writes neither.
//   - Secrets are stored only as hashes (passwords: argon2id PHC strings;
//     session ids and API tokens: keyring.HashToken) or sealed with the
//     keyring (ID numbers, TOTP secrets). No response carries them; ID
//     numbers leave only masked.
//   - At least one active user holds admin.system at all times: disabling
//     or revoking the last one is refused.
//   - Separation of duties (三员分立, AUD-2): admin.system, admin.roles and
//     audit.read each live only in their built-in role (system_admin,
//     security_admin, auditor), and no account holds two of them.
//   - Role and grant changes need a sign-in or re-authentication of the
//     acting session within ReauthWindow; API tokens never qualify.
//   - A unit's path is "/rootid/…/id/"; moving a unit rewrites the paths of
//     its subtree in the same transaction.
//
// Decisions:
//   - Visibility: a person sees the units in the subtrees of all their
//     grants, whatever the permission (a watcher needs the names of the
//     units whose cameras it watches), plus their own unit; users are
//     listed only under admin.users scopes (and oneself).
//   - A password set by an administrator (CreateUser, ResetPassword) must
//     be changed: until then the session carries no permission and can
//     only change the password. Passwords set by the operator through the
//     CLI or Bootstrap need not be changed.
//   - A password older than PasswordMaxAge counts as set by someone else:
//     the session opens without permissions until it is changed; a change
//     may not reuse the last PasswordHistory passwords.
//   - Sign-in rate limits live in memory per node; lockouts live in the
//     database. OIDC sign-ins in progress live in memory on the node that
//     started them.
package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// Options configure the identity service. Zero fields take the defaults
// noted on each.
type Options struct {
	MinPasswordLength int           // default 10
	LockoutAttempts   int           // consecutive failures before a lockout; default 5
	LockoutDuration   time.Duration // default 15m
	SessionIdle       time.Duration // sliding idle timeout; default 30m
	SessionLifetime   time.Duration // absolute lifetime; default 12h
	PasswordMaxAge    time.Duration // a password older than this must be changed at sign-in; 0 = never (AUD-2)
	PasswordHistory   int           // a new password may not be one of the last this many; 0 = only not the current one (AUD-2)
	Argon2            Argon2Params  // default DefaultArgon2
	SignInPerAddress  int           // sign-in attempts per minute per remote address; default 10
	SignInPerUser     int           // sign-in attempts per minute per username; default 5
	TOTPIssuer        string        // label in authenticator apps; default "Vigil"
	OIDC              *OIDCConfig   // nil: OIDC sign-in is off
	Now               func() time.Time
}

func (o *Options) defaults() {
	if o.MinPasswordLength <= 0 {
		o.MinPasswordLength = 10
	}
	if o.LockoutAttempts <= 0 {
		o.LockoutAttempts = 5
	}
	if o.LockoutDuration <= 0 {
		o.LockoutDuration = 15 * time.Minute
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 12 * time.Hour
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2
	}
	if o.SignInPerAddress <= 0 {
		o.SignInPerAddress = 10
	}
	if o.SignInPerUser <= 0 {
		o.SignInPerUser = 5
	}
	if o.TOTPIssuer == "" {
		o.TOTPIssuer = "Vigil"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service is the identity domain.
type Service struct {
	db   *store.DB
	log  *audit.Log
	kr   *keyring.Keyring
	opts Options

	// dummyHash, under the configured parameters, is verified against for
	// unknown usernames, so that a wrong username costs the same time as a
	// wrong password.
	dummyHash string

	addrLimit *limiter
	userLimit *limiter
	phantoms  phantomLocks // lockouts of names without an account (lockout.go)

	oidcMu    sync.Mutex
	oidc      *oidcProvider // lazily discovered
	oidcState map[string]oidcPending
}

// New returns the identity service.
func New(db *store.DB, log *audit.Log, kr *keyring.Keyring, opts Options) *Service {
	opts.defaults()
	s := &Service{db: db, log: log, kr: kr, opts: opts, oidcState: map[string]oidcPending{},
		dummyHash: HashPassword("vigil-no-such-user", opts.Argon2)}
	s.addrLimit = newLimiter(opts.SignInPerAddress, time.Minute)
	s.userLimit = newLimiter(opts.SignInPerUser, time.Minute)
	return s
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.opts.Now = now }

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// reader is what reads need from a *store.DB or a *store.Tx, so that
// read-only paths (building a request's subject) run outside a
// transaction, which on SQLite would take the write lock.
type reader interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func newID() string { return keyring.RandomToken(8) }

// actorOf is the audit actor for a subject.
func actorOf(subj *policy.Subject) audit.Actor {
	if subj == nil {
		return audit.System
	}
	return audit.Actor{ID: subj.UserID, Name: subj.Name, Unit: subj.UnitName, Remote: subj.Remote}
}

// systemSubject acts for the CLI and bootstrap: every permission over the
// whole tree.
func systemSubject(rootPath string) *policy.Subject {
	return &policy.Subject{UserID: "system", Username: "system", Name: "system",
		Grants: []policy.Grant{{Role: "system", Permissions: policy.AllPermissions, ScopePath: rootPath}}}
}

// errNotFound is a 404 problem naming the kind of object.
func errNotFound(kind, id string) error {
	return problem.NotFound(kind+".not_found", problem.P{"id": id})
}

func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// wrap adds context to a database error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
