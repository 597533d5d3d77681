package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/record"
)

// IngestDeps are what the ingest-state routes read (MED-1): the recorder
// that pulls the cameras.
type IngestDeps struct {
	Recorder *record.Recorder
}

// IngestIdle is the state of a camera the recorder does not pull (not
// enabled, not recorded continuously, or without a stream URL).
const IngestIdle = "idle"

// ingestPerms are the permissions that show a camera's ingest state: any
// that shows the camera.
var ingestPerms = []policy.Permission{policy.CameraAdmin, policy.CameraLive, policy.CameraPlay, policy.CameraExport, policy.CameraPTZ}

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

// visible reports whether subj may see cameras of the unit at path.
func ingestVisible(subj *policy.Subject, path string) bool {
	for _, p := range ingestPerms {
		for _, sc := range subj.Scopes(p) {
			if strings.HasPrefix(path, sc) {
				return true
			}
		}
	}
	return false
}

// get: GET /api/v1/cameras/{id}/ingest — the camera's ingest state and
// counters; a camera out of the subject's sight is not found.
func (a *ingestAPI) get(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	c, err := record.LookupCamera(r.Context(), a.s.d.DB, id)
	if err != nil || !ingestVisible(SubjectFrom(r.Context()), c.UnitPath) {
		a.s.problem(w, r, problem.NotFound("registry.camera_not_found", problem.P{"id": id}))
		return
	}
	if a.d.Recorder != nil {
		if st, ok := a.d.Recorder.Ingest(c.ID); ok {
			writeJSON(w, http.StatusOK, st)
			return
		}
	}
	writeJSON(w, http.StatusOK, record.Ingest{CameraID: c.ID, State: IngestIdle})
}

// list: GET /api/v1/ingest — the ingest state of every camera the
// recorder pulls that the subject may see.
func (a *ingestAPI) list(w http.ResponseWriter, r *http.Request) {
	out := []record.Ingest{}
	if a.d.Recorder == nil {
		writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
		return
	}
	cams, err := record.RecordableCameras(r.Context(), a.s.d.DB)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	paths := make(map[string]string, len(cams))
	for _, c := range cams {
		paths[c.ID] = c.UnitPath
	}
	subj := SubjectFrom(r.Context())
	for _, st := range a.d.Recorder.Ingests() {
		if p, ok := paths[st.CameraID]; ok && ingestVisible(subj, p) {
			out = append(out, st)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
}
