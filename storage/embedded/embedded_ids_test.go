package embedded_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/storage"
	"tenken/storage/embedded"
)

// TestEmbeddedIDLookupUsesIndex: on the embedded server, a lookup by _id
// scans the whole collection until Server.Open has redefined the _id
// index on the expression the server filters on; afterwards it costs the
// same whatever the collection holds, and _id stays unique. Only unique
// indexes are kept there.
func TestEmbeddedIDLookupUsesIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	ctx := context.Background()
	e, err := embedded.Start(t.TempDir(), "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)

	plain, err := storage.Open(ctx, e.URI(), "ids")
	if err != nil {
		t.Fatal(err)
	}
	// Many small documents: the cost of a scan is per row, that of an
	// indexed lookup is not.
	const n = 10000
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("doc-%05d", i)}, {Key: "n", Value: i}}
	}
	if _, err := plain.Database().Collection("probe").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	scan := fastestLookup(t, plain.Database().Collection("probe"), n)
	_ = plain.Close(ctx)

	db, err := e.Open(ctx, "ids")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	indexed := fastestLookup(t, db.Database().Collection("probe"), n)
	t.Logf("fastest lookup by _id among %d documents: %v before, %v after", n, scan, indexed)
	if indexed*5 > scan {
		t.Errorf("a lookup by _id took %v after indexing, %v before: the index is not used", indexed, scan)
	}

	_, err = db.Database().Collection("probe").InsertOne(ctx, bson.D{{Key: "_id", Value: "doc-00007"}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Errorf("inserting an existing _id: %v, want a duplicate key error", err)
	}
	if _, err := e.Open(ctx, "ids"); err != nil { // every start after the first
		t.Fatalf("second open: %v", err)
	}

	for col, want := range map[string][]string{"inspections": {"_id_"}, "users": {"_id_", "username_unique"}} {
		specs, err := db.Database().Collection(col).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range specs {
			got = append(got, s.Name)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("indexes of %s: %v, want %v (only unique ones)", col, got, want)
		}
	}
}

// fastestLookup is the fastest of several FindOne by _id in col, of the
// last documents inserted: a scan stops at the first match, so it reads
// nearly all the collection to find them.
func fastestLookup(t *testing.T, col *mongo.Collection, n int) time.Duration {
	t.Helper()
	best := time.Hour
	for i := range 15 {
		start := time.Now()
		var d bson.M
		if err := col.FindOne(context.Background(), bson.D{{Key: "_id", Value: fmt.Sprintf("doc-%05d", n-1-i)}}).Decode(&d); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	return best
}
