package storage

// How driver errors become domain errors: translate for one driver
// error, wrap for the context of an exported method's error. Every error
// the repository returns goes through them.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"tenken/checklist"
)

// translate turns driver errors into domain errors: no document is
// ENotFound, a duplicate key is EConflict, a server that does not answer
// is EUnavailable, anything else EInternal. The driver's error stays the
// cause (Err) for the logs; the client sees only the code and our
// message. A domain error passes unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	return classify(err)
}

// Translate is translate for the packages beside the repository, so that
// their driver errors reach clients with the same codes.
func Translate(err error) error { return translate(err) }

// classify is translate for a non-nil err, typed for wrap.
func classify(err error) *checklist.Error {
	if e, ok := errors.AsType[*checklist.Error](err); ok {
		return e
	}
	e := &checklist.Error{Code: checklist.EInternal, Message: "the database failed", Err: err}
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		e.Code, e.Message = checklist.ENotFound, "not found"
	case mongo.IsDuplicateKeyError(err), embeddedUniqueViolation(err):
		e.Code, e.Message = checklist.EConflict, "already exists"
	case mongo.IsNetworkError(err), mongo.IsTimeout(err),
		errors.As(err, new(topology.ServerSelectionError)),
		errors.Is(err, mongo.ErrClientDisconnected),
		errors.Is(err, context.DeadlineExceeded):
		e.Code, e.Message = checklist.EUnavailable, "the database does not answer"
	}
	return e
}

// wrap names the operation that failed in a non-nil error, in the manner
// of pkgsite's derrors.Wrap: every exported method starts with
// defer wrap(&err, "find inspection %s", id). The result is always a
// *checklist.Error with Op set and the original as its cause, so codes
// and messages still reach the client and the driver's words the logs.
// An error already named by an inner exported method keeps that name.
func wrap(err *error, format string, args ...any) {
	if *err == nil {
		return
	}
	var e checklist.Error
	switch d, direct := (*err).(*checklist.Error); {
	case direct && d.Op != "":
		return
	case direct:
		e = *d // a copy: the error may be a shared value
	default:
		// A domain error inside context (fmt.Errorf("…: %w")) keeps its
		// kind and message and the context as its cause; anything else
		// is classified.
		c := classify(*err)
		e = checklist.Error{Code: c.Code, Message: c.Message, Fields: c.Fields, Current: c.Current, Err: *err}
	}
	e.Op = fmt.Sprintf(format, args...)
	*err = &e
}

// embeddedUniqueViolation recognises the embedded server's answer when an
// update (not an insert) breaks a unique index: an InternalError quoting
// SQLite's constraint message instead of a duplicate key error (11000).
func embeddedUniqueViolation(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isNamespaceExists recognises the answer to creating a collection that
// exists (MongoDB's NamespaceExists, code 48).
func isNamespaceExists(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(48)
}
