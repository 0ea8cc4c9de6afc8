package embedded_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/storage"
	"tenken/storage/embedded"
)

// TestEmbeddedIDLookupUsesIndex: on the embedded server, SQLite plans a
// lookup by _id as a scan of the whole collection until Server.Open has
// redefined the _id index on the expression the server filters on;
// afterwards it uses the index (what that saves: BenchmarkEmbeddedIDLookup),
// and _id stays unique. Only unique indexes are kept there.
func TestEmbeddedIDLookupUsesIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own embedded server")
	}
	ctx := context.Background()
	dir := t.TempDir()
	e, err := embedded.Start(dir, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	if plan := lookupPlan(t, dir, "ids", "probe"); !strings.Contains(plan, "SCAN") {
		t.Fatalf("before Open, a lookup by _id is planned as %q: want a scan (has the server changed its index?)", plan)
	}
	_ = plain.Close(ctx)

	db, err := e.Open(ctx, "ids")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	plan := lookupPlan(t, dir, "ids", "probe")
	t.Logf("a lookup by _id after Open: %s", plan)
	if !strings.Contains(plan, "USING INDEX") || strings.Contains(plan, "SCAN") {
		t.Errorf("after Open, a lookup by _id is planned as %q: the _id index is not used", plan)
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

// lookupPlan is SQLite's plan for the statement the embedded server runs
// to find one document of collection col by _id (see idExpr), read from
// database name's file in the data folder dir.
func lookupPlan(t *testing.T, dir, name, col string) string {
	t.Helper()
	sqlite, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "db", name+".sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.Close()
	var table string
	if err := sqlite.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, col).Scan(&table); err != nil {
		t.Fatal(err)
	}
	rows, err := sqlite.Query(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), "doc-00007")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// BenchmarkEmbeddedIDLookup: a FindOne by _id among 10,000 small documents
// on the embedded server, before Server.Open redefines the _id index (a
// scan: ~12.6 ms measured) and after (~0.16 ms).
//
//	go test -run '^$' -bench EmbeddedIDLookup ./storage/embedded/
func BenchmarkEmbeddedIDLookup(b *testing.B) {
	ctx := context.Background()
	e, err := embedded.Start(b.TempDir(), "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Stop)
	plain, err := storage.Open(ctx, e.URI(), "ids")
	if err != nil {
		b.Fatal(err)
	}
	const n = 10000
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("doc-%05d", i)}, {Key: "n", Value: i}}
	}
	if _, err := plain.Database().Collection("probe").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	lookups := func(col *mongo.Collection) func(*testing.B) {
		return func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				var d bson.M
				// The last documents inserted: a scan reads nearly all the
				// collection before it finds them.
				if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("doc-%05d", n-1-i%100)}}).Decode(&d); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("scan", lookups(plain.Database().Collection("probe")))
	_ = plain.Close(ctx)
	db, err := e.Open(ctx, "ids")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	b.Run("indexed", lookups(db.Database().Collection("probe")))
}
