package storage

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// The database records the version of its shape in the meta collection
// ({_id: "schema", version: N}): N is how many of steps it has had. Open
// runs the steps it has not had, in order, and records each; a database
// without the record (made before schema versions) is at version 0.
//
// A step changes what an older version stored into what this one
// expects. Every step is idempotent — a start that dies between a step
// and its record runs it again — and none scans at start-up: a step
// that must read every document starts that work in the background, and
// its version is recorded when the work ends (see migrate).
//
// What is not a step: ensureIndexes, which brings the indexes to the
// declared list at every start (idempotent, and a restore of an archive
// from another server needs it again), and the embedded server's _id
// index redefinition (storage/embedded), which also covers tables the
// server created since the last start.
//
// Steps are only ever appended; a step's position is its version.
var steps = []struct {
	name string
	run  func(*DB, context.Context) error
}{
	// 1: report rows (report_rows) came after inspections; a database
	// from before has inspections and no rows.
	{"report rows for the inspections stored before them", (*DB).ensureReportRows},
}

const schemaKey = "schema"

type schemaDoc struct {
	ID      string `bson:"_id"`
	Version int    `bson:"version"`
}

// SchemaVersion is the version of the database's shape this build
// writes: the number of its migration steps.
func SchemaVersion() int { return len(steps) }

// schemaVersion reads the database's version; 0 when it has none.
func (db *DB) schemaVersion(ctx context.Context) (int, error) {
	var doc schemaDoc
	err := db.db.Collection(colMeta).FindOne(ctx, bson.D{{Key: "_id", Value: schemaKey}}).Decode(&doc)
	if err = translate(err); checklist.ErrorCode(err) == checklist.ENotFound {
		return 0, nil
	}
	return doc.Version, err
}

func (db *DB) setSchemaVersion(ctx context.Context, v int) error {
	_, err := db.db.Collection(colMeta).UpdateOne(ctx, bson.D{{Key: "_id", Value: schemaKey}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: v}}}}, options.UpdateOne().SetUpsert(true))
	return translate(err)
}

// migrate brings the database to SchemaVersion. It refuses a database
// of a later version: this build would misread what a newer one wrote.
// A step that goes on in the background (the report rows' rebuild) has
// its version recorded when it ends, by a goroutine Close waits for; the
// steps after it wait for the next start.
func (db *DB) migrate(ctx context.Context) error {
	v, err := db.schemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if v > len(steps) {
		return fmt.Errorf("database %s has schema version %d, and this tenken knows versions up to %d: run a newer tenken", db.Name(), v, len(steps))
	}
	for ; v < len(steps); v++ {
		if err := steps[v].run(db, ctx); err != nil {
			return fmt.Errorf("schema step %d (%s): %w", v+1, steps[v].name, err)
		}
		if db.rows.running.Load() {
			db.background.Add(1)
			go db.recordWhenRebuilt(v + 1)
			return nil
		}
		if err := db.setSchemaVersion(ctx, v+1); err != nil {
			return fmt.Errorf("schema step %d (%s): %w", v+1, steps[v].name, err)
		}
	}
	return nil
}

// recordWhenRebuilt records version v once the report rows' rebuild has
// ended. A rebuild that Close stopped records nothing: the next start
// runs its step again.
func (db *DB) recordWhenRebuilt(v int) {
	defer db.background.Done()
	db.rows.wait()
	if db.rows.running.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = db.setSchemaVersion(ctx, v) // if it fails, the next start runs the step again: a no-op
}
