package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/storage"
	"tenken/storage/embedded"
	"tenken/storage/storagetest"
)

// storedSchemaVersion reads the version recorded in the meta collection;
// -1 when there is none.
func storedSchemaVersion(t *testing.T, db *storage.DB) int {
	t.Helper()
	var doc struct {
		Version int `bson:"version"`
	}
	err := db.RawCollection("meta").FindOne(context.Background(), bson.D{{Key: "_id", Value: "schema"}}).Decode(&doc)
	if err != nil {
		if strings.Contains(err.Error(), "no documents") {
			return -1
		}
		t.Fatal(err)
	}
	return doc.Version
}

func setSchemaVersion(t *testing.T, db *storage.DB, v int) {
	t.Helper()
	_, err := db.RawCollection("meta").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "schema"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: v}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	t.Run("OKNewDatabase", func(t *testing.T) {
		db := storagetest.Open(t)
		if got := storedSchemaVersion(t, db); got != storage.SchemaVersion() {
			t.Fatalf("schema version of a new database = %d, want %d", got, storage.SchemaVersion())
		}
	})
	t.Run("ErrNewerDatabase", func(t *testing.T) {
		db := storagetest.Open(t)
		setSchemaVersion(t, db, storage.SchemaVersion()+1)
		other, err := storage.Open(ctx, storagetest.URI(t), db.Name(), embedded.Adapt())
		if err == nil {
			_ = other.Close(ctx)
			t.Fatal("Open of a database from a newer version succeeded")
		}
		if !strings.Contains(err.Error(), "run a newer tenken") {
			t.Fatalf("Open = %v, want it to say a newer tenken is needed", err)
		}
		if got := storedSchemaVersion(t, db); got != storage.SchemaVersion()+1 {
			t.Errorf("schema version = %d after the refused Open, want it untouched", got)
		}
	})
}

// TestSchemaStepReportRows starts from a database shaped like the
// version before schema versions with counted inspections stored before
// report rows: no schema record, no rows. Open answers at once, reports
// say "rebuilding" until the rows are written, and the version is
// recorded only then; a second start runs nothing (reports answer at
// once), and neither does a start of a database already at version 1
// whose rows went missing — the rows are the step's, not every start's.
func TestSchemaStepReportRows(t *testing.T) {
	db := storagetest.Open(t)
	ctx := context.Background()
	c := checklistfile.Default()
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1", "f2"}, FirstYear: 2025, Years: 1, PerYear: 2, Seed: 4})
	_, counted := insertGenerated(t, db, g)
	if counted == 0 {
		t.Fatal("the generated inspections count in no report: the test tests nothing")
	}
	for _, col := range []string{"report_rows", "meta"} {
		if err := db.DeleteDocuments(col, bson.D{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteDocuments("report_versions", bson.D{{Key: "_id", Value: "report_rows"}}); err != nil {
		t.Fatal(err)
	}

	started := time.Now()
	first := storagetest.Reopen(t, db)
	t.Logf("open of the version-0 database: %v", time.Since(started).Round(time.Millisecond))
	if _, err := first.ReportVersions(ctx); checklist.ErrorCode(err) != checklist.ERebuilding {
		// The rebuild of a few inspections may already be over; it
		// must not have been skipped.
		if n, _ := db.CountDocuments("report_rows", bson.D{}); int(n) != counted {
			t.Fatalf("ReportVersions = %v with %d rows, want %s or %d rows", err, n, checklist.ERebuilding, counted)
		}
	}
	first.WaitBackground()
	if n, err := db.CountDocuments("report_rows", bson.D{}); err != nil || int(n) != counted {
		t.Fatalf("%d report rows after the step (%v), want %d", n, err, counted)
	}
	if got := storedSchemaVersion(t, db); got != storage.SchemaVersion() {
		t.Fatalf("schema version after the step = %d, want %d", got, storage.SchemaVersion())
	}

	// Idempotent, and never again: rows lost at version 1 are not
	// looked for at start.
	if err := db.DeleteDocuments("report_rows", bson.D{}); err != nil {
		t.Fatal(err)
	}
	second := storagetest.Reopen(t, db)
	if _, err := second.ReportVersions(ctx); err != nil {
		t.Fatalf("ReportVersions on the second start: %v, want an answer at once", err)
	}
	second.WaitBackground()
	if n, _ := db.CountDocuments("report_rows", bson.D{}); n != 0 {
		t.Errorf("second start wrote %d rows, want none (the step ran again)", n)
	}
}
