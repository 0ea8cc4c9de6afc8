package checklist_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"tenken/checklist"
)

func TestError(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	tests := []struct {
		name string
		err  error
		code checklist.Code // ErrorCode and errors.Is agree on it
		text string
		root error // errors.Is holds for it (the cause)
	}{
		{"Plain", checklist.Errorf(checklist.ENotFound, "no inspection %s", "42"), checklist.ENotFound, "not_found: no inspection 42", nil},
		{"OpAndCause", &checklist.Error{Op: "find inspection 42", Code: checklist.EUnavailable, Message: "the database does not answer", Err: cause},
			checklist.EUnavailable, "find inspection 42: unavailable: the database does not answer: unexpected EOF", cause},
		{"Fields", checklist.Problems{{Field: "title", Code: "required", Message: "title is required"}}.Err("the checklist is not valid"),
			checklist.EInvalid, "invalid: the checklist is not valid (1 field errors, first title: title is required)", nil},
		{"InContext", fmt.Errorf("import: %w", checklist.Errorf(checklist.EConflict, "already exists")), checklist.EConflict, "import: conflict: already exists", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checklist.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if !errors.Is(tt.err, tt.code) {
				t.Errorf("errors.Is(err, %s) is false", tt.code)
			}
			if errors.Is(tt.err, checklist.EForbidden) {
				t.Error("errors.Is(err, EForbidden) holds")
			}
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
			if tt.root != nil && !errors.Is(tt.err, tt.root) {
				t.Error("the cause is not reachable with errors.Is")
			}
		})
	}
	if checklist.ErrorCode(nil) != "" || checklist.ErrorCode(io.EOF) != checklist.EInternal {
		t.Error("ErrorCode of nil or of a plain error is wrong")
	}
}
