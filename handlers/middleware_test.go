package handlers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"tenken/handlers"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	api := newTestAPIWith(t, func(c *handlers.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	// A refused token is logged by the handler and then by the access
	// log: both lines carry the request id.
	api.request("GET", "/v1/checklists/manifest", nil, "X-Request-ID: trace-42", bearer("not.a.token")).wantStatus(t, 401)
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["request_id"] == "trace-42" {
			lines[m["msg"].(string)] = m
		}
	}
	line := lines["request"]
	if line == nil || lines["access token refused"] == nil {
		t.Fatalf("the lines of request trace-42 lack the request id:\n%s", logs.String())
	}
	if line["route"] != "/v1/checklists/manifest" || line["status"] != float64(401) || line["method"] != "GET" {
		t.Fatalf("access line %v", line)
	}
}
