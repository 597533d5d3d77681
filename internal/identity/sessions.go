package identity

import (
	"context"
	"math"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// SignInInput is a password sign-in attempt.
type SignInInput struct {
	Username  string
	Password  string
	TOTP      string // the current code, when the user has TOTP on
	Remote    string
	UserAgent string
}

// Session is a signed-in browser session. ID is the cookie value; only its
// hash is stored.
type Session struct {
	ID                 string
	CSRF               string
	ExpiresAt          time.Time
	User               User
	MustChangePassword bool
}

// SessionInfo is what GET /session shows.
type SessionInfo struct {
	User               User                `json:"user"`
	Permissions        []policy.Permission `json:"permissions"`
	Grants             []Grant             `json:"grants"`
	CSRF               string              `json:"csrf"`
	MustChangePassword bool                `json:"must_change_password"`
	ExpiresAt          time.Time           `json:"expires_at"`
	AuthenticatedAt    time.Time           `json:"authenticated_at"` // sign-in or last re-authentication (AUD-2)
}

// ReauthWindow is how long a sign-in or re-authentication counts for
// sensitive actions (role changes, export): older, the session must
// re-authenticate first (AUD-2). It is the gate's window for exports.
const ReauthWindow = policy.ReauthWindow

// requireRecentAuth refuses a sensitive action by a subject whose session
// was authenticated longer than ReauthWindow ago (or by an API token). The
// system (CLI, bootstrap) acts without a session.
func (s *Service) requireRecentAuth(subj *policy.Subject) error {
	if subj == nil || subj.UserID == "system" {
		return nil
	}
	if subj.AuthenticatedAt.IsZero() || s.now().Sub(subj.AuthenticatedAt) > ReauthWindow {
		return problem.Forbidden("auth.reauth_required", problem.P{"minutes": int(ReauthWindow / time.Minute)})
	}
	return nil
}

// lastSeenEvery throttles the sliding-idle write: a session's last_seen_at
// moves at most once per this period.
const lastSeenEvery = time.Minute

func hashOrEmpty(id string) string {
	if id == "" {
		return ""
	}
	return keyring.HashToken(id)
}

func retryAfter(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// SignIn checks a username and password (and TOTP code) and opens a
// session. The same answers cover an unknown user and a real one:
// auth.bad_credentials for a wrong password, and auth.locked with an end
// time after LockoutAttempts failures in a row (unknown names are counted
// in memory, see lockout.go). Attempts are rate-limited per remote address and
// per username; consecutive failures lock the account for a while.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (Session, error) {
	now := s.now()
	username := strings.ToLower(strings.TrimSpace(in.Username))
	if len(username) > 64 {
		username = username[:64] // no valid username is longer; keeps junk out of the audit log
	}
	if len(in.Password) > 1024 {
		in.Password = "" // never matches: the policy caps passwords at 256 characters
	}
	if ok, wait := s.addrLimit.take(in.Remote, now); !ok {
		return Session{}, problem.TooMany("auth.rate_limited", problem.P{"retry_after": retryAfter(wait)})
	}
	if ok, wait := s.userLimit.take(username, now); !ok {
		return Session{}, problem.TooMany("auth.rate_limited", problem.P{"retry_after": retryAfter(wait)})
	}
	anon := audit.Actor{ID: "anonymous", Name: username, Remote: in.Remote}
	failed := func(reason string) {
		s.log.Append(ctx, audit.Entry{Actor: anon, Action: "session.signin_failed", Object: "user:" + username,
			Outcome: audit.Denied, Details: map[string]any{"reason": reason}})
	}
	u, err := s.userTx(ctx, s.db, "u.username = ?", username)
	if _, nf := problem.As(err); nf || (err == nil && u.passwordHash == "") {
		// Answered exactly as a real account would be, lockout included
		// (ACC-2: no account enumeration), after the same password work.
		VerifyPassword(in.Password, s.dummyHash, s.opts.Argon2)
		if until, ok := s.phantoms.locked(username, now); ok {
			failed("unknown user or no password; locked")
			return Session{}, problem.Unauthorized("auth.locked", problem.P{"until": until.Format(time.RFC3339)})
		}
		failed("unknown user or no password")
		if until, ok := s.phantoms.fail(username, now, s.opts.LockoutAttempts, s.opts.LockoutDuration); ok {
			return Session{}, problem.Unauthorized("auth.locked", problem.P{"until": until.Format(time.RFC3339)})
		}
		return Session{}, problem.Unauthorized("auth.bad_credentials", nil)
	}
	if err != nil {
		return Session{}, err
	}
	anon.ID, anon.Name, anon.Unit = u.ID, u.Name, u.UnitName
	if u.Status == StatusLocked {
		VerifyPassword(in.Password, s.dummyHash, s.opts.Argon2) // the same work as any other answer
		failed("locked")
		return Session{}, problem.Unauthorized("auth.locked", problem.P{"until": u.LockedUntil.Format(time.RFC3339)})
	}
	ok, rehash := VerifyPassword(in.Password, u.passwordHash, s.opts.Argon2)
	if !ok {
		return Session{}, s.signInFailure(ctx, u, anon, "wrong password", problem.Unauthorized("auth.bad_credentials", nil))
	}
	if u.Status == StatusDisabled {
		failed("disabled")
		return Session{}, problem.Unauthorized("auth.disabled", nil)
	}
	var step int64
	if u.TOTPEnabled {
		if strings.TrimSpace(in.TOTP) == "" {
			return Session{}, problem.Unauthorized("auth.totp_required", nil)
		}
		var ok bool
		step, ok = s.matchTOTP(u, in.TOTP, now)
		if !ok {
			return Session{}, s.signInFailure(ctx, u, anon, "wrong TOTP code", problem.Unauthorized("auth.totp_invalid", nil))
		}
	}
	var sess Session
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		q := `UPDATE users SET failed_logins = 0, locked_until = 0`
		var args []any
		if rehash {
			q += `, password_hash = ?`
			args = append(args, HashPassword(in.Password, s.opts.Argon2))
		}
		if step > 0 {
			// Refuse a code whose step was already used, even by a
			// concurrent sign-in: the update only matches an older step.
			q += `, totp_last_step = ? WHERE id = ? AND totp_last_step < ?`
			args = append(args, step, u.ID, step)
		} else {
			q += ` WHERE id = ?`
			args = append(args, u.ID)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return wrap("sign in", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return problem.Unauthorized("auth.totp_invalid", nil)
		}
		sess, err = s.openSession(ctx, tx, u, in.Remote, in.UserAgent, "password")
		return err
	})
	return sess, err
}

// signInFailure counts a failed attempt against the user, locks the
// account after LockoutAttempts in a row, and audits both with the
// counter in one transaction. It returns the error to answer.
func (s *Service) signInFailure(ctx context.Context, u User, who audit.Actor, reason string, answer error) error {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT failed_logins FROM users WHERE id = ?`+tx.ForUpdate(), u.ID).Scan(&n); err != nil {
			return wrap("read failures", err)
		}
		n++
		var until int64
		if n >= s.opts.LockoutAttempts {
			until = store.Micros(now.Add(s.opts.LockoutDuration))
			n = 0
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?`, n, until, u.ID); err != nil {
			return wrap("count failure", err)
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: who, Action: "session.signin_failed", Object: "user:" + u.ID,
			Outcome: audit.Denied, Details: map[string]any{"reason": reason}}); err != nil {
			return err
		}
		if until != 0 {
			t := store.Time(until)
			if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.System, Action: "user.lock", Object: "user:" + u.ID,
				Details: map[string]any{"until": t, "attempts": s.opts.LockoutAttempts}}); err != nil {
				return err
			}
			answer = problem.Unauthorized("auth.locked", problem.P{"until": t.Format(time.RFC3339)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return answer
}

// openSession stores a new session for u and audits the sign-in.
func (s *Service) openSession(ctx context.Context, tx *store.Tx, u User, remote, ua, method string) (Session, error) {
	now := s.now()
	sess := Session{ID: keyring.RandomToken(32), CSRF: keyring.RandomToken(16), ExpiresAt: now.Add(s.opts.SessionLifetime),
		User: u, MustChangePassword: u.MustChangePassword}
	if len(ua) > 200 {
		ua = ua[:200]
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, expires_at, remote, user_agent, method, authenticated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, keyring.HashToken(sess.ID), u.ID, sess.CSRF, store.Micros(now), store.Micros(now),
		store.Micros(sess.ExpiresAt), remote, ua, method, store.Micros(now)); err != nil {
		return sess, wrap("insert session", err)
	}
	_, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.Actor{ID: u.ID, Name: u.Name, Unit: u.UnitName, Remote: remote},
		Action: "session.signin", Object: "user:" + u.ID, Details: map[string]any{"method": method}})
	return sess, err
}

// SignOut ends the session whose cookie value is sessionID.
func (s *Service) SignOut(ctx context.Context, subj *policy.Subject, sessionID string) error {
	if sessionID == "" {
		return nil
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, keyring.HashToken(sessionID))
		if err != nil {
			return wrap("sign out", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		obj := "session"
		if subj != nil {
			obj = "user:" + subj.UserID
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "session.signout", Object: obj})
		return err
	})
}

// AuthenticateRequest resolves a session id (from the cookie) or a bearer API
// token to the subject, and returns the session's CSRF token ("" for
// tokens). A bearer token, when present, is the only credential considered:
// a cookie beside it is ignored, so that the CSRF exemption of tokens
// cannot be borrowed by a cookie.
func (s *Service) AuthenticateRequest(ctx context.Context, sessionID, bearer, remote string) (*policy.Subject, string, error) {
	if bearer != "" {
		subj, err := s.authenticateToken(ctx, bearer)
		if subj != nil {
			subj.Remote = remote
		}
		return subj, "", err
	}
	if sessionID == "" {
		return nil, "", problem.Unauthorized("auth.required", nil)
	}
	now := s.now()
	h := keyring.HashToken(sessionID)
	var userID, csrf string
	var lastSeen, expires, created, authAt int64
	err := s.db.QueryRow(ctx, `SELECT user_id, csrf, last_seen_at, expires_at, created_at, authenticated_at FROM sessions WHERE id_hash = ?`, h).
		Scan(&userID, &csrf, &lastSeen, &expires, &created, &authAt)
	if noRows(err) {
		return nil, "", problem.Unauthorized("auth.session_expired", nil)
	}
	if err != nil {
		return nil, "", wrap("read session", err)
	}
	nowUS := store.Micros(now)
	if nowUS >= expires || now.Sub(store.Time(lastSeen)) >= s.opts.SessionIdle {
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h); err != nil {
			return nil, "", wrap("expire session", err)
		}
		return nil, "", problem.Unauthorized("auth.session_expired", nil)
	}
	subj, mustChange, err := s.subject(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if mustChange {
		// A password set by an administrator is a credential someone else
		// knows: until its holder replaces it, the session carries no
		// permission — it can only change the password (POST /me/password).
		subj.Grants = []policy.Grant{}
	}
	if now.Sub(store.Time(lastSeen)) >= lastSeenEvery {
		if _, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, nowUS, h); err != nil {
			return nil, "", wrap("touch session", err)
		}
	}
	subj.Remote = remote
	if authAt == 0 {
		authAt = created // a session opened before re-authentication existed
	}
	subj.AuthenticatedAt = store.Time(authAt)
	return subj, csrf, nil
}

// Subject builds the policy subject of an active user: the user, its unit
// and its grants with their scope paths.
func (s *Service) Subject(ctx context.Context, userID string) (*policy.Subject, error) {
	subj, _, err := s.subject(ctx, userID)
	return subj, err
}

// subject builds the subject and reports whether the user must change
// their password first.
func (s *Service) subject(ctx context.Context, userID string) (*policy.Subject, bool, error) {
	var subj *policy.Subject
	var mustChange bool
	err := func(tx reader) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", userID)
		if err != nil {
			return err
		}
		mustChange = u.MustChangePassword
		if u.Status == StatusDisabled {
			return problem.Unauthorized("auth.disabled", nil)
		}
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM units WHERE id = ?`, u.UnitID).Scan(&kind); err != nil {
			return wrap("read unit", err)
		}
		gs, err := s.grantsTx(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		subj = &policy.Subject{UserID: u.ID, Username: u.Username, Name: u.Name, UnitID: u.UnitID, UnitName: u.UnitName,
			UnitKind: kind, StandingPurpose: u.StandingPurpose, Grants: []policy.Grant{}}
		for _, g := range gs {
			subj.Grants = append(subj.Grants, policy.Grant{Role: g.RoleName, Permissions: g.Permissions, ScopeUnitID: g.ScopeUnitID, ScopePath: g.ScopePath})
		}
		return nil
	}(s.db)
	if pe, ok := problem.As(err); ok && pe.Status == 404 {
		return nil, false, problem.Unauthorized("auth.session_expired", nil)
	}
	return subj, mustChange, err
}

// SessionInfo describes the session with cookie value sessionID, for GET
// /session.
func (s *Service) SessionInfo(ctx context.Context, subj *policy.Subject, sessionID string) (SessionInfo, error) {
	var info SessionInfo
	if subj == nil {
		return info, problem.Unauthorized("auth.required", nil)
	}
	err := func(tx reader) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", subj.UserID)
		if err != nil {
			return err
		}
		info.User, info.MustChangePassword = u, u.MustChangePassword
		if info.Grants, err = s.grantsTx(ctx, tx, u.ID); err != nil {
			return err
		}
		if sessionID != "" && subj.TokenID == "" {
			var exp int64
			if err := tx.QueryRow(ctx, `SELECT csrf, expires_at FROM sessions WHERE id_hash = ?`, keyring.HashToken(sessionID)).
				Scan(&info.CSRF, &exp); err != nil && !noRows(err) {
				return wrap("read session", err)
			}
			info.ExpiresAt = store.Time(exp)
		}
		return nil
	}(s.db)
	info.AuthenticatedAt = subj.AuthenticatedAt
	info.Permissions = subj.Permissions()
	if info.Permissions == nil {
		info.Permissions = []policy.Permission{}
	}
	return info, err
}

// PruneSessions deletes sessions past their absolute lifetime or idle
// timeout (expired sessions are otherwise deleted only when presented).
// Run it periodically; it returns how many it removed.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
		store.Micros(now), store.Micros(now.Add(-s.opts.SessionIdle)))
	if err != nil {
		return 0, wrap("prune sessions", err)
	}
	return res.RowsAffected()
}

// Reauthenticate proves again, with the password (and the TOTP code when
// the user has TOTP on), that the holder of the session sessionID is its
// user, and stamps the session, so that sensitive actions (role changes,
// export) are allowed for ReauthWindow (AUD-2). A wrong password counts
// towards the lockout like a failed sign-in.
func (s *Service) Reauthenticate(ctx context.Context, subj *policy.Subject, sessionID, password, code string) (time.Time, error) {
	if subj == nil || subj.TokenID != "" || sessionID == "" {
		return time.Time{}, problem.Forbidden("auth.session_required", nil)
	}
	now := s.now()
	if ok, wait := s.userLimit.take(subj.Username, now); !ok {
		return time.Time{}, problem.TooMany("auth.rate_limited", problem.P{"retry_after": retryAfter(wait)})
	}
	u, err := s.userTx(ctx, s.db, "u.id = ?", subj.UserID)
	if err != nil {
		return time.Time{}, err
	}
	who := audit.Actor{ID: u.ID, Name: u.Name, Unit: u.UnitName, Remote: subj.Remote}
	if u.Status == StatusLocked {
		return time.Time{}, problem.Unauthorized("auth.locked", problem.P{"until": u.LockedUntil.Format(time.RFC3339)})
	}
	if ok, _ := VerifyPassword(password, u.passwordHash, s.opts.Argon2); !ok || u.passwordHash == "" {
		return time.Time{}, s.signInFailure(ctx, u, who, "re-authentication: wrong password", problem.Invalid("password.wrong_current", "password", nil))
	}
	var step int64
	if u.TOTPEnabled {
		if strings.TrimSpace(code) == "" {
			return time.Time{}, problem.Unauthorized("auth.totp_required", nil)
		}
		var ok bool
		if step, ok = s.matchTOTP(u, code, now); !ok {
			return time.Time{}, s.signInFailure(ctx, u, who, "re-authentication: wrong TOTP code", problem.Unauthorized("auth.totp_invalid", nil))
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if step > 0 {
			res, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, u.ID, step)
			if err != nil {
				return wrap("re-authenticate", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return problem.Unauthorized("auth.totp_invalid", nil)
			}
		}
		res, err := tx.Exec(ctx, `UPDATE sessions SET authenticated_at = ?, last_seen_at = ? WHERE id_hash = ? AND user_id = ?`,
			store.Micros(now), store.Micros(now), keyring.HashToken(sessionID), u.ID)
		if err != nil {
			return wrap("re-authenticate", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return problem.Unauthorized("auth.session_expired", nil)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0 WHERE id = ?`, u.ID); err != nil {
			return wrap("re-authenticate", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: who, Action: "session.reauth", Object: "user:" + u.ID})
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	subj.AuthenticatedAt = now
	return now, nil
}
