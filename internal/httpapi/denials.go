package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

// Denials (AUD-4): every 401 and 403 the API answers is audited, once,
// here where the problem is written — unless a domain already appended a
// denial entry for the request (the gate, retention and sign-in do; see
// audit.TrackDenials). So that a caller hammering a route cannot flood the
// chain, denials are coalesced per subject, route and code: the first of a
// window writes an entry at once, later ones in the same window are counted
// and written as one entry ("count") when the window has passed: at the
// next denial, by a timer, or at FlushDenials.

// DefaultDenialWindow is the coalescing window when Deps.DenialWindow is 0.
const DefaultDenialWindow = time.Minute

type denialKey struct{ subject, route, code string }

type denialRun struct {
	first, last time.Time
	suppressed  int
	entry       audit.Entry // the first denial's entry, reused for the summary
}

type denials struct {
	mu   sync.Mutex
	runs map[denialKey]*denialRun
}

func (s *Server) denialWindow() time.Duration {
	if s.d.DenialWindow > 0 {
		return s.d.DenialWindow
	}
	return DefaultDenialWindow
}

func (s *Server) clock() time.Time {
	if s.d.Now != nil {
		return s.d.Now()
	}
	return time.Now()
}

// routeOf is the route pattern the request matched ("GET /cameras/{id}"),
// or its path when no route matched yet.
func routeOf(r *http.Request) string {
	pattern := ""
	if rc := chi.RouteContext(r.Context()); rc != nil {
		pattern = rc.RoutePattern()
	}
	if pattern == "" || strings.HasSuffix(pattern, "*") {
		pattern = r.URL.Path
	}
	return r.Method + " " + strings.TrimPrefix(pattern, "/api/v1")
}

// auditDenial writes (or counts) the audit entry of a refusal.
func (s *Server) auditDenial(r *http.Request, pe *problem.Error, cause error) {
	if s.d.Audit == nil || (pe.Status != http.StatusUnauthorized && pe.Status != http.StatusForbidden) {
		return
	}
	if audit.DenialAudited(r.Context()) {
		return
	}
	a := actor(r)
	subject := a.ID
	if subj := SubjectFrom(r.Context()); subj == nil {
		subject = "anonymous@" + a.Remote
	}
	route := routeOf(r)
	key := denialKey{subject, route, pe.Code}
	details := map[string]any{"code": pe.Code, "status": pe.Status, "route": route, "path": r.URL.Path, "count": 1}
	var denied *policy.DeniedError
	if errors.As(cause, &denied) {
		details["permission"] = string(denied.Permission)
		details["target"] = denied.Target
	}
	e := audit.Entry{Actor: a, Action: "request.denied", Object: "route:" + route, Outcome: audit.Denied, Details: details}

	now := s.clock()
	s.denials.mu.Lock()
	if s.denials.runs == nil {
		s.denials.runs = map[denialKey]*denialRun{}
	}
	due := s.expiredLocked(now)
	if run, ok := s.denials.runs[key]; ok {
		run.suppressed++
		run.last = now
		if run.suppressed == 1 && s.d.Now == nil {
			// Write the count when the window has passed even if no
			// other denial comes to sweep it.
			time.AfterFunc(s.denialWindow()-now.Sub(run.first)+time.Second, func() { s.sweepDenials() })
		}
		s.denials.mu.Unlock()
		s.writeDenials(r.Context(), due)
		return
	}
	s.denials.runs[key] = &denialRun{first: now, last: now, entry: e}
	s.denials.mu.Unlock()
	s.writeDenials(r.Context(), append(due, e))
}

// expiredLocked removes the runs whose window has passed and returns the
// summary entries of those that counted more denials.
func (s *Server) expiredLocked(now time.Time) []audit.Entry {
	var out []audit.Entry
	for k, run := range s.denials.runs {
		if now.Sub(run.first) < s.denialWindow() {
			continue
		}
		delete(s.denials.runs, k)
		if run.suppressed > 0 {
			out = append(out, summary(run))
		}
	}
	return out
}

func summary(run *denialRun) audit.Entry {
	e := run.entry
	d := make(map[string]any, len(e.Details)+2)
	for k, v := range e.Details {
		d[k] = v
	}
	d["count"] = run.suppressed
	d["coalesced"] = true
	d["first"] = run.first.UTC().Format(time.RFC3339Nano)
	d["last"] = run.last.UTC().Format(time.RFC3339Nano)
	e.Details = d
	return e
}

func (s *Server) writeDenials(ctx context.Context, es []audit.Entry) {
	ctx = context.WithoutCancel(ctx)
	for _, e := range es {
		if _, err := s.d.Audit.Append(ctx, e); err != nil {
			s.d.Log.Error("audit denial", "route", e.Object, "err", err)
		}
	}
}

// sweepDenials writes the counts of the runs whose window has passed.
func (s *Server) sweepDenials() {
	s.denials.mu.Lock()
	due := s.expiredLocked(s.clock())
	s.denials.mu.Unlock()
	s.writeDenials(context.Background(), due)
}

// FlushDenials writes the counts of denials still being coalesced, whatever
// their window (at shutdown, and in tests).
func (s *Server) FlushDenials(ctx context.Context) {
	s.denials.mu.Lock()
	var es []audit.Entry
	for k, run := range s.denials.runs {
		delete(s.denials.runs, k)
		if run.suppressed > 0 {
			es = append(es, summary(run))
		}
	}
	s.denials.mu.Unlock()
	if s.d.Audit != nil {
		s.writeDenials(ctx, es)
	}
}
