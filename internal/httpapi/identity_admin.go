package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"vigil/internal/identity"
	"vigil/internal/policy"
)

// idAnswer writes v with status, or the problem err.
func (s *Server) idAnswer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// idDecode decodes the body into dst and reports whether to go on (the
// problem is written otherwise).
func (s *Server) idDecode(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := decode(w, r, dst); err != nil {
		s.problem(w, r, err)
		return false
	}
	return true
}

// Units (ACC-1, REG-11).

func (s *Server) listUnits(w http.ResponseWriter, r *http.Request) {
	us, err := s.d.Identity.ListUnits(r.Context(), SubjectFrom(r.Context()))
	s.idAnswer(w, r, http.StatusOK, map[string]any{"units": us}, err)
}

func (s *Server) createUnit(w http.ResponseWriter, r *http.Request) {
	var in identity.UnitInput
	if !s.idDecode(w, r, &in) {
		return
	}
	u, err := s.d.Identity.CreateUnit(r.Context(), SubjectFrom(r.Context()), in)
	s.idAnswer(w, r, http.StatusCreated, u, err)
}

func (s *Server) getUnit(w http.ResponseWriter, r *http.Request) {
	u, err := s.d.Identity.GetUnit(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusOK, u, err)
}

func (s *Server) updateUnit(w http.ResponseWriter, r *http.Request) {
	var p identity.UnitPatch
	if !s.idDecode(w, r, &p) {
		return
	}
	u, err := s.d.Identity.UpdateUnit(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), p)
	s.idAnswer(w, r, http.StatusOK, u, err)
}

func (s *Server) deleteUnit(w http.ResponseWriter, r *http.Request) {
	err := s.d.Identity.DeleteUnit(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusNoContent, nil, err)
}

// Users (ACC-2).

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 200)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	offset, err := queryInt(r, "offset", 0)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	q := r.URL.Query()
	us, err := s.d.Identity.ListUsers(r.Context(), SubjectFrom(r.Context()), identity.UserFilter{
		UnitID: q.Get("unit_id"), Status: q.Get("status"), Query: q.Get("q"), Limit: int(limit), Offset: int(offset)})
	s.idAnswer(w, r, http.StatusOK, map[string]any{"users": us}, err)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in identity.UserInput
	if !s.idDecode(w, r, &in) {
		return
	}
	u, err := s.d.Identity.CreateUser(r.Context(), SubjectFrom(r.Context()), in)
	s.idAnswer(w, r, http.StatusCreated, u, err)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.d.Identity.GetUser(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusOK, u, err)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var p identity.UserPatch
	if !s.idDecode(w, r, &p) {
		return
	}
	u, err := s.d.Identity.UpdateUser(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), p)
	s.idAnswer(w, r, http.StatusOK, u, err)
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.d.Identity.SetUserDisabled(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), true)
	s.idAnswer(w, r, http.StatusOK, u, err)
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.d.Identity.SetUserDisabled(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), false)
	s.idAnswer(w, r, http.StatusOK, u, err)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var body struct {
		NewPassword string `json:"new_password"`
	}
	if !s.idDecode(w, r, &body) {
		return
	}
	err := s.d.Identity.ResetPassword(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), body.NewPassword)
	s.idAnswer(w, r, http.StatusNoContent, nil, err)
}

func (s *Server) resetTOTP(w http.ResponseWriter, r *http.Request) {
	err := s.d.Identity.ResetTOTP(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusNoContent, nil, err)
}

// Grants.

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	gs, err := s.d.Identity.ListGrants(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusOK, map[string]any{"grants": gs}, err)
}

func (s *Server) addGrant(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RoleID      string `json:"role_id"`
		ScopeUnitID string `json:"scope_unit_id"`
	}
	if !s.idDecode(w, r, &body) {
		return
	}
	g, err := s.d.Identity.AddGrant(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), body.RoleID, body.ScopeUnitID)
	s.idAnswer(w, r, http.StatusCreated, g, err)
}

func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) {
	err := s.d.Identity.RevokeGrant(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), chi.URLParam(r, "grantId"))
	s.idAnswer(w, r, http.StatusNoContent, nil, err)
}

// Roles.

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	rs, err := s.d.Identity.ListRoles(r.Context(), SubjectFrom(r.Context()))
	s.idAnswer(w, r, http.StatusOK, map[string]any{"roles": rs, "permissions": policy.AllPermissions}, err)
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) {
	var in identity.RoleInput
	if !s.idDecode(w, r, &in) {
		return
	}
	ro, err := s.d.Identity.CreateRole(r.Context(), SubjectFrom(r.Context()), in)
	s.idAnswer(w, r, http.StatusCreated, ro, err)
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) {
	var in identity.RoleInput
	if !s.idDecode(w, r, &in) {
		return
	}
	ro, err := s.d.Identity.UpdateRole(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in)
	s.idAnswer(w, r, http.StatusOK, ro, err)
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) {
	err := s.d.Identity.DeleteRole(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusNoContent, nil, err)
}

// API tokens.

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.d.Identity.ListTokens(r.Context(), SubjectFrom(r.Context()))
	s.idAnswer(w, r, http.StatusOK, map[string]any{"tokens": ts}, err)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var in identity.TokenInput
	if !s.idDecode(w, r, &in) {
		return
	}
	t, err := s.d.Identity.CreateToken(r.Context(), SubjectFrom(r.Context()), in)
	if err == nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.idAnswer(w, r, http.StatusCreated, t, err)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	err := s.d.Identity.RevokeToken(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	s.idAnswer(w, r, http.StatusNoContent, nil, err)
}
