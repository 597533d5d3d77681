package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigil/internal/i18n"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Field  string         `json:"field,omitempty"`
	Params map[string]any `json:"params,omitempty"`
}

func errNotFound(r *http.Request) *problem.Error {
	return problem.NotFound("request.not_found", problem.P{"method": r.Method, "path": r.URL.Path})
}

func errMethod(r *http.Request) *problem.Error {
	e := problem.BadRequest("request.method_not_allowed", problem.P{"method": r.Method, "path": r.URL.Path})
	e.Status = http.StatusMethodNotAllowed
	return e
}

// problem writes err as application/problem+json in the caller's language.
// Errors that are not *problem.Error become 500 with a reference that the
// log carries with the cause.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	var pe *problem.Error
	var denied *policy.DeniedError
	var missing interface{ NotFound() bool }
	switch {
	case errors.As(err, &pe):
	case errors.As(err, &denied):
		pe = problem.Forbidden("policy.denied", problem.P{"permission": string(denied.Permission), "target": denied.Target})
		if denied.Reason != "" {
			pe.Params["reason"] = denied.Reason
		}
	case errors.As(err, &missing) && missing.NotFound(): // e.g. store.ErrNotFound
		pe = errNotFound(r)
	default:
		ref := keyring.RandomToken(4)
		s.d.Log.Error("request failed", "ref", ref, "method", r.Method, "path", r.URL.Path, "err", err)
		pe = &problem.Error{Status: 500, Code: "internal", Params: problem.P{"ref": ref}}
	}
	s.auditDenial(r, pe, err)
	lang := i18n.FromRequest(r)
	p := Problem{
		Type:   "https://vigil.invalid/problems/" + pe.Code,
		Title:  http.StatusText(pe.Status),
		Status: pe.Status,
		Detail: i18n.T(lang, pe.Code, pe.Params),
		Code:   pe.Code,
		Field:  pe.Field,
		Params: pe.Params,
	}
	if pe.Status == http.StatusTooManyRequests {
		if ra, ok := pe.Params["retry_after"]; ok {
			w.Header().Set("Retry-After", fmt.Sprint(ra))
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(pe.Status)
	json.NewEncoder(w).Encode(p)
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// decode reads a JSON body into dst: at most MaxBody bytes, one object, no
// unknown fields. The error is a *problem.Error ready to send.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			e := problem.BadRequest("request.too_large", problem.P{"limit": mbe.Limit})
			e.Status = http.StatusRequestEntityTooLarge
			return e
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return problem.Invalid("request.unknown_field", f, problem.P{"field": f})
		case errors.Is(err, io.EOF):
			return problem.BadRequest("request.malformed_json", problem.P{"error": "empty body"})
		default:
			return problem.BadRequest("request.malformed_json", problem.P{"error": err.Error()})
		}
	}
	if dec.More() {
		return problem.BadRequest("request.malformed_json", problem.P{"error": "more than one JSON value"})
	}
	return nil
}

// Query-parameter helpers: they return *problem.Error naming the parameter.

func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, problem.Invalid("request.bad_parameter", name, problem.P{"name": name, "error": "expected an RFC 3339 time such as 2026-01-02T15:04:05+08:00"})
	}
	return t, nil
}

func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, problem.Invalid("request.bad_parameter", name, problem.P{"name": name, "error": "expected a non-negative integer"})
	}
	return n, nil
}
