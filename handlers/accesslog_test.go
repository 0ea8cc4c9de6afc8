package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tenken/handlers"
	"tenken/storage/storagetest"
)

// keysAndValues returns the keys of the JSON object line in order, and
// its values but those that differ between two requests.
func keysAndValues(t *testing.T, line string) ([]string, map[string]any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("access line %q: %v", line, err)
	}
	dec := json.NewDecoder(strings.NewReader(line))
	var keys []string
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v any
		_ = dec.Decode(&v)
	}
	for _, k := range []string{"time", "request_id", "ms"} {
		if _, ok := m[k]; !ok {
			t.Errorf("access line %q has no %s", line, k)
		}
		delete(m, k)
	}
	return keys, m
}

// TestAccessLogWriter: with Config.AccessLog, the access line is what the
// JSON logger writes for it (same keys in the same order, same values),
// and the logger's level still decides whether it is written.
func TestAccessLogWriter(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	line := func(t *testing.T, cfg handlers.Config, out *lockedBuffer) string {
		t.Helper()
		s, err := handlers.NewServer(cfg, db)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		req, _ := http.NewRequest("GET", srv.URL+"/v1/inspections?limit=1", nil)
		req.Header.Set("Authorization", "Bearer not-a-token")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		srv.Close() // the line is written once the request is served
		for l := range strings.Lines(out.String()) {
			if strings.Contains(l, `"msg":"request"`) {
				return l
			}
		}
		return ""
	}
	var viaLogger, viaWriter lockedBuffer
	want := line(t, handlers.Config{Logger: slog.New(slog.NewJSONHandler(&viaLogger, nil))}, &viaLogger)
	got := line(t, handlers.Config{Logger: slog.New(slog.NewJSONHandler(&viaWriter, nil)), AccessLog: &viaWriter}, &viaWriter)
	wk, wv := keysAndValues(t, want)
	gk, gv := keysAndValues(t, got)
	if strings.Join(wk, ",") != strings.Join(gk, ",") || !equalJSON(wv, gv) {
		t.Errorf("access line\n got %s\nwant %s", got, want)
	}

	var quiet lockedBuffer
	warn := slog.New(slog.NewJSONHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if l := line(t, handlers.Config{Logger: warn, AccessLog: &quiet}, &quiet); l != "" {
		t.Errorf("an info access line at level warn: %s", l)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
