package httpapi

import (
	"crypto/subtle"
	"net/http"

	"github.com/go-chi/chi/v5"

	"vigil/internal/identity"
	"vigil/internal/problem"
)

// oidcCookie binds a started OIDC sign-in to the browser that started it.
// It is SameSite=Lax because the provider's redirect back is a cross-site
// navigation, which would not carry a Strict cookie.
const oidcCookie = "vigil_oidc"

// sessionRoutes are open to anonymous callers: sign-in, OIDC, session state.
func (s *Server) sessionRoutes(r chi.Router) {
	r.Post("/session", s.signIn)
	r.Get("/session", s.getSession)
	r.Delete("/session", s.signOut)
	r.Get("/oidc/login", s.oidcLogin)
	r.Get("/oidc/callback", s.oidcCallback)
}

// identityRoutes need a signed-in subject: units, users, roles, tokens, TOTP.
func (s *Server) identityRoutes(r chi.Router) {
	r.Post("/me/password", s.changePassword)
	r.Post("/auth/reauth", s.reauth)
	r.Post("/me/totp", s.startTOTP)
	r.Post("/me/totp/confirm", s.confirmTOTP)
	r.Delete("/me/totp", s.disableTOTP)

	r.Get("/units", s.listUnits)
	r.Post("/units", s.createUnit)
	r.Get("/units/{id}", s.getUnit)
	r.Patch("/units/{id}", s.updateUnit)
	r.Delete("/units/{id}", s.deleteUnit)

	r.Get("/users", s.listUsers)
	r.Post("/users", s.createUser)
	r.Get("/users/{id}", s.getUser)
	r.Patch("/users/{id}", s.updateUser)
	r.Post("/users/{id}/disable", s.disableUser)
	r.Post("/users/{id}/enable", s.enableUser)
	r.Post("/users/{id}/reset-password", s.resetPassword)
	r.Post("/users/{id}/reset-totp", s.resetTOTP)
	r.Get("/users/{id}/grants", s.listGrants)
	r.Post("/users/{id}/grants", s.addGrant)
	r.Delete("/users/{id}/grants/{grantId}", s.revokeGrant)

	r.Get("/roles", s.listRoles)
	r.Post("/roles", s.createRole)
	r.Patch("/roles/{id}", s.updateRole)
	r.Delete("/roles/{id}", s.deleteRole)

	r.Get("/tokens", s.listTokens)
	r.Post("/tokens", s.createToken)
	r.Delete("/tokens/{id}", s.revokeToken)
}

func sessionCookie(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// signInAnswer is the body of a successful sign-in.
type signInAnswer struct {
	User               identity.User `json:"user"`
	CSRF               string        `json:"csrf"`
	MustChangePassword bool          `json:"must_change_password"`
}

// signIn: POST /api/v1/session — password (and TOTP) sign-in.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
		TOTP     string `json:"totp"`
	}
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	sess, err := s.d.Identity.SignIn(r.Context(), identity.SignInInput{Username: body.Username, Password: body.Password,
		TOTP: body.TOTP, Remote: remoteAddr(r), UserAgent: r.UserAgent()})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.setSessionCookie(w, sess.ID, sess.ExpiresAt)
	writeJSON(w, http.StatusOK, signInAnswer{User: sess.User, CSRF: sess.CSRF, MustChangePassword: sess.MustChangePassword})
}

// getSession: GET /api/v1/session — who is signed in, with permissions,
// grants and the CSRF token.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	subj := SubjectFrom(r.Context())
	if subj == nil {
		s.problem(w, r, problem.Unauthorized("auth.required", nil))
		return
	}
	info, err := s.d.Identity.SessionInfo(r.Context(), subj, sessionCookie(r))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// signOut: DELETE /api/v1/session.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.d.Identity.SignOut(r.Context(), SubjectFrom(r.Context()), sessionCookie(r)); err != nil {
		s.problem(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

// oidcLogin: GET /api/v1/oidc/login — redirect to the identity platform.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	url, state, err := s.d.Identity.OIDCStart(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state, Path: "/api/v1/oidc/", MaxAge: 600,
		HttpOnly: true, Secure: s.d.TLS, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, url, http.StatusFound)
}

// oidcCallback: GET /api/v1/oidc/callback — the identity platform's
// redirect back; opens the session and goes to the console.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if !s.d.Identity.OIDCEnabled() {
		s.problem(w, r, problem.NotFound("oidc.disabled", nil))
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(oidcCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		s.problem(w, r, problem.BadRequest("auth.oidc_state", nil))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/api/v1/oidc/", MaxAge: -1,
		HttpOnly: true, Secure: s.d.TLS, SameSite: http.SameSiteLaxMode})
	if q.Get("error") != "" || q.Get("code") == "" {
		s.problem(w, r, problem.Unauthorized("auth.oidc_failed", nil))
		return
	}
	sess, err := s.d.Identity.OIDCFinish(r.Context(), state, q.Get("code"), remoteAddr(r), r.UserAgent())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.setSessionCookie(w, sess.ID, sess.ExpiresAt)
	http.Redirect(w, r, "/", http.StatusFound)
}

// changePassword: POST /api/v1/me/password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.d.Identity.ChangePassword(r.Context(), SubjectFrom(r.Context()), body.OldPassword, body.NewPassword, sessionCookie(r)); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// reauth: POST /api/v1/auth/reauth — confirm one's identity again with the
// password (and TOTP code) before a sensitive action (AUD-2).
func (s *Server) reauth(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Password string `json:"password"`
		TOTP     string `json:"totp"`
	}
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	at, err := s.d.Identity.Reauthenticate(r.Context(), SubjectFrom(r.Context()), sessionCookie(r), body.Password, body.TOTP)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"authenticated_at": at})
}

// startTOTP: POST /api/v1/me/totp — a new secret to enrol.
func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request) {
	enr, err := s.d.Identity.StartTOTP(r.Context(), SubjectFrom(r.Context()))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, enr)
}

type codeBody struct {
	Code string `json:"code"`
}

// confirmTOTP: POST /api/v1/me/totp/confirm — turn TOTP on.
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	var body codeBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.d.Identity.ConfirmTOTP(r.Context(), SubjectFrom(r.Context()), body.Code); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// disableTOTP: DELETE /api/v1/me/totp — turn TOTP off with a code.
func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) {
	var body codeBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.d.Identity.DisableTOTP(r.Context(), SubjectFrom(r.Context()), body.Code); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
