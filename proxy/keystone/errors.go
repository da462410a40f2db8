package keystone

import (
	"errors"
	"fmt"
	"net/http"
)

// Public messages, as Keystone words them.
const (
	msgAuthRequired = "The request you have made requires authentication."
	msgForbidden    = "You are not authorized to perform the requested action."
	msgNoToken      = "Could not find token."
	msgNotFound     = "The resource could not be found."
	msgUnavailable  = "The service is temporarily unavailable."
	msgInternal     = "An unexpected error prevented the server from fulfilling your request."
	msgBadMethod    = "Attempted to authenticate with an unsupported method."
	msgClientFault  = " The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
)

// apiError is a refusal with its HTTP status and the message shown to the
// client; err is the cause, for logs and errors.Is.
type apiError struct {
	status int
	msg    string
	err    error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

// expecting is Keystone's ValidationError for a missing field.
func expecting(attribute, target string) error {
	return &apiError{
		status: http.StatusBadRequest,
		msg:    fmt.Sprintf("Expecting to find %s in %s.%s", attribute, target, msgClientFault),
		err:    fmt.Errorf("%w: no %s in %s", ErrBadRequest, attribute, target),
	}
}

// invalidField is Keystone's SchemaValidationError.
func invalidField(field, detail string) error {
	return &apiError{
		status: http.StatusBadRequest,
		msg:    fmt.Sprintf("Invalid input for field '%s': %s%s", field, detail, msgClientFault),
		err:    fmt.Errorf("%w: field %s: %s", ErrBadRequest, field, detail),
	}
}

// unauthorized is the one 401 every failed authentication gets, whatever
// the cause, so that no answer tells an unknown user from a wrong password.
func unauthorized(cause error) error {
	if cause == nil {
		cause = ErrAuthFailed
	}
	return &apiError{status: http.StatusUnauthorized, msg: msgAuthRequired, err: cause}
}

// unauthorizedMsg is a 401 with its own message, for refusals after the
// caller has authenticated (unsupported scope or method).
func unauthorizedMsg(msg string, cause error) error {
	return &apiError{status: http.StatusUnauthorized, msg: msg, err: cause}
}

func forbidden(msg string, cause error) error {
	return &apiError{status: http.StatusForbidden, msg: msg, err: cause}
}

func tokenNotFound(cause error) error {
	return &apiError{status: http.StatusNotFound, msg: msgNoToken, err: cause}
}

// errorStatus maps an error to its HTTP status and public message.
func errorStatus(err error) (int, string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, msgUnavailable
	case errors.Is(err, ErrNoRole):
		return http.StatusForbidden, msgForbidden
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrAuthFailed):
		return http.StatusUnauthorized, msgAuthRequired
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, "The request is malformed." + msgClientFault
	}
	return http.StatusInternalServerError, msgInternal
}

// errorDoc is Keystone's error body.
type errorDoc struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message"`
}

// writeError answers err as Keystone does: a JSON error document, and on a
// 401 the WWW-Authenticate header naming the identity endpoint.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := errorStatus(err)
	if status >= 500 {
		s.log.Warn("keystone: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		s.log.Info("keystone: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "remote", r.RemoteAddr, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", baseURL(r)))
	}
	writeJSON(w, r, status, errorDoc{Error: errorBody{Code: status, Title: http.StatusText(status), Message: msg}})
}
