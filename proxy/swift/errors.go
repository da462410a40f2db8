package swift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Errors of New.
var (
	ErrNoStore   = errors.New("swift: no store configured")
	ErrNoCatalog = errors.New("swift: no catalog configured")
	ErrNoTokens  = errors.New("swift: no token validator configured")
)

// Errors of requests. Each is answered with its HTTP status; a message
// added with failf becomes the plain-text body, else the body is Swift's
// standard page for the status.
var (
	errBadRequest          = errors.New("swift: bad request")
	errUnauthorized        = errors.New("swift: unauthorized")
	errForbidden           = errors.New("swift: forbidden")
	errNotFound            = errors.New("swift: not found")
	errMethodNotAllowed    = errors.New("swift: method not allowed")
	errNotAcceptable       = errors.New("swift: not acceptable")
	errConflict            = errors.New("swift: conflict")
	errLengthRequired      = errors.New("swift: length required")
	errPreconditionFailed  = errors.New("swift: precondition failed")
	errTooLarge            = errors.New("swift: request entity too large")
	errRangeNotSatisfiable = errors.New("swift: range not satisfiable")
	errUnprocessable       = errors.New("swift: unprocessable entity")
	errClientDisconnect    = errors.New("swift: client disconnected")
	errUnavailable         = errors.New("swift: service unavailable")
	errInternal            = errors.New("swift: internal error")
	// errVersionChanged: the object changed between its lookup and its
	// read; the request is served again from the lookup.
	errVersionChanged = errors.New("swift: object changed while read")
)

// statusOf maps errors, ours and those of the layers below, to statuses.
var statusOf = []struct {
	err    error
	status int
}{
	{errBadRequest, http.StatusBadRequest},
	{errUnauthorized, http.StatusUnauthorized},
	{errForbidden, http.StatusForbidden},
	{errNotFound, http.StatusNotFound},
	{errMethodNotAllowed, http.StatusMethodNotAllowed},
	{errNotAcceptable, http.StatusNotAcceptable},
	{errConflict, http.StatusConflict},
	{errLengthRequired, http.StatusLengthRequired},
	{errPreconditionFailed, http.StatusPreconditionFailed},
	{errTooLarge, http.StatusRequestEntityTooLarge},
	{errRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable},
	{errUnprocessable, http.StatusUnprocessableEntity},
	{errClientDisconnect, statusClientDisconnect},
	{errUnavailable, http.StatusServiceUnavailable},
	{errVersionChanged, http.StatusConflict},
	{objectd.ErrNoSuchKey, http.StatusNotFound},
	{objectd.ErrNoSuchBucket, http.StatusNotFound},
	{objectd.ErrBadDigest, http.StatusUnprocessableEntity},
	{objectd.ErrEntityTooLarge, http.StatusRequestEntityTooLarge},
	{objectd.ErrIncompleteBody, statusClientDisconnect},
	{objectd.ErrInvalidArgument, http.StatusBadRequest},
	{objectd.ErrPreconditionFailed, http.StatusPreconditionFailed},
	{objectd.ErrInvalidRange, http.StatusRequestedRangeNotSatisfiable},
	{objectd.ErrWriteQuorum, http.StatusServiceUnavailable},
	{objectd.ErrReadQuorum, http.StatusServiceUnavailable},
	{raftmap.ErrNoLeader, http.StatusServiceUnavailable},
	{raftmap.ErrNotLeader, http.StatusServiceUnavailable},
	{raftmap.ErrUnknownOutcome, http.StatusServiceUnavailable},
	{raftmap.ErrShutdown, http.StatusServiceUnavailable},
	{context.Canceled, statusClientDisconnect},
}

// statusClientDisconnect is Swift's status for a client that went away
// (or sent less than it announced) during the request.
const statusClientDisconnect = 499

// reasons are Swift's titles and explanations of the statuses it sends,
// used for status lines in bodies and for the standard error pages.
var reasons = map[int][2]string{
	200: {"OK", ""},
	201: {"Created", ""},
	202: {"Accepted", "The request is accepted for processing."},
	204: {"No Content", ""},
	206: {"Partial Content", ""},
	304: {"Not Modified", ""},
	400: {"Bad Request", "The server could not comply with the request since it is either malformed or otherwise incorrect."},
	401: {"Unauthorized", "This server could not verify that you are authorized to access the document you requested."},
	403: {"Forbidden", "Access was denied to this resource."},
	404: {"Not Found", "The resource could not be found."},
	405: {"Method Not Allowed", "The method is not allowed for this resource."},
	406: {"Not Acceptable", "The resource is not available in a format acceptable to your browser."},
	409: {"Conflict", "There was a conflict when trying to complete your request."},
	411: {"Length Required", "Content-Length header required."},
	412: {"Precondition Failed", "A precondition for this request was not met."},
	413: {"Request Entity Too Large", "The body of your request was too large for this server."},
	416: {"Requested Range Not Satisfiable", "The Range requested is not available."},
	422: {"Unprocessable Entity", "Unable to process the contained instructions"},
	499: {"Client Disconnect", "The client was disconnected during request."},
	500: {"Internal Error", "The server has either erred or is incapable of performing the requested operation."},
	502: {"Bad Gateway", "Bad gateway."},
	503: {"Service Unavailable", "The server is currently unavailable. Please try again at a later time."},
}

// statusLine is "404 Not Found", as Swift writes statuses in bodies.
func statusLine(code int) string {
	if r, ok := reasons[code]; ok {
		return strconv.Itoa(code) + " " + r[0]
	}
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

// standardPage is Swift's HTML body for an error status.
func standardPage(code int) string {
	r, ok := reasons[code]
	if !ok {
		r = [2]string{http.StatusText(code), ""}
	}
	return "<html><h1>" + r[0] + "</h1><p>" + r[1] + "</p></html>"
}

// detailError is a request error with its own plain-text body.
type detailError struct {
	kind error
	msg  string
}

func (e *detailError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *detailError) Unwrap() error { return e.kind }

// failf returns kind with a plain-text body.
func failf(kind error, format string, a ...any) error {
	return &detailError{kind: kind, msg: fmt.Sprintf(format, a...)}
}

// statusFor returns the HTTP status of err (500 for unknown errors).
func statusFor(err error) int {
	for _, m := range statusOf {
		if errors.Is(err, m.err) {
			return m.status
		}
	}
	return http.StatusInternalServerError
}
