package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"vigil/internal/problem"
	"vigil/internal/registry"
)

// registryAPI serves the registry (一机一档, 备案, 目录): REG-1 … REG-12.
type registryAPI struct {
	s   *Server
	reg *registry.Service
}

// MaxImportBody is the largest catalogue file an import accepts.
const MaxImportBody = 64 << 20

// registryRoutes mounts the registry's routes on the signed-in group.
func (s *Server) registryRoutes(r chi.Router, reg *registry.Service) {
	a := &registryAPI{s: s, reg: reg}
	r.Get("/cameras", a.listCameras)
	r.Post("/cameras", a.registerCamera)
	r.Post("/cameras/import", a.importCameras)
	r.Get("/cameras/{id}", a.getCamera)
	r.Put("/cameras/{id}", a.updateCamera)
	r.Get("/cameras/{id}/history", a.cameraHistory)
	r.Post("/cameras/{id}/admit", a.admitCamera)
	r.Post("/cameras/{id}/deregister", a.deregisterCamera)
	r.Post("/cameras/{id}/moves", a.moveCamera)
	r.Post("/cameras/{id}/consents", a.recordConsent)
	r.Get("/moves", a.listMoves)
	r.Post("/moves/{id}/restore", a.restoreMove)
	r.Get("/catalogue", a.catalogue)
	r.Get("/completeness", a.completeness)
	r.Get("/sites", a.listSites)
	r.Post("/sites", a.createSite)
	r.Get("/zones", a.listZones)
	r.Post("/zones", a.createZone)
	r.Post("/coverage/check", a.coverageCheck)
	r.Get("/coverage/area", a.coverageArea)
	a.filingRoutes(r)
}

// fail writes err as a problem.
func (a *registryAPI) fail(w http.ResponseWriter, r *http.Request, err error) { a.s.problem(w, r, err) }

func queryBool(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}

// queryFlag reads a boolean parameter: absent or empty is false, true/false
// (and 1/0) are what they say, anything else is refused naming the
// parameter — a typo in dry_run must not run the real thing.
func queryFlag(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, problem.Invalid("request.bad_parameter", name, problem.P{"name": name, "error": "expected true or false"})
	}
	return b, nil
}

func queryFloat(r *http.Request, name string) (float64, error) {
	v, err := strconv.ParseFloat(r.URL.Query().Get(name), 64)
	if err != nil {
		return 0, problem.Invalid("request.bad_parameter", name, problem.P{"name": name, "error": "expected a number"})
	}
	return v, nil
}

// listCameras: GET /api/v1/cameras — the files the caller may read, with
// filters and paging.
func (a *registryAPI) listCameras(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	offset, err := queryInt(r, "offset", 0)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	incomplete, err := queryFlag(r, "incomplete")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	noSignage, err := queryFlag(r, "no_signage")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := registry.CameraFilter{UnitID: q.Get("unit_id"), State: registry.State(q.Get("state")), SiteID: q.Get("site_id"),
		SystemID: q.Get("system_id"), Query: q.Get("q"), Incomplete: incomplete, NoSignage: noSignage,
		Limit: int(min(max(limit, 1), 1000)), Offset: int(offset)}
	cams, total, err := a.reg.Cameras(r.Context(), SubjectFrom(r.Context()), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": cams, "total": total})
}

// registerCamera: POST /api/v1/cameras — register a file (REG-1, REG-6).
func (a *registryAPI) registerCamera(w http.ResponseWriter, r *http.Request) {
	var in registry.CameraInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.reg.Register(r.Context(), SubjectFrom(r.Context()), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (a *registryAPI) getCamera(w http.ResponseWriter, r *http.Request) {
	c, err := a.reg.Camera(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *registryAPI) updateCamera(w http.ResponseWriter, r *http.Request) {
	var in registry.CameraInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.reg.Update(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *registryAPI) cameraHistory(w http.ResponseWriter, r *http.Request) {
	h, err := a.reg.History(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": h})
}

// admitCamera: POST /api/v1/cameras/{id}/admit — registered → admitted
// (REG-2, REG-7).
func (a *registryAPI) admitCamera(w http.ResponseWriter, r *http.Request) {
	c, err := a.reg.Admit(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *registryAPI) deregisterCamera(w http.ResponseWriter, r *http.Request) {
	var in registry.DeregisterInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	rm, err := a.reg.Deregister(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rm)
}

func (a *registryAPI) moveCamera(w http.ResponseWriter, r *http.Request) {
	var in registry.MoveInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.reg.RecordMove(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (a *registryAPI) recordConsent(w http.ResponseWriter, r *http.Request) {
	var in registry.ConsentInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.reg.RecordConsent(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *registryAPI) listMoves(w http.ResponseWriter, r *http.Request) {
	overdue, err := queryFlag(r, "overdue")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ms, err := a.reg.Moves(r.Context(), SubjectFrom(r.Context()), overdue)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"moves": ms})
}

func (a *registryAPI) restoreMove(w http.ResponseWriter, r *http.Request) {
	if err := a.reg.Restore(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readUpload returns the uploaded file: the "file" part of a multipart
// form, or the raw body; at most limit bytes.
func readUpload(w http.ResponseWriter, r *http.Request, limit int64) (data []byte, name string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var src io.Reader = r.Body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, "", problem.BadRequest("request.malformed_upload", problem.P{"error": err.Error()})
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				return nil, "", problem.BadRequest("request.malformed_upload", problem.P{"error": "no part named file"})
			}
			if p.FormName() == "file" {
				src, name = p, p.FileName()
				break
			}
		}
	}
	data, err = io.ReadAll(src)
	if err != nil {
		e := problem.BadRequest("request.too_large", problem.P{"limit": limit})
		e.Status = http.StatusRequestEntityTooLarge
		return nil, "", e
	}
	return data, name, nil
}

// importCameras: POST /api/v1/cameras/import?unit_id=&dry_run=true — a
// catalogue in CSV, Excel or GB/T 28181 Catalog XML (format= or sniffed),
// checked row by row; written all-or-nothing unless dry_run (REG-4).
func (a *registryAPI) importCameras(w http.ResponseWriter, r *http.Request) {
	dryRun, err := queryFlag(r, "dry_run")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	data, _, err := readUpload(w, r, MaxImportBody)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		switch {
		case bytes.HasPrefix(data, []byte("PK")):
			format = "xlsx"
		case bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")):
			format = "xml"
		default:
			format = "csv"
		}
	}
	var tbl *registry.Table
	switch format {
	case "csv":
		tbl, err = registry.ParseCSV(bytes.NewReader(data))
	case "xlsx":
		tbl, err = registry.ParseXLSX(bytes.NewReader(data))
	case "xml":
		tbl, err = registry.ParseCatalogXML(bytes.NewReader(data))
	default:
		a.fail(w, r, problem.Invalid("request.bad_parameter", "format", problem.P{"name": "format", "error": "expected csv, xlsx or xml"}))
		return
	}
	if err != nil {
		a.fail(w, r, problem.BadRequest("registry.import_unreadable", problem.P{"error": err.Error()}))
		return
	}
	rep, err := a.reg.Import(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("unit_id"), tbl, dryRun)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if !rep.DryRun && len(rep.Problems) > 0 {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, rep)
}

// catalogue: GET /api/v1/catalogue?unit_id=&format=json|csv|xlsx|xml — the
// resource directory of a unit's subtree (REG-4).
func (a *registryAPI) catalogue(w http.ResponseWriter, r *http.Request) {
	unitID := r.URL.Query().Get("unit_id")
	if unitID == "" {
		unitID = SubjectFrom(r.Context()).UnitID
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" && format != "xlsx" && format != "xml" {
		a.fail(w, r, problem.Invalid("request.bad_parameter", "format", problem.P{"name": "format", "error": "expected json, csv, xlsx or xml"}))
		return
	}
	cat, err := a.reg.Catalogue(r.Context(), SubjectFrom(r.Context()), unitID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("catalogue-%s-%s", unitID, cat.GeneratedAt.Format("20060102"))
	var buf bytes.Buffer
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		err = cat.WriteJSON(&buf)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		err = cat.WriteCSV(&buf)
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		err = cat.WriteXLSX(&buf)
	case "xml":
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		err = cat.WriteXML(&buf, r.URL.Query().Get("platform_id"))
	}
	if err != nil {
		w.Header().Del("Content-Disposition")
		a.fail(w, r, err)
		return
	}
	w.Write(buf.Bytes())
}

func (a *registryAPI) completeness(w http.ResponseWriter, r *http.Request) {
	us, err := a.reg.UnitCompleteness(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("unit_id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"units": us})
}

func (a *registryAPI) listSites(w http.ResponseWriter, r *http.Request) {
	ss, err := a.reg.Sites(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("unit_id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sites": ss})
}

func (a *registryAPI) createSite(w http.ResponseWriter, r *http.Request) {
	var in registry.SiteInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.reg.CreateSite(r.Context(), SubjectFrom(r.Context()), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, st)
}

func (a *registryAPI) listZones(w http.ResponseWriter, r *http.Request) {
	zs, err := a.reg.Zones(r.Context(), SubjectFrom(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"zones": zs})
}

func (a *registryAPI) createZone(w http.ResponseWriter, r *http.Request) {
	var in registry.ZoneInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	z, err := a.reg.CreateZone(r.Context(), SubjectFrom(r.Context()), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, z)
}

// coverageInput is a planned camera's sector.
type coverageInput struct {
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	Azimuth  float64 `json:"azimuth"`
	FOV      float64 `json:"fov"`
	Range    float64 `json:"range"`
	CameraID string  `json:"camera_id"` // leave this camera out (the planned one, if filed)
}

// coverageCheck: POST /api/v1/coverage/check — the overlap share of a
// planned camera with existing ones (REG-8).
func (a *registryAPI) coverageCheck(w http.ResponseWriter, r *http.Request) {
	var in coverageInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	o, err := a.reg.CoverageCheck(r.Context(), SubjectFrom(r.Context()), registry.Sector{Lat: in.Lat, Lon: in.Lon, Azimuth: in.Azimuth, FOV: in.FOV, Range: in.Range}, in.CameraID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"overlap": o,
		"sector": registry.Sector{Lat: in.Lat, Lon: in.Lon, Azimuth: in.Azimuth, FOV: in.FOV, Range: in.Range}.Polygon(24)})
}

// coverageArea: GET /api/v1/coverage/area?south=&west=&north=&east=&rows=&cols=
// — covered cells of an area; the rest are blind spots (REG-8).
func (a *registryAPI) coverageArea(w http.ResponseWriter, r *http.Request) {
	var v [4]float64
	for i, n := range []string{"south", "west", "north", "east"} {
		f, err := queryFloat(r, n)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		v[i] = f
	}
	rows, err := queryInt(r, "rows", 50)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cols, err := queryInt(r, "cols", 50)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ac, err := a.reg.CoverageArea(r.Context(), SubjectFrom(r.Context()), v[0], v[1], v[2], v[3], int(rows), int(cols))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ac)
}
