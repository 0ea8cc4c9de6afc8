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
	"strings"
)

// Code is the kind of an Error. Codes are stable: clients branch on them,
// and handlers map each to exactly one HTTP status.
//
// A Code is also an error, so that a caller asks for a kind with
// errors.Is(err, checklist.ENotFound) whatever wrapped it.
type Code string

func (c Code) Error() string { return string(c) }

// Error codes.
const (
	EBadRequest      Code = "bad_request"       // malformed request: syntax, types, unknown fields
	EInvalid         Code = "invalid"           // well-formed but breaks a domain rule
	EUnauthorized    Code = "unauthorized"      // no or bad credentials
	EForbidden       Code = "forbidden"         // authenticated, not allowed
	ENotFound        Code = "not_found"         // no such resource (or not visible to the caller)
	EConflict        Code = "conflict"          // state conflict: duplicate key, wrong lifecycle state
	ERevision        Code = "revision_conflict" // the write was based on a stale revision
	ENotEditable     Code = "not_editable"      // the inspection is no longer editable (submitted, approved, …)
	EPrecondition    Code = "precondition_failed"
	ETooLarge        Code = "payload_too_large"
	EUnsupportedType Code = "unsupported_media_type"
	ETooManyRequests Code = "too_many_requests"
	EUnavailable     Code = "unavailable" // a dependency (the database) does not answer
	ERebuilding      Code = "rebuilding"  // report data is being rebuilt after a start; retry
	EInternal        Code = "internal"
)

// FieldError is one problem with one field of the input. Field is a path
// into the request body such as "sections[2].items[5].fail_rule".
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the domain error, in the manner of upspin's errors.E: what
// went wrong for the user and, for the operator, where and why.
//
// Op names the operation that failed, with its subject ("find inspection
// 0192…"); Code is one of the E* constants; Message is safe to show to
// the user; Fields lists every field problem at once. Current, when set,
// is the server's current copy of a resource that a conflicting write was
// refused against. Err is the cause (a driver error, say): it reaches
// logs through Error and errors.As/Is through Unwrap, and is never shown
// to a client.
type Error struct {
	Op      string
	Code    Code
	Message string
	Fields  []FieldError
	Current any
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	b.WriteString(string(e.Code) + ": " + e.Message)
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (%d field errors, first %s: %s)", len(e.Fields), e.Fields[0].Field, e.Fields[0].Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's code, so that errors.Is(err,
// checklist.ENotFound) holds for any chain holding a not-found *Error.
func (e *Error) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil. It is for mapping a code
// (to a status, a message, a switch over kinds); to ask whether err is of
// one kind, use errors.Is(err, ENotFound). Note that errors.Is(err,
// EInternal) holds only for an *Error of that code, not for a plain error.
func ErrorCode(err error) Code {
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
