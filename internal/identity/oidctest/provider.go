// Package oidctest runs a real OpenID provider for tests: zitadel/oidc's
// `op` package (a certified OpenID Connect implementation) over an
// in-memory storage adapted from its example server, with one
// confidential web client and a fixed set of users who log in at a plain
// username/password form.
//
// It is test scaffolding: everything lives in memory, the signing key is
// made per provider, and the issuer is http://127.0.0.1:<port>.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is an account at the provider.
type User struct {
	Subject  string // the stable "sub" claim
	Username string // preferred_username
	Password string
	Name     string
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	srv *httptest.Server
	st  *storage
}

// LoginPath is where the provider's login form is served and posted.
const LoginPath = "/login/username"

// Start runs a provider on 127.0.0.1 with the given users. Call
// AllowRedirect with the relying party's callback URL before signing in,
// and Close when done.
func Start(users ...User) (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	st := &storage{users: map[string]User{}, requests: map[string]*authRequest{}, codes: map[string]string{},
		key: key, keyID: "k1", client: &client{id: "vigil", secret: "vigil-secret"}}
	for _, u := range users {
		st.users[u.Username] = u
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("oidctest")), CodeMethodS256: true, AuthMethodPost: true}
	prov, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("oidctest: provider: %w", err)
	}
	callback := op.AuthCallbackURL(prov)
	interceptor := op.NewIssuerInterceptor(prov.IssuerFromRequest)
	r := chi.NewRouter()
	r.Get(LoginPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<form method="post" action="%s"><input type="hidden" name="id" value="%s">`+
			`<input name="username"><input name="password" type="password"><button>Sign in</button></form>`,
			LoginPath, r.URL.Query().Get("authRequestID"))
	})
	r.Post(LoginPath, interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := st.login(r.FormValue("username"), r.FormValue("password"), id); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	r.Mount("/", prov)
	srv.Config.Handler = r
	srv.Start()
	return &Provider{Issuer: issuer, ClientID: st.client.id, ClientSecret: st.client.secret, srv: srv, st: st}, nil
}

// AllowRedirect registers a redirect URI of the client.
func (p *Provider) AllowRedirect(uri string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.client.redirects = append(p.st.client.redirects, uri)
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// storage is the provider's in-memory state (op.Storage).
type storage struct {
	mu       sync.Mutex
	users    map[string]User
	requests map[string]*authRequest
	codes    map[string]string // code → request id
	key      *rsa.PrivateKey
	keyID    string
	client   *client
	seq      int
}

func (s *storage) login(username, password, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return errors.New("auth request not found")
	}
	u, ok := s.users[username]
	if !ok || u.Password != password {
		return errors.New("username or password wrong")
	}
	req.subject, req.done, req.authTime = u.Subject, true, time.Now()
	return nil
}

func (s *storage) userBySubject(sub string) (User, bool) {
	for _, u := range s.users {
		if u.Subject == sub {
			return u, true
		}
	}
	return User{}, false
}

func (s *storage) CreateAuthRequest(_ context.Context, ar *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	req := &authRequest{id: fmt.Sprintf("req%d", s.seq), clientID: ar.ClientID, redirect: ar.RedirectURI, state: ar.State,
		nonce: ar.Nonce, scopes: ar.Scopes, responseType: ar.ResponseType, responseMode: ar.ResponseMode}
	if ar.CodeChallenge != "" {
		req.challenge = &oidc.CodeChallenge{Challenge: ar.CodeChallenge, Method: ar.CodeChallengeMethod}
	}
	s.requests[req.id] = req
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		return r, nil
	}
	return nil, errors.New("auth request not found")
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or expired")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for c, rid := range s.codes {
		if rid == id {
			delete(s.codes, c)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("at%d", s.seq), time.Now().Add(5 * time.Minute), nil
}

var errUnsupported = errors.New("oidctest: not supported")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return signingKey{s}, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{publicKey{s}}, nil }

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.id {
		return nil, errors.New("client not found")
	}
	return s.client, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || secret != s.client.secret {
		return errors.New("invalid client")
	}
	return nil
}

// SetUserinfoFromScopes puts the profile claims into the ID token.
func (s *storage) SetUserinfoFromScopes(_ context.Context, ui *oidc.UserInfo, userID, _ string, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.userBySubject(userID)
	if !ok {
		return errors.New("user not found")
	}
	ui.Subject = u.Subject
	for _, sc := range scopes {
		if sc == oidc.ScopeProfile {
			ui.PreferredUsername, ui.Name = u.Username, u.Name
		}
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, _, subject, _ string) error {
	return s.SetUserinfoFromScopes(ctx, ui, subject, "", []string{oidc.ScopeOpenID, oidc.ScopeProfile})
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (s *storage) Health(context.Context) error { return nil }

type signingKey struct{ s *storage }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.s.key }
func (k signingKey) ID() string                                  { return k.s.keyID }

type publicKey struct{ s *storage }

func (k publicKey) ID() string                         { return k.s.keyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.s.key.PublicKey }

// client is the relying party (Vigil): a confidential web client using the
// authorization code flow.
type client struct {
	id, secret string
	redirects  []string
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return LoginPath + "?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return time.Hour }
func (c *client) DevMode() bool                       { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// authRequest is one authorization request (op.AuthRequest).
type authRequest struct {
	id, clientID, redirect, state, nonce string
	scopes                               []string
	responseType                         oidc.ResponseType
	responseMode                         oidc.ResponseMode
	challenge                            *oidc.CodeChallenge
	subject                              string
	done                                 bool
	authTime                             time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirect }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }
