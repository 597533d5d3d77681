package httpapi

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/problem"
)

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.d.Log.Error("panic in handler", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				s.problem(w, r, &problem.Error{Status: 500, Code: "internal"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// trackDenials lets the problem writer know whether a domain already
// audited the request's denial (see denials.go).
func (s *Server) trackDenials(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(audit.TrackDenials(r.Context())))
	})
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "+
			"style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
		if s.d.TLS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if isAPI(r) {
			st := sw.status
			if st == 0 {
				st = 200
			}
			// Never log query strings or bodies: they may carry secrets.
			s.d.Log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", st, "ms", time.Since(start).Milliseconds())
		}
	})
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "vigil_session"

// CSRFHeader carries the session's CSRF token on writes.
const CSRFHeader = "X-CSRF-Token"

// authenticate resolves the subject from the session cookie or a bearer
// token. A request without credentials goes on anonymous; one with bad
// credentials is refused.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sessionID, bearer string
		if c, err := r.Cookie(SessionCookie); err == nil {
			sessionID = c.Value
		}
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			bearer = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		}
		if sessionID == "" && bearer == "" {
			next.ServeHTTP(w, r)
			return
		}
		subj, csrf, err := s.d.Identity.AuthenticateRequest(r.Context(), sessionID, bearer, remoteAddr(r))
		if err != nil {
			if sessionID != "" && bearer == "" {
				// A stale cookie: clear it and go on anonymous, so that the
				// sign-in page still works.
				s.clearSessionCookie(w)
				next.ServeHTTP(w, r)
				return
			}
			s.problem(w, r, err)
			return
		}
		if bearer == "" && !safeMethod(r.Method) {
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
				s.problem(w, r, problem.Forbidden("auth.csrf", nil))
				return
			}
		}
		subj.Remote = remoteAddr(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey, subj)))
	})
}

func (s *Server) requireSubject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if SubjectFrom(r.Context()) == nil {
			s.problem(w, r, problem.Unauthorized("auth.required", nil))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// remoteAddr is the client's address. Vigil does not trust forwarding
// headers: deployments behind a proxy terminate TLS on the same host.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) setSessionCookie(w http.ResponseWriter, id string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.d.TLS, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.d.TLS, SameSite: http.SameSiteStrictMode})
}
