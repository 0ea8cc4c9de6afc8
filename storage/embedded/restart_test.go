package embedded_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

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

// TestSyncNormal: a server started with SyncNormal takes writes, and a
// later start (with the default) reads them; a sync other than full or
// normal is refused before anything starts.
func TestSyncNormal(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	if _, err := embedded.ParseSync("off"); err == nil {
		t.Error(`ParseSync("off") succeeded`)
	}
	if _, err := embedded.Start(t.TempDir(), "127.0.0.1:0", nil, embedded.WithSync("off")); err == nil {
		t.Error(`Start with sync "off" succeeded`)
	}
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, sync := range []embedded.Sync{embedded.SyncNormal, embedded.SyncFull} {
		e, err := embedded.Start(dir, "127.0.0.1:0", quiet, embedded.WithSync(sync))
		if err != nil {
			t.Fatal(err)
		}
		db, err := e.Open(ctx, "sync")
		if err != nil {
			e.Stop()
			t.Fatal(err)
		}
		col := db.Database().Collection("probe")
		if i == 0 {
			_, err = col.InsertOne(ctx, bson.D{{Key: "_id", Value: "written"}})
		} else {
			err = col.FindOne(ctx, bson.D{{Key: "_id", Value: "written"}}).Err()
		}
		_ = db.Close(ctx)
		e.Stop()
		if err != nil {
			t.Fatalf("start %d (sync %s): %v", i+1, sync, err)
		}
	}
}
