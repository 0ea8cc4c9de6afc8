package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestOpenStoreEmbeddedOpenFails: when the embedded server starts but the
// database cannot be opened on it (here: the caller's context is already
// done), openStore returns the error, not a nil store without one (the
// shadowed err staticcheck found made serve panic on the nil store).
func TestOpenStoreEmbeddedOpenFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, closeStore, err := openStore(ctx, dbConfig{dataDir: t.TempDir(), name: "tenken"}, log)
	if err == nil {
		if closeStore != nil {
			closeStore()
		}
		t.Fatalf("openStore with a failing Open = %v, nil error; want the error", db)
	}
	if db != nil || closeStore != nil {
		t.Errorf("openStore failed but returned db %v, close %v", db, closeStore != nil)
	}
}

// TestEmbeddedLogsApplyAttrsWhenLogged: the embedded server's warnings
// keep the attributes and groups added before them, in order; debug lines
// and wire dumps are dropped.
func TestEmbeddedLogsApplyAttrsWhenLogged(t *testing.T) {
	var buf bytes.Buffer
	log := embeddedLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l := log.With(slog.String("name", "pool")).WithGroup("sql").With(slog.String("query", "UPDATE x"))
	l.Debug("not logged", slog.String("args", "a whole document"))
	l.Warn("Response dropped")
	l.Warn("slow", slog.Int("ms", 3))
	log.Warn("plain")

	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`"msg":"slow","component":"embedded-db","name":"pool","sql":{"query":"UPDATE x","ms":3}}`,
		`"msg":"plain","component":"embedded-db"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(got[i], w) {
			t.Errorf("line %d = %s\nwant it to end with %s", i, got[i], w)
		}
	}
}
