// Package problem is the error type that reaches people: a status, a stable
// code and the parameters of the message. The words themselves live in the
// translation files (internal/i18n/locales), keyed by the code, so the API
// answers in the caller's language and the console can translate too.
package problem

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Error is an error with a status, a message code and its parameters.
type Error struct {
	Status int            // HTTP status
	Code   string         // message key, e.g. "user.username_taken"
	Params map[string]any // message parameters, e.g. {"username": "zhang"}
	Field  string         // the request field at fault, if any
	Err    error          // the cause, for logs; never shown
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, e.Params[k])
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// P is shorthand for message parameters.
type P = map[string]any

func mk(status int, code string, params P) *Error {
	return &Error{Status: status, Code: code, Params: params}
}

// BadRequest: the request is malformed or a value is invalid (400).
func BadRequest(code string, params P) *Error { return mk(http.StatusBadRequest, code, params) }

// Invalid: field is invalid (400).
func Invalid(code, field string, params P) *Error {
	e := mk(http.StatusBadRequest, code, params)
	e.Field = field
	return e
}

// Unauthorized: not signed in, or the credentials are wrong (401).
func Unauthorized(code string, params P) *Error { return mk(http.StatusUnauthorized, code, params) }

// Forbidden: signed in but not allowed (403).
func Forbidden(code string, params P) *Error { return mk(http.StatusForbidden, code, params) }

// NotFound: the object does not exist or is not visible (404).
func NotFound(code string, params P) *Error { return mk(http.StatusNotFound, code, params) }

// Conflict: the request clashes with current state (409).
func Conflict(code string, params P) *Error { return mk(http.StatusConflict, code, params) }

// Unprocessable: well-formed but refused by a rule (422), e.g. a
// regulation.
func Unprocessable(code string, params P) *Error {
	return mk(http.StatusUnprocessableEntity, code, params)
}

// TooMany: rate-limited (429).
func TooMany(code string, params P) *Error { return mk(http.StatusTooManyRequests, code, params) }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
