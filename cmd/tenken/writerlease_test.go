package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSecondServeOnFerretDBRefused: two serve processes writing to one
// FerretDB server lose saves (its guarded replace is not atomic), so the
// second refuses to start and says why; once the first stops, another
// may start.
func TestSecondServeOnFerretDBRefused(t *testing.T) {
	t.Parallel()
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("runs its own database process")
	}
	port := freePort(t)
	startDBBinary(t, t.TempDir(), port)
	vars := map[string]string{"MONGODB_URI": fmt.Sprintf("mongodb://127.0.0.1:%d/", port), "TENKEN_LOG_LEVEL": "error"}
	keys := t.TempDir()
	_, _, stop := startServe(t, vars, "--data", keys)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", keys}, testEnv(vars), strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "writes to this FerretDB server") {
		t.Fatalf("second serve on one FerretDB: %v; want a refusal naming the reason", err)
	}
	if strings.Contains(stdout.String(), "listening") {
		t.Fatalf("the refused serve listened: %s", stdout.String())
	}

	if err := stop(); err != nil {
		t.Fatalf("first serve: %v", err)
	}
	startServe(t, vars, "--data", keys) // the lease was released
}
