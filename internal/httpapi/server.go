// Package httpapi is Vigil's HTTP surface: JSON under /api/v1, described by
// the OpenAPI document in openapi/*.yaml, errors as application/problem+json,
// and the console's static files.
//
// Handlers are thin: they parse, call one domain function, write the answer.
// Authorisation is the gate's (internal/policy), never a handler's if.
// Invariants: every request body is size-limited; unknown JSON fields are
// refused; every /api/v1 route except sign-in and the OpenAPI document
// requires a signed-in subject; cookie-authenticated writes carry the CSRF
// token; the document lists exactly the routes the router serves (a test
// checks it); every 401 and 403 is audited once, coalesced per subject,
// route and code (denials.go); every route has a row in the role × route
// matrix test (matrix_test.go).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/identity"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/registry"
)

// Deps are what the handlers call.
type Deps struct {
	Ping       func(context.Context) error // /healthz: is the database reachable
	Audit      *audit.Log
	Identity   *identity.Service
	Gate       *policy.Gate
	Registry   *registry.Service
	Recordings RecordingDeps
	Live       LiveDeps
	Ingest     IngestDeps
	Profile    *profile.Profile
	Keyring    *keyring.Keyring
	Log        *slog.Logger
	Console    http.Handler // the embedded web console, served at /
	TLS        bool         // cookies are Secure when true
	Version    string
	Ready      func() bool // /healthz answers 200 once this is true

	// DenialWindow coalesces audited denials per subject, route and code
	// (default DefaultDenialWindow); Now is the clock (tests).
	DenialWindow time.Duration
	Now          func() time.Time
}

// Server is the HTTP handler.
type Server struct {
	d       Deps
	router  chi.Router
	denials denials
}

// MaxBody is the largest request body accepted by JSON endpoints.
const MaxBody = 1 << 20

// New builds the handler.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Server{d: d}
	r := chi.NewRouter()
	r.Use(s.trackDenials, s.recoverer, s.securityHeaders, s.accessLog)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if d.Console != nil && r.Method == http.MethodGet && !isAPI(r) {
			d.Console.ServeHTTP(w, r)
			return
		}
		s.problem(w, r, errNotFound(r))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { s.problem(w, r, errMethod(r)) })
	r.Get("/healthz", s.healthz)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		r.Get("/openapi.json", s.openapiDoc)
		s.sessionRoutes(r) // sign-in, sign-out, OIDC: open to the anonymous
		r.Group(func(r chi.Router) {
			r.Use(s.requireSubject)
			s.identityRoutes(r)
			s.auditRoutes(r)
			s.accessRoutes(r)
			s.profileRoutes(r)
			s.registryRoutes(r, d.Registry)
			s.recordingRoutes(r, d.Recordings)
			s.liveRoutes(r, d.Live)
			s.ingestRoutes(r, d.Ingest)
		})
	})
	s.router = r
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Router exposes the router to the route-coverage test.
func (s *Server) Router() chi.Router { return s.router }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.d.Ready != nil && !s.d.Ready() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.d.Ping != nil && s.d.Ping(ctx) != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func isAPI(r *http.Request) bool {
	p := r.URL.Path
	return len(p) >= 5 && p[:5] == "/api/"
}

type ctxKey int

const subjectKey ctxKey = 1

// SubjectFrom returns the signed-in subject of the request, or nil.
func SubjectFrom(ctx context.Context) *policy.Subject {
	s, _ := ctx.Value(subjectKey).(*policy.Subject)
	return s
}

// actor turns the request's subject into an audit actor.
func actor(r *http.Request) audit.Actor {
	s := SubjectFrom(r.Context())
	if s == nil {
		return audit.Actor{ID: "anonymous", Name: "anonymous", Remote: remoteAddr(r)}
	}
	return audit.Actor{ID: s.UserID, Name: s.Name, Unit: s.UnitName, Remote: remoteAddr(r)}
}
