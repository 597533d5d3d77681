package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"vigil/internal/problem"
	"vigil/internal/record"
)

// IngestDeps are what the ingest-state routes read (MED-1): the recorder
// that pulls the cameras.
type IngestDeps struct {
	Recorder *record.Recorder
}

type ingestAPI struct {
	s *Server
	d IngestDeps
}

// ingestRoutes mounts the ingest-state routes on the signed-in group.
func (s *Server) ingestRoutes(r chi.Router, d IngestDeps) {
	a := &ingestAPI{s: s, d: d}
	r.Get("/cameras/{id}/ingest", a.get)
	r.Get("/ingest", a.list)
}

// get: GET /api/v1/cameras/{id}/ingest — the camera's ingest state and
// counters; a camera out of the subject's sight is not found.
func (a *ingestAPI) get(w http.ResponseWriter, r *http.Request) {
	if a.d.Recorder == nil {
		a.s.problem(w, r, problem.NotFound("registry.camera_not_found", problem.P{"id": chi.URLParam(r, "id")}))
		return
	}
	st, err := a.d.Recorder.IngestFor(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// list: GET /api/v1/ingest — the ingest state of every camera the
// recorder pulls that the subject may see.
func (a *ingestAPI) list(w http.ResponseWriter, r *http.Request) {
	out := []record.Ingest{}
	if a.d.Recorder != nil {
		var err error
		if out, err = a.d.Recorder.IngestsFor(r.Context(), SubjectFrom(r.Context())); err != nil {
			a.s.problem(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
}
