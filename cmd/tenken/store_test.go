package main

import (
	"context"
	"io"
	"log/slog"
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
