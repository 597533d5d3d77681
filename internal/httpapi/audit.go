package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

func (s *Server) auditRoutes(r chi.Router) {
	r.Get("/audit", s.listAudit)
	r.Post("/audit/verify", s.verifyAudit)
}

// listAudit: GET /api/v1/audit — the audit log, newest first. audit.read
// over the root shows every entry; over a subtree, the entries of its
// people and objects only (audit.Filter.Scopes), as the access registry.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	subj := SubjectFrom(r.Context())
	if err := policy.Check(subj, policy.AuditRead, "", "the audit log"); err != nil {
		s.problem(w, r, err)
		return
	}
	var f audit.Filter
	f.Scopes = auditScopes(subj.Scopes(policy.AuditRead))
	var err error
	q := r.URL.Query()
	if f.From, err = queryTime(r, "from"); err != nil {
		s.problem(w, r, err)
		return
	}
	if f.To, err = queryTime(r, "to"); err != nil {
		s.problem(w, r, err)
		return
	}
	if f.BeforeSeq, err = queryInt(r, "before", 0); err != nil {
		s.problem(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	f.Limit = int(limit)
	f.Actor, f.ActorID, f.Action, f.Outcome, f.Object = q.Get("actor"), q.Get("actor_id"), q.Get("action"), q.Get("outcome"), q.Get("object")
	es, err := s.d.Audit.List(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	resp := struct {
		Entries    []audit.Entry `json:"entries"`
		NextBefore int64         `json:"next_before,omitempty"`
	}{Entries: es}
	if resp.Entries == nil {
		resp.Entries = []audit.Entry{}
	}
	if len(es) > 0 && len(es) == f.Limit {
		resp.NextBefore = es[len(es)-1].Seq
	}
	writeJSON(w, http.StatusOK, resp)
}

// verifyAudit: POST /api/v1/audit/verify — recompute the chain now. The
// verification is itself audited.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	subj := SubjectFrom(r.Context())
	if err := policy.Check(subj, policy.AuditRead, "", "the audit log"); err != nil {
		s.problem(w, r, err)
		return
	}
	start := time.Now()
	rep, err := s.d.Audit.Verify(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	outcome := audit.OK
	if !rep.OK {
		outcome = audit.Failed
	}
	if _, err := s.d.Audit.Append(r.Context(), audit.Entry{Actor: actor(r), Action: "audit.verify", Object: "audit", Outcome: outcome,
		Details: map[string]any{"checked": rep.Checked, "ok": rep.OK, "ms": time.Since(start).Milliseconds()}}); err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// auditScopes is nil (everything) when a scope is the root unit's, whose
// path has one segment; otherwise the scopes.
func auditScopes(scopes []string) []string {
	for _, p := range scopes {
		if strings.Count(p, "/") == 2 {
			return nil
		}
	}
	if scopes == nil {
		return []string{}
	}
	return scopes
}

func (s *Server) accessRoutes(r chi.Router) {
	r.Get("/access-records", s.listAccess)
}

// listAccess: GET /api/v1/access-records — the access registry (调用登记)
// of the users in the subject's access.read scopes.
func (s *Server) listAccess(w http.ResponseWriter, r *http.Request) {
	var f policy.AccessFilter
	var err error
	if f.From, err = queryTime(r, "from"); err != nil {
		s.problem(w, r, err)
		return
	}
	if f.To, err = queryTime(r, "to"); err != nil {
		s.problem(w, r, err)
		return
	}
	if f.BeforeAt, err = queryTime(r, "before"); err != nil {
		s.problem(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", 200)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	q := r.URL.Query()
	f.Limit, f.UserID, f.Action, f.Camera = int(limit), q.Get("user_id"), q.Get("action"), q.Get("camera")
	if f.Action != "" && !validAction(f.Action) {
		s.problem(w, r, problem.Invalid("request.bad_parameter", "action", problem.P{"name": "action", "error": "expected live, playback, snapshot, export or ptz"}))
		return
	}
	recs, err := s.d.Gate.ListAccessFor(r.Context(), SubjectFrom(r.Context()), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if recs == nil {
		recs = []policy.AccessRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

func validAction(a string) bool {
	switch policy.Action(a) {
	case policy.ViewLive, policy.Playback, policy.Snapshot, policy.Export, policy.PTZ:
		return true
	}
	return false
}
