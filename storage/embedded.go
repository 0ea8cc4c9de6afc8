package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is the in-process MongoDB-compatible server (FerretDB with its
// SQLite handler) that tenken runs when no MONGODB_URI is configured.
// The same driver code talks to it over loopback as to a real MongoDB.
type Embedded struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts the embedded server over the SQLite files in
// dir/db, listening on addr (for example "127.0.0.1:0" for a free port).
// logger receives the server's own logs; pass one filtered to warnings.
func StartEmbedded(dir, addr string, logger *slog.Logger) (*Embedded, error) {
	dbDir := filepath.Join(dir, "db")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded database folder: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dbDir + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI waits for the listener that Run opens.
	e.uri = f.MongoDBURI()
	return e, nil
}

// URI is the connection string of the running server.
func (e *Embedded) URI() string { return e.uri }

// Stop closes the listener, every connection and the SQLite files, and
// returns when they are closed.
func (e *Embedded) Stop() {
	e.cancel()
	<-e.done
}
