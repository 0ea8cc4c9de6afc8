package embedded_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"tenken/storage/embedded"
)

// TestRestartEnsuresIndexes opens a data folder twice, as every start
// after the first does: ensuring the existing indexes again must work.
// (The embedded server panics on one createIndexes naming several
// existing indexes.)
func TestRestartEnsuresIndexes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range 2 {
		e, err := embedded.Start(dir, "127.0.0.1:0", quiet)
		if err != nil {
			t.Fatal(err)
		}
		db, err := e.Open(ctx, "restart")
		if err != nil {
			e.Stop()
			t.Fatalf("start %d: %v", i+1, err)
		}
		_ = db.Close(ctx)
		e.Stop()
	}
}
