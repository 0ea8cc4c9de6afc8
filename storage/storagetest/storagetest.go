// Package storagetest gives tests a real database of their own: on the
// server named by MONGODB_URI when set, otherwise on one embedded server
// shared by the test binary. Each call creates a fresh database that is
// dropped when the test ends.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"tenken/storage"
	"tenken/storage/embedded"
)

var (
	once      sync.Once
	sharedURI string
	server    *embedded.Server // nil when MONGODB_URI is set
	folder    string           // the embedded server's data folder
	startErr  error
)

// Main runs a package's tests (call it from TestMain) and then stops the
// shared embedded server and removes its folder, so a test run leaves
// nothing in the temporary directory.
func Main(m *testing.M) int {
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	if folder != "" {
		_ = os.RemoveAll(folder)
	}
	return code
}

// URI returns the connection string tests use, starting the shared
// embedded server on first use when MONGODB_URI is not set.
func URI(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if uri := os.Getenv("MONGODB_URI"); uri != "" {
			sharedURI = uri
			return
		}
		dir, err := os.MkdirTemp("", "tenken-test-db-")
		if err != nil {
			startErr = err
			return
		}
		folder = dir
		quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		e, err := embedded.Start(dir, "127.0.0.1:0", quiet)
		if err != nil {
			startErr = err
			return
		}
		// The server lives as long as the test binary; Main stops it
		// and removes its folder.
		sharedURI, server = e.URI(), e
	})
	if startErr != nil {
		t.Fatalf("test database server: %v", startErr)
	}
	return sharedURI
}

// Open returns a connected *storage.DB on a new, empty database.
func Open(t testing.TB) *storage.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := open(ctx, URI(t), NewName())
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		_ = db.Close(ctx)
	})
	return db
}

// OpenKept opens a new database as the server does, like Open, but
// neither drops nor closes it: data that several benchmarks share.
func OpenKept(tb testing.TB) (*storage.DB, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return open(ctx, URI(tb), NewName())
}

// Reopen returns a second connection to db's database, with locks of its
// own: to the storage layer it is another instance of the server, as on a
// MongoDB replica set shared by several API processes. It is closed (not
// dropped) when the test ends.
func Reopen(t testing.TB, db *storage.DB) *storage.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Not through the embedded server's Open: only one DB owns the data.
	other, err := storage.Open(ctx, URI(t), db.Name(), embedded.Adapt())
	if err != nil {
		t.Fatalf("reopen test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = other.Close(ctx)
	})
	return other
}

// open opens database name as the server does: through the embedded
// server's Open when it is the one tests use.
func open(ctx context.Context, uri, name string) (*storage.DB, error) {
	if server != nil {
		return server.Open(ctx, name)
	}
	return storage.Open(ctx, uri, name, embedded.Adapt())
}

// NewName returns a database name no other test uses.
func NewName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test_" + hex.EncodeToString(b)
}
