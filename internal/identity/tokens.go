package identity

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// TokenPrefix starts every API token, so that a leaked one is recognisable
// (secret scanners) and a bearer value is cheap to reject.
const TokenPrefix = "vgl_"

// tokenTouchEvery throttles the last_used_at write.
const tokenTouchEvery = time.Minute

// Token is an API token of an integration (对接系统). Its secret is shown
// once, when created; only its hash is stored.
type Token struct {
	ID         string              `json:"id"`
	UserID     string              `json:"user_id"`
	Name       string              `json:"name"`
	Scopes     []policy.Permission `json:"scopes"`
	CreatedAt  time.Time           `json:"created_at"`
	ExpiresAt  *time.Time          `json:"expires_at,omitempty"`
	LastUsedAt *time.Time          `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time          `json:"revoked_at,omitempty"`
	Secret     string              `json:"secret,omitempty"` // only in the answer to creation
}

// TokenInput creates a token.
type TokenInput struct {
	Name      string              `json:"name"`
	Scopes    []policy.Permission `json:"scopes"`
	ExpiresAt *time.Time          `json:"expires_at"`
}

func optTime(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := store.Time(us)
	return &t
}

const tokenCols = `id, user_id, name, scopes, created_at, expires_at, last_used_at, revoked_at`

func scanToken(r scanner) (Token, error) {
	var t Token
	var scopes string
	var c, e, l, rv int64
	err := r.Scan(&t.ID, &t.UserID, &t.Name, &scopes, &c, &e, &l, &rv)
	t.Scopes = decodePerms(scopes)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = store.Time(c), optTime(e), optTime(l), optTime(rv)
	return t, err
}

// CreateToken issues an API token to the subject itself (tokens.own). Its
// scopes must be permissions the subject holds: a token narrows, never
// widens.
func (s *Service) CreateToken(ctx context.Context, subj *policy.Subject, in TokenInput) (Token, error) {
	if err := policy.Check(subj, policy.TokensOwn, "", "API tokens"); err != nil {
		return Token{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := checkText("name", in.Name, true, 100); err != nil {
		return Token{}, err
	}
	if len(in.Scopes) == 0 {
		return Token{}, problem.Invalid("field.required", "scopes", problem.P{"field": "scopes"})
	}
	held := subj.Permissions()
	for _, p := range in.Scopes {
		if !policy.ValidPermission(p) {
			return Token{}, problem.Invalid("role.bad_permission", "scopes", problem.P{"permission": string(p)})
		}
		if !hasPermission(held, p) {
			return Token{}, problem.Invalid("token.scope_not_held", "scopes", problem.P{"permission": string(p)})
		}
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return Token{}, problem.Invalid("token.expiry_past", "expires_at", nil)
	}
	secret := TokenPrefix + keyring.RandomToken(32)
	t := Token{ID: newID(), UserID: subj.UserID, Name: in.Name, Scopes: in.Scopes, CreatedAt: now, Secret: secret}
	var exp int64
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		t.ExpiresAt, exp = &e, store.Micros(e)
	}
	scopes, _ := json.Marshal(in.Scopes)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.UserID, t.Name, keyring.HashToken(secret), string(scopes), store.Micros(now), exp); err != nil {
			return wrap("insert token", err)
		}
		_, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "token.create", Object: "token:" + t.ID,
			Details: map[string]any{"name": t.Name, "scopes": t.Scopes, "expires_at": t.ExpiresAt}})
		return err
	})
	if err != nil {
		return Token{}, err
	}
	return t, nil
}

func hasPermission(ps []policy.Permission, p policy.Permission) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// ListTokens returns the subject's own tokens, newest first.
func (s *Service) ListTokens(ctx context.Context, subj *policy.Subject) ([]Token, error) {
	if subj == nil {
		return nil, problem.Unauthorized("auth.required", nil)
	}
	rows, err := s.db.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC`, subj.UserID)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tokens", rows.Err())
}

// RevokeToken revokes a token: one's own, or anyone's with admin.system.
func (s *Service) RevokeToken(ctx context.Context, subj *policy.Subject, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = ?`, id))
		if noRows(err) {
			return errNotFound("token", id)
		}
		if err != nil {
			return wrap("read token", err)
		}
		if subj == nil || t.UserID != subj.UserID {
			if err := policy.Check(subj, policy.AdminSystem, "", "API tokens of others"); err != nil {
				return errNotFound("token", id)
			}
		}
		if t.RevokedAt != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, store.Micros(s.now()), id); err != nil {
			return wrap("revoke token", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "token.revoke", Object: "token:" + id,
			Details: map[string]any{"name": t.Name, "owner": t.UserID}})
		return err
	})
}

// authenticateToken resolves a bearer API token to its owner's subject,
// limited to the token's scopes.
func (s *Service) authenticateToken(ctx context.Context, bearer string) (*policy.Subject, error) {
	bad := problem.Unauthorized("auth.bad_token", nil)
	if !strings.HasPrefix(bearer, TokenPrefix) || len(bearer) > 200 {
		return nil, bad
	}
	t, err := scanToken(s.db.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = ?`, keyring.HashToken(bearer)))
	if noRows(err) {
		return nil, bad
	}
	if err != nil {
		return nil, wrap("read token", err)
	}
	now := s.now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, bad
	}
	subj, err := s.Subject(ctx, t.UserID)
	if err != nil {
		return nil, bad
	}
	subj.TokenID = t.ID
	subj.TokenScopes = []string{}
	for _, p := range t.Scopes {
		subj.TokenScopes = append(subj.TokenScopes, string(p))
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenTouchEvery {
		if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, store.Micros(now), t.ID); err != nil {
			return nil, wrap("touch token", err)
		}
	}
	return subj, nil
}
