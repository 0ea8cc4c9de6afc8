package storage

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/checklist"
)

// Every error an exported method returns is a *checklist.Error that names
// the operation, has the kind errors.Is asks for, and keeps the driver's
// error as its cause.
func TestTranslateAndWrap(t *testing.T) {
	dup := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key"}}}
	conflict := checklist.Errorf(checklist.EConflict, "the round is already open")
	named := &checklist.Error{Op: "find facility f-1", Code: checklist.ENotFound, Message: "not found", Err: mongo.ErrNoDocuments}
	tests := []struct {
		name  string
		err   error
		op    string
		code  checklist.Code
		cause error // errors.Is holds for it
	}{
		{"NoDocuments", mongo.ErrNoDocuments, "find inspection 42", checklist.ENotFound, mongo.ErrNoDocuments},
		{"DuplicateKey", dup, "find inspection 42", checklist.EConflict, nil},
		{"Timeout", context.DeadlineExceeded, "find inspection 42", checklist.EUnavailable, context.DeadlineExceeded},
		{"Other", errors.New("BadValue"), "find inspection 42", checklist.EInternal, nil},
		{"Domain", conflict, "find inspection 42", checklist.EConflict, nil},
		{"DomainInContext", fmt.Errorf("round: %w", conflict), "find inspection 42", checklist.EConflict, conflict},
		{"NamedByInnerMethod", named, "find facility f-1", checklist.ENotFound, mongo.ErrNoDocuments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err
			wrap(&err, "find inspection %d", 42)
			e, ok := err.(*checklist.Error)
			if !ok {
				t.Fatalf("wrap gave %T %v, want *checklist.Error", err, err)
			}
			if e.Op != tt.op || e.Code != tt.code {
				t.Errorf("Op %q Code %q, want %q %q", e.Op, e.Code, tt.op, tt.code)
			}
			if !errors.Is(err, tt.code) {
				t.Errorf("errors.Is(%v, %s) is false", err, tt.code)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("errors.Is(%v, cause) is false: the cause was dropped", err)
			}
			if errors.Is(err, checklist.EForbidden) {
				t.Errorf("errors.Is(%v, EForbidden) holds", err)
			}
		})
	}
	err := error(dup)
	wrap(&err, "create user %s", "alice")
	if !errors.As(err, new(mongo.WriteException)) {
		t.Errorf("the duplicate key error is not the cause of %v", err)
	}
	if conflict.Op != "" {
		t.Errorf("wrap changed a shared error: Op %q", conflict.Op)
	}
	err = nil
	wrap(&err, "find inspection 42")
	if err != nil || translate(nil) != nil {
		t.Errorf("nil became %v", err)
	}
}
