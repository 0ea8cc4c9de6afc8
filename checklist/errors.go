// Package checklist is tenken's domain: checklists and their versions,
// facilities, users, inspections, scoring and report arithmetic.
//
// It holds the rules as pure functions and imports nothing of ours and
// nothing outside the standard library, so that the HTTP layer (handlers)
// and the database layer (storage) can both depend on it.
package checklist

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients branch on them, and handlers map
// each to exactly one HTTP status.
const (
	EBadRequest      = "bad_request"       // malformed request: syntax, types, unknown fields
	EInvalid         = "invalid"           // well-formed but breaks a domain rule
	EUnauthorized    = "unauthorized"      // no or bad credentials
	EForbidden       = "forbidden"         // authenticated, not allowed
	ENotFound        = "not_found"         // no such resource (or not visible to the caller)
	EConflict        = "conflict"          // state conflict: duplicate key, wrong lifecycle state
	ERevision        = "revision_conflict" // the write was based on a stale revision
	ENotEditable     = "not_editable"      // the inspection is no longer editable (submitted, approved, …)
	EPrecondition    = "precondition_failed"
	ETooLarge        = "payload_too_large"
	EUnsupportedType = "unsupported_media_type"
	ETooManyRequests = "too_many_requests"
	EUnavailable     = "unavailable" // a dependency (the database) does not answer
	ERebuilding      = "rebuilding"  // report data is being rebuilt after a start; retry
	EInternal        = "internal"
)

// FieldError is one problem with one field of the input. Field is a path
// into the request body such as "sections[2].items[5].fail_rule".
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the domain error. Code is one of the E* constants; Message is
// safe to show to the user; Fields lists every field problem at once.
// Current, when set, is the server's current copy of a resource that a
// conflicting write was refused against.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Current any
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%d field errors, first %s: %s)",
		e.Code, e.Message, len(e.Fields), e.Fields[0].Field, e.Fields[0].Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// Problems collects field errors and turns them into one EInvalid error.
// The zero value is ready to use.
type Problems []FieldError

// Add records a problem with field.
func (p *Problems) Add(field, code, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was recorded, otherwise an EInvalid *Error
// with message and every recorded problem.
func (p Problems) Err(message string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Message: message, Fields: p}
}
