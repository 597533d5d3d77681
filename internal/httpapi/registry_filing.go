package httpapi

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"vigil/internal/registry"
)

func (a *registryAPI) filingRoutes(r chi.Router) {
	r.Get("/systems", a.listSystems)
	r.Post("/systems", a.createSystem)
	r.Get("/systems/{id}", a.getSystem)
	r.Post("/systems/{id}/attachments", a.addAttachment)
	r.Get("/attachments/{id}", a.getAttachment)
	r.Get("/filings", a.listFilings)
	r.Post("/filings", a.submitFiling)
	r.Get("/filings/overdue", a.overdueFilings)
	r.Post("/filings/{id}/accept", a.acceptFiling)
	r.Post("/filings/{id}/return", a.returnFiling)
	r.Get("/filings/{id}/form", a.filingForm)
	r.Get("/staff", a.staffReport)
	r.Post("/staff", a.createStaff)
	r.Put("/staff/{id}", a.updateStaff)
}

// filingForm: GET /api/v1/filings/{id}/form — the filing as a printable
// Excel form (备案登记表).
func (a *registryAPI) filingForm(w http.ResponseWriter, r *http.Request) {
	f, err := a.reg.Filing(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := registry.WriteFilingXLSX(&buf, f); err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="filing-`+f.ID+`.xlsx"`)
	w.Write(buf.Bytes())
}

// staffReport: GET /api/v1/staff?unit_id= — monitoring staff of a unit's
// subtree with what each lacks, for the district police (REG-11).
func (a *registryAPI) staffReport(w http.ResponseWriter, r *http.Request) {
	unitID := r.URL.Query().Get("unit_id")
	if unitID == "" {
		unitID = SubjectFrom(r.Context()).UnitID
	}
	rep, err := a.reg.StaffReport(r.Context(), SubjectFrom(r.Context()), unitID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *registryAPI) createStaff(w http.ResponseWriter, r *http.Request) {
	a.saveStaff(w, r, "", http.StatusCreated)
}

func (a *registryAPI) updateStaff(w http.ResponseWriter, r *http.Request) {
	a.saveStaff(w, r, chi.URLParam(r, "id"), http.StatusOK)
}

func (a *registryAPI) saveStaff(w http.ResponseWriter, r *http.Request, id string, status int) {
	var in registry.StaffInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.reg.SaveStaff(r.Context(), SubjectFrom(r.Context()), id, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, status, st)
}

func (a *registryAPI) listSystems(w http.ResponseWriter, r *http.Request) {
	ss, err := a.reg.Systems(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("unit_id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"systems": ss})
}

func (a *registryAPI) createSystem(w http.ResponseWriter, r *http.Request) {
	var in registry.SystemInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	sys, err := a.reg.CreateSystem(r.Context(), SubjectFrom(r.Context()), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sys)
}

func (a *registryAPI) getSystem(w http.ResponseWriter, r *http.Request) {
	sys, err := a.reg.System(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sys)
}

// addAttachment: POST /api/v1/systems/{id}/attachments?kind=&name= — an
// archive document (REG-10), raw body or multipart part "file".
func (a *registryAPI) addAttachment(w http.ResponseWriter, r *http.Request) {
	data, name, err := readUpload(w, r, registry.MaxAttachment+1)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if n := r.URL.Query().Get("name"); n != "" {
		name = n
	}
	at, err := a.reg.AddAttachment(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), r.URL.Query().Get("kind"), name, bytes.NewReader(data))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, at)
}

func (a *registryAPI) getAttachment(w http.ResponseWriter, r *http.Request) {
	at, data, err := a.reg.OpenAttachment(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", at.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Disposition", `attachment; filename="`+at.ID+`"`)
	w.Write(data)
}

func (a *registryAPI) listFilings(w http.ResponseWriter, r *http.Request) {
	fs, err := a.reg.Filings(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("unit_id"), r.URL.Query().Get("state"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"filings": fs})
}

func (a *registryAPI) submitFiling(w http.ResponseWriter, r *http.Request) {
	var in registry.FilingInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.reg.SubmitFiling(r.Context(), SubjectFrom(r.Context()), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

// overdueFilings: GET /api/v1/filings/overdue?unit_id=&all=true — systems
// whose filing is missing, returned or pending; past the deadline only
// unless all=true (REG-3).
func (a *registryAPI) overdueFilings(w http.ResponseWriter, r *http.Request) {
	all, err := queryFlag(r, "all")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ds, err := a.reg.FilingsDue(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("unit_id"), !all)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"systems": ds})
}

func (a *registryAPI) acceptFiling(w http.ResponseWriter, r *http.Request) {
	f, err := a.reg.AcceptFiling(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

type returnInput struct {
	Reason string `json:"reason"`
}

func (a *registryAPI) returnFiling(w http.ResponseWriter, r *http.Request) {
	var in returnInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.reg.ReturnFiling(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in.Reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}
