package identity

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// OIDCConfig configures sign-in through an OpenID provider (the
// government identity platform, 统一身份认证平台).
type OIDCConfig struct {
	Issuer        string
	ClientID      string
	ClientSecret  string
	RedirectURL   string // Vigil's /api/v1/oidc/callback as the provider knows it
	UsernameClaim string // claim matched against usernames on first sign-in; default preferred_username
	// ProvisionUnit is the unit id where unknown users are created, without
	// roles, on first sign-in. "" refuses unknown users (the default).
	ProvisionUnit string
}

// oidcStateTTL bounds how long a sign-in at the provider may take.
const oidcStateTTL = 10 * time.Minute

type oidcProvider struct {
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

// oidcPending is a started authorization-code flow, keyed by its state.
// It lives in memory on the node that started it: a node restart during
// a sign-in makes that sign-in start over.
type oidcPending struct {
	nonce    string
	verifier string // PKCE code verifier
	expires  time.Time
}

// OIDCEnabled reports whether OIDC sign-in is configured.
func (s *Service) OIDCEnabled() bool { return s.opts.OIDC != nil && s.opts.OIDC.Issuer != "" }

func (s *Service) oidcClient(ctx context.Context) (*oidcProvider, error) {
	if !s.OIDCEnabled() {
		return nil, problem.NotFound("oidc.disabled", nil)
	}
	s.oidcMu.Lock()
	defer s.oidcMu.Unlock()
	if s.oidc != nil {
		return s.oidc, nil
	}
	cfg := s.opts.OIDC
	// The provider's key set fetches keys later with this context: it must
	// outlive the request, so it is not derived from ctx.
	pctx := oidc.ClientContext(context.Background(), &http.Client{Timeout: 15 * time.Second})
	p, err := oidc.NewProvider(pctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery at %s: %w", cfg.Issuer, err)
	}
	s.oidc = &oidcProvider{
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.opts.Now}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
	}
	return s.oidc, nil
}

// OIDCStart begins a sign-in at the provider: it returns the URL to send
// the browser to and the state, which the caller also binds to the
// browser (a cookie) and hands back to OIDCFinish.
func (s *Service) OIDCStart(ctx context.Context) (authURL, state string, err error) {
	p, err := s.oidcClient(ctx)
	if err != nil {
		return "", "", err
	}
	now := s.now()
	state, nonce, verifier := keyring.RandomToken(16), keyring.RandomToken(16), oauth2.GenerateVerifier()
	s.oidcMu.Lock()
	for k, v := range s.oidcState {
		if now.After(v.expires) {
			delete(s.oidcState, k)
		}
	}
	if len(s.oidcState) > 10000 {
		s.oidcMu.Unlock()
		return "", "", problem.TooMany("auth.rate_limited", problem.P{"retry_after": 60})
	}
	s.oidcState[state] = oidcPending{nonce: nonce, verifier: verifier, expires: now.Add(oidcStateTTL)}
	s.oidcMu.Unlock()
	return p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// OIDCFinish completes a sign-in: it exchanges the code, verifies the ID
// token and its nonce, finds the user by (issuer, subject) — or, on the
// first sign-in, by the username claim, and links it — and opens a
// session. Unknown people are refused unless provisioning is configured.
func (s *Service) OIDCFinish(ctx context.Context, state, code, remote, ua string) (Session, error) {
	p, err := s.oidcClient(ctx)
	if err != nil {
		return Session{}, err
	}
	s.oidcMu.Lock()
	pend, ok := s.oidcState[state]
	delete(s.oidcState, state)
	s.oidcMu.Unlock()
	if !ok || s.now().After(pend.expires) {
		return Session{}, problem.BadRequest("auth.oidc_state", nil)
	}
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pend.verifier))
	if err != nil {
		return Session{}, s.oidcFailed(ctx, remote, "", "code exchange: "+err.Error())
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return Session{}, s.oidcFailed(ctx, remote, "", "ID token: "+err.Error())
	}
	if idt.Nonce != pend.nonce {
		return Session{}, s.oidcFailed(ctx, remote, idt.Subject, "nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Session{}, s.oidcFailed(ctx, remote, idt.Subject, "claims: "+err.Error())
	}
	claim := s.opts.OIDC.UsernameClaim
	if claim == "" {
		claim = "preferred_username"
	}
	username, _ := claims[claim].(string)
	username = strings.ToLower(strings.TrimSpace(username))
	name, _ := claims["name"].(string)

	var sess Session
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.oidc_issuer = ? AND u.oidc_subject = ?", idt.Issuer, idt.Subject)
		if err == nil {
			return s.oidcSession(ctx, tx, u, remote, ua, &sess)
		}
		if _, nf := problem.As(err); !nf {
			return err
		}
		if username != "" {
			u, err = s.userTx(ctx, tx, "u.username = ?", username)
			if err == nil && !u.OIDCLinked {
				return s.oidcLink(ctx, tx, u, idt.Issuer, idt.Subject, remote, ua, &sess)
			}
			if _, nf := problem.As(err); err != nil && !nf {
				return err
			}
		}
		if s.opts.OIDC.ProvisionUnit == "" || !ValidUsername(username) {
			return problem.Forbidden("auth.oidc_unknown_user", problem.P{"username": username})
		}
		unit, err := s.unitTx(ctx, tx, s.opts.OIDC.ProvisionUnit)
		if err != nil {
			return err
		}
		if strings.TrimSpace(name) == "" {
			name = username
		}
		id := newID()
		now := store.Micros(s.now())
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, username, name, unit_id, status, oidc_issuer, oidc_subject, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)`, id, username, name, unit.ID, idt.Issuer, idt.Subject, now, now); err != nil {
			return wrap("provision user", err)
		}
		if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.System, Action: "user.create", Object: "user:" + id,
			Details: map[string]any{"username": username, "name": name, "unit": unit.ID, "oidc": true}}); err != nil {
			return err
		}
		u, err = s.userTx(ctx, tx, "u.id = ?", id)
		if err != nil {
			return err
		}
		return s.oidcSession(ctx, tx, u, remote, ua, &sess)
	})
	if pe, ok := problem.As(err); ok && pe.Code == "auth.oidc_unknown_user" {
		s.oidcFailed(ctx, remote, idt.Subject, "unknown user "+username)
	}
	return sess, err
}

func (s *Service) oidcSession(ctx context.Context, tx *store.Tx, u User, remote, ua string, out *Session) error {
	if u.Status == StatusDisabled {
		return problem.Unauthorized("auth.disabled", nil)
	}
	sess, err := s.openSession(ctx, tx, u, remote, ua, "oidc")
	*out = sess
	return err
}

func (s *Service) oidcLink(ctx context.Context, tx *store.Tx, u User, issuer, subject, remote, ua string, out *Session) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET oidc_issuer = ?, oidc_subject = ?, updated_at = ? WHERE id = ?`,
		issuer, subject, store.Micros(s.now()), u.ID); err != nil {
		return wrap("link OIDC identity", err)
	}
	if _, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.Actor{ID: u.ID, Name: u.Name, Unit: u.UnitName, Remote: remote},
		Action: "user.oidc_link", Object: "user:" + u.ID, Details: map[string]any{"issuer": issuer, "subject": subject}}); err != nil {
		return err
	}
	return s.oidcSession(ctx, tx, u, remote, ua, out)
}

// oidcFailed audits a refused OIDC sign-in and returns the answer.
func (s *Service) oidcFailed(ctx context.Context, remote, subject, reason string) error {
	s.log.Append(ctx, audit.Entry{Actor: audit.Actor{ID: "anonymous", Name: "oidc:" + subject, Remote: remote},
		Action: "session.signin_failed", Object: "oidc:" + subject, Outcome: audit.Denied,
		Details: map[string]any{"method": "oidc", "reason": reason}})
	return problem.Unauthorized("auth.oidc_failed", nil)
}
