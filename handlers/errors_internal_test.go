package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// A problem response carries our message for its code and never the
// cause's words: a driver error may quote queries, hosts or document
// contents. The cause goes to the log, where the operator needs it.
func TestRespondErrorKeepsCauseInLog(t *testing.T) {
	t.Parallel()
	const cause = "connection(127.0.0.1:27017) socket was unexpectedly closed: EOF"
	driverErr := errors.New(cause)
	tests := []struct {
		name       string
		err        error
		status     int
		code       checklist.Code
		detail     string
		logMessage string
	}{
		{"Internal", &checklist.Error{Op: "find inspection 42", Code: checklist.EInternal, Message: "the database failed", Err: driverErr},
			http.StatusInternalServerError, checklist.EInternal, "", "internal error"},
		{"InternalInContext", fmt.Errorf("report data: %w", &checklist.Error{Op: "list inspections", Code: checklist.EInternal, Message: "the database failed", Err: driverErr}),
			http.StatusInternalServerError, checklist.EInternal, "", "internal error"},
		{"PlainError", fmt.Errorf("list inspections: %w", driverErr),
			http.StatusInternalServerError, checklist.EInternal, "", "internal error"},
		{"Unavailable", &checklist.Error{Op: "find inspection 42", Code: checklist.EUnavailable, Message: "the database does not answer", Err: driverErr},
			http.StatusServiceUnavailable, checklist.EUnavailable, "the database does not answer", "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodGet, "/v1/inspections/42", nil)
			stateOf(c).base = slog.New(slog.NewTextHandler(&logs, nil))

			respondError(c, tt.err)

			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if strings.Contains(w.Body.String(), "socket") {
				t.Errorf("the response shows the cause: %s", w.Body)
			}
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Code != tt.code || p.Detail != tt.detail {
				t.Errorf("problem code %q detail %q, want %q %q", p.Code, p.Detail, tt.code, tt.detail)
			}
			if !strings.Contains(logs.String(), tt.logMessage) || !strings.Contains(logs.String(), cause) {
				t.Errorf("log %q does not say %q with the cause", logs.String(), tt.logMessage)
			}
		})
	}
}
