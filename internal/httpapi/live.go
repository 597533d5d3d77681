package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/live"
	"vigil/internal/problem"
)

// LiveDeps are the live-view services (MED-2, MED-3, ACC-3).
type LiveDeps struct {
	Live *live.Service
}

// liveAPI serves WHEP, fMP4 live, snapshots and PTZ.
type liveAPI struct {
	s *Server
	d LiveDeps
}

// liveRoutes mounts the live routes on the signed-in group.
func (s *Server) liveRoutes(r chi.Router, d LiveDeps) {
	a := &liveAPI{s: s, d: d}
	r.Post("/cameras/{id}/whep", a.whepOffer)
	r.Patch("/whep/{session}", a.whepPatch)
	r.Delete("/whep/{session}", a.whepDelete)
	r.Get("/cameras/{id}/live/info", a.info)
	r.Get("/cameras/{id}/live.mp4", a.liveMP4)
	r.Get("/cameras/{id}/snapshot.jpg", a.snapshot)
	r.Post("/cameras/{id}/ptz", a.ptz)
}

func (a *liveAPI) ready(w http.ResponseWriter, r *http.Request) bool {
	if a.d.Live == nil {
		a.s.problem(w, r, &problem.Error{Status: http.StatusServiceUnavailable, Code: "live.unavailable", Params: problem.P{}})
		return false
	}
	return true
}

// body reads a text body of the given media type, at most 64 KiB.
func body(w http.ResponseWriter, r *http.Request, want string) (string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != want {
		e := problem.BadRequest("live.content_type", problem.P{"want": want, "got": mt})
		e.Status = http.StatusUnsupportedMediaType
		return "", e
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			e := problem.BadRequest("request.too_large", problem.P{"limit": mbe.Limit})
			e.Status = http.StatusRequestEntityTooLarge
			return "", e
		}
		return "", problem.BadRequest("live.bad_offer", problem.P{"error": err.Error()})
	}
	return string(b), nil
}

// whepOffer: POST /api/v1/cameras/{id}/whep?purpose= with an SDP offer —
// the gate, then 201 with the SDP answer and the session's Location.
func (a *liveAPI) whepOffer(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	offer, err := body(w, r, "application/sdp")
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	ss, answer, err := a.d.Live.StartWHEP(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), r.URL.Query().Get("purpose"), offer)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/api/v1/whep/"+ss.ID)
	w.Header().Set("X-Vigil-Access-Record", ss.AccessID)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// whepPatch: PATCH /api/v1/whep/{session} — trickled ICE candidates.
func (a *liveAPI) whepPatch(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	frag, err := body(w, r, "application/trickle-ice-sdpfrag")
	if err == nil {
		err = a.d.Live.PatchWHEP(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "session"), frag)
	}
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// whepDelete: DELETE /api/v1/whep/{session} — ends the view (its end is
// registered).
func (a *liveAPI) whepDelete(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	if err := a.d.Live.EndWHEP(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "session")); err != nil {
		a.s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// info: GET /api/v1/cameras/{id}/live/info — the MSE type and what WebRTC
// carries.
func (a *liveAPI) info(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	inf, err := a.d.Live.Info(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inf)
}

// liveMP4: GET /api/v1/cameras/{id}/live.mp4?purpose= — fragmented MP4,
// chunked, until the client goes away.
func (a *liveAPI) liveMP4(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	rc := http.NewResponseController(w)
	started := false
	err := a.d.Live.StreamFMP4(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), r.URL.Query().Get("purpose"), w,
		func() { rc.Flush() },
		func(access, mime string) {
			started = true
			rc.SetWriteDeadline(time.Time{}) // a live stream outlasts the server's write timeout
			w.Header().Set("Content-Type", "video/mp4")
			w.Header().Set("X-Vigil-Access-Record", access)
			w.Header().Set("X-Vigil-Codecs", mime)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
		})
	if err != nil && !started {
		a.s.problem(w, r, err)
	} else if err != nil {
		a.s.d.Log.Warn("live fmp4 stream ended with an error", "path", r.URL.Path, "err", err)
	}
}

// snapshot: GET /api/v1/cameras/{id}/snapshot.jpg?purpose= — a JPEG of the
// latest keyframe, its own access record.
func (a *liveAPI) snapshot(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	jpg, d, err := a.d.Live.Snapshot(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), r.URL.Query().Get("purpose"))
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Vigil-Access-Record", d.ID())
	w.Write(jpg)
}

// ptzRequest is the body of POST /cameras/{id}/ptz.
type ptzRequest struct {
	Action    string  `json:"action"`
	Pan       float64 `json:"pan"`
	Tilt      float64 `json:"tilt"`
	Zoom      float64 `json:"zoom"`
	Preset    string  `json:"preset"`
	Name      string  `json:"name"`
	TimeoutMS int     `json:"timeout_ms"`
}

// ptz: POST /api/v1/cameras/{id}/ptz — move, stop, go to or set a preset,
// through the gate (policy.PTZ) and audited.
func (a *liveAPI) ptz(w http.ResponseWriter, r *http.Request) {
	if !a.ready(w, r) {
		return
	}
	var req ptzRequest
	if err := decode(w, r, &req); err != nil {
		a.s.problem(w, r, err)
		return
	}
	cmd := live.PTZCommand{Action: live.PTZAction(strings.TrimSpace(req.Action)), Pan: req.Pan, Tilt: req.Tilt, Zoom: req.Zoom,
		Preset: req.Preset, Name: req.Name, Timeout: time.Duration(req.TimeoutMS) * time.Millisecond}
	res, err := a.d.Live.PTZ(r.Context(), SubjectFrom(r.Context()), chi.URLParam(r, "id"), cmd)
	if err != nil {
		a.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
