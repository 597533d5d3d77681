package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/playback"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/retention"
)

// RecordingDeps are the recording subsystem's services (RET-1 … RET-6,
// ACC-3 for playback).
type RecordingDeps struct {
	Playback  *playback.Service
	Retention *retention.Engine
}

// recordingsAPI serves recordings, playback, retention and evidence holds.
type recordingsAPI struct {
	s *Server
	d RecordingDeps
}

// recordingRoutes mounts the recording routes on the signed-in group.
func (s *Server) recordingRoutes(r chi.Router, d RecordingDeps) {
	a := &recordingsAPI{s: s, d: d}
	r.Get("/cameras/{id}/recordings", a.listRecordings)
	r.Delete("/cameras/{id}/recordings", a.deleteRecordings)
	r.Get("/cameras/{id}/playback", a.playback)
	r.Get("/cameras/{id}/retention", a.getRetention)
	r.Put("/cameras/{id}/retention", a.setRetention)
	r.Get("/holds", a.listHolds)
	r.Post("/holds", a.createHold)
	r.Post("/holds/{id}/release", a.releaseHold)
	r.Get("/recordings/forecast", a.forecast)
}

func (a *recordingsAPI) ready(w http.ResponseWriter, r *http.Request) bool {
	if a.d.Playback == nil || a.d.Retention == nil {
		a.s.problem(w, r, &problem.Error{Status: http.StatusServiceUnavailable, Code: "recording.unavailable", Params: problem.P{}})
		return false
	}
	return true
}

// listRecordings: GET /api/v1/cameras/{id}/recordings?start=&end= — the
// recorded spans and gaps from the index (RET-5).
func (a *recordingsAPI) listRecordings(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	from, err := queryTime(r, "start")
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	to, err := queryTime(r, "end")
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	if to.IsZero() {
		to = time.Now()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	cov, err := a.d.Playback.Recordings(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), from, to)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cov)
}

// deleteRecordings: DELETE /api/v1/cameras/{id}/recordings — always
// refused and audited: only the retention engine deletes footage (RET-4).
func (a *recordingsAPI) deleteRecordings(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	from, _ := queryTime(r, "start")
	to, _ := queryTime(r, "end")
	a.s.problem(w, r, a.d.Retention.RefuseDelete(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), from, to))
}

// playback: GET /api/v1/cameras/{id}/playback?start=&duration=&purpose=&format=
// — through the gate first, then fMP4 (default) or a plain MP4, both
// with HTTP Range support.
func (a *recordingsAPI) playback(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	q := r.URL.Query()
	start, err := queryTime(r, "start")
	if err == nil && start.IsZero() {
		err = problem.Invalid("request.bad_parameter", "start", problem.P{"name": "start", "error": "required: an RFC 3339 time"})
	}
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	secs, err := strconv.ParseFloat(q.Get("duration"), 64)
	if err != nil || secs <= 0 {
		a.s.problem(w, r, problem.Invalid("request.bad_parameter", "duration", problem.P{"name": "duration", "error": "required: seconds, a positive number"}))
		return
	}
	req := playback.Request{Subject: SubjectFrom(r.Context()), CameraID: chi.URLParam(r, "id"), Start: start,
		Duration: time.Duration(secs * float64(time.Second)), Purpose: q.Get("purpose"), Format: q.Get("format")}
	if req.Format == "" {
		req.Format = playback.FormatFMP4
	}
	clip, dec, err := a.d.Playback.Playback(r.Context(), req)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	defer clip.Close()
	if err := a.serveClip(w, r, clip, dec, req.Format); err != nil {
		a.s.problem(w, r, err)
	}
}

// serveClip serves the clip with http.ServeContent (Range, If-Range,
// HEAD) from a playback.Stream: the bytes are produced from the segments
// for each request, never written to a file. A plain MP4 (an export) is
// an attachment.
func (a *recordingsAPI) serveClip(w http.ResponseWriter, r *http.Request, clip *playback.Clip, dec policy.Decision, format string) error {
	st, err := a.d.Playback.Stream(dec, clip, format)
	if err != nil {
		return err
	}
	defer st.Close()
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("ETag", `"`+dec.ID()+"-"+format+`"`)
	w.Header().Set("X-Vigil-Access-Record", dec.ID())
	w.Header().Set("X-Vigil-Clip-Start", clip.Start.UTC().Format(time.RFC3339Nano))
	w.Header().Set("X-Vigil-Clip-End", clip.End.UTC().Format(time.RFC3339Nano))
	if format == playback.FormatMP4 {
		name := fmt.Sprintf("%s_%s.mp4", safeName(clip.CameraID), clip.Start.UTC().Format("20060102T150405Z"))
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	http.ServeContent(w, r, "", time.Time{}, st)
	return nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// getRetention: GET /api/v1/cameras/{id}/retention (RET-1).
func (a *recordingsAPI) getRetention(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	ret, err := a.d.Retention.CameraRetention(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ret)
}

// setRetention: PUT /api/v1/cameras/{id}/retention {"days": N} — refused
// below the profile's minimum, with the article (RET-1).
func (a *recordingsAPI) setRetention(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	var in struct {
		Days int `json:"days"`
	}
	if err := decode(w, r, &in); err != nil {
		a.s.problem(w, r, err)
		return
	}
	ret, err := a.d.Retention.SetRetention(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), in.Days)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ret)
}

// listHolds: GET /api/v1/holds?camera=&all= — evidence holds (RET-2).
func (a *recordingsAPI) listHolds(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	hs, err := a.d.Retention.ListHolds(r.Context(), SubjectFrom(r.Context()), r.URL.Query().Get("camera"), queryBool(r, "all"))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": hs})
}

// createHold: POST /api/v1/holds — place an evidence hold (RET-2).
func (a *recordingsAPI) createHold(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	var in retention.HoldInput
	if err := decode(w, r, &in); err != nil {
		a.s.problem(w, r, err)
		return
	}
	h, err := a.d.Retention.CreateHold(r.Context(), SubjectFrom(r.Context()), in)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

// releaseHold: POST /api/v1/holds/{id}/release — only once it has run out.
func (a *recordingsAPI) releaseHold(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	h, err := a.d.Retention.ReleaseHold(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// forecast: GET /api/v1/recordings/forecast — capacity forecast (RET-6).
func (a *recordingsAPI) forecast(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	f, err := a.d.Retention.ForecastFor(r.Context(), SubjectFrom(r.Context()))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}
