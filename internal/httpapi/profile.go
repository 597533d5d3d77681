package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"vigil/internal/profile"
)

func (s *Server) profileRoutes(r chi.Router) {
	r.Get("/profile", s.getProfile)
	r.Get("/profiles", s.listProfiles)
}

// getProfile: GET /api/v1/profile — the active jurisdiction profile, every
// value with its citation. Any signed-in person may read the rules they work
// under.
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.d.Profile)
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"profiles": profile.Names(), "active": s.d.Profile.Name})
}
