package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// statusOf is the one map from domain error codes to HTTP statuses.
var statusOf = map[checklist.Code]int{
	checklist.EBadRequest:      http.StatusBadRequest,
	checklist.EInvalid:         http.StatusUnprocessableEntity,
	checklist.EUnauthorized:    http.StatusUnauthorized,
	checklist.EForbidden:       http.StatusForbidden,
	checklist.ENotFound:        http.StatusNotFound,
	checklist.EConflict:        http.StatusConflict,
	checklist.ERevision:        http.StatusConflict,
	checklist.ENotEditable:     http.StatusConflict,
	checklist.EPrecondition:    http.StatusPreconditionFailed,
	checklist.ETooLarge:        http.StatusRequestEntityTooLarge,
	checklist.EUnsupportedType: http.StatusUnsupportedMediaType,
	checklist.ETooManyRequests: http.StatusTooManyRequests,
	checklist.EUnavailable:     http.StatusServiceUnavailable,
	checklist.ERebuilding:      http.StatusServiceUnavailable,
	checklist.EInternal:        http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem details body with tenken's extensions:
// a stable machine code, the field errors of a validation failure, and
// the server's current copy of a resource a write conflicted with.
type Problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail,omitempty"`
	Code      checklist.Code         `json:"code"`
	Errors    []checklist.FieldError `json:"errors,omitempty"`
	Current   any                    `json:"current,omitempty"`
	RequestID string                 `json:"request_id,omitempty"`
}

// respondError writes err as a problem response and aborts the chain.
// Internal errors are logged with their detail and answered without it.
//
// A request whose client has gone (its context is cancelled: the
// connection closed) is not a server error whatever err says — the
// database call it was waiting for was cut off with it. It gets status
// 499 (client closed request), which the access log records at info
// level, once; nobody reads the body.
func respondError(c *gin.Context, err error) {
	if clientGone(c) {
		c.Status(StatusClientClosedRequest)
		c.Abort()
		return
	}
	code := checklist.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = checklist.EInternal, http.StatusInternalServerError
	}
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Code:      code,
		RequestID: requestIDOf(c),
	}
	var e *checklist.Error
	if errors.As(err, &e) && code != checklist.EInternal {
		p.Detail, p.Errors, p.Current = e.Message, e.Fields, wireCurrent(e.Current)
	}
	switch status {
	case http.StatusInternalServerError:
		logger(c).Error("internal error", slog.String("error", err.Error()))
	case http.StatusServiceUnavailable:
		logger(c).Warn("unavailable", slog.String("error", err.Error()))
		c.Header("Retry-After", "2")
	}
	writeProblem(c, p)
}

// StatusClientClosedRequest is nginx's status for a request whose client
// closed the connection before the answer.
const StatusClientClosedRequest = 499

// clientGone says whether the client of c has closed its connection.
func clientGone(c *gin.Context) bool {
	return c.Request.Context().Err() != nil
}

func writeProblem(c *gin.Context, p Problem) {
	c.Header("Cache-Control", "no-store")
	c.Render(p.Status, problemRender{p})
	c.Abort()
}

// problemRender writes JSON with the problem media type; gin's JSON
// renderer would set application/json.
type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.p)
}

func (r problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}
