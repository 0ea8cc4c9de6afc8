package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/checklist"
	"tenken/storage"
	"tenken/storage/storagetest"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		db := storagetest.Open(t)
		if err := db.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("Reopen", func(t *testing.T) {
		// Every start after the first finds its indexes in place.
		name := storagetest.NewName()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := range 2 {
			db, err := storage.Open(ctx, storagetest.URI(t), name)
			if err != nil {
				t.Fatalf("open #%d: %v", i+1, err)
			}
			if i == 1 {
				_ = db.Drop(ctx)
			}
			_ = db.Close(ctx)
		}
	})
	t.Run("ErrUnavailable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// Port 1 on loopback: nothing listens, the connection is refused.
		_, err := storage.Open(ctx, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", "x")
		if got := checklist.ErrorCode(err); got != checklist.EUnavailable {
			t.Fatalf("ErrorCode = %q (%v), want %q", got, err, checklist.EUnavailable)
		}
	})
}

func TestKeyedMutexSerialises(t *testing.T) {
	t.Parallel()
	var k storage.StorageKeyedMutexProbe
	var wg sync.WaitGroup
	counter := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				unlock := k.Lock("a")
				v := counter
				time.Sleep(time.Microsecond)
				counter = v + 1
				unlock()
			}
		})
	}
	wg.Wait()
	if counter != 800 {
		t.Fatalf("counter = %d, want 800", counter)
	}
}

// TestReopenWithIndexes opens a database whose collections already have
// their indexes, as every start after the first does, with a collection
// of several indexes (the embedded server once dropped the connection on
// that).
//
// Not parallel: it changes the package's list of indexes, which every
// Open reads.
func TestReopenWithIndexes(t *testing.T) {
	defer storage.AddIndexesForTest("reopen_probe",
		mongo.IndexModel{Keys: bson.D{{Key: "a", Value: 1}, {Key: "_id", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "b", Value: -1}}},
	)()
	db := storagetest.Open(t)
	for range 2 {
		if err := storagetest.Reopen(t, db).Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
