package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/storage"
	"tenken/storage/storagetest"
)

// TestReportRowsAreRebuilt: a database whose inspections have no report
// rows (written before they existed) gets one per counted inspection at
// start, and the reports see them.
func TestReportRowsAreRebuilt(t *testing.T) {
	db := storagetest.Open(t)
	ctx := context.Background()
	c := checklistfile.Default()
	v, err := checklist.Publish("default", c, 1, time.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1", "f2", "f3"}, FirstYear: 2025, Years: 2, PerYear: 2, Seed: 3, Messy: true})
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertInspections(ctx, ins); err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, in := range ins {
		if in.Status.CountsInReports() {
			counted++
		}
	}
	before, err := db.ReportYears(ctx, []int{2025, 2026})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDocuments("report_rows", bson.D{}); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureReportRows(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountDocuments("report_rows", bson.D{}); err != nil || int(n) != counted {
		t.Fatalf("%d rows (%v), want %d", n, err, counted)
	}
	after, err := db.ReportYears(ctx, []int{2025, 2026})
	if err != nil {
		t.Fatal(err)
	}
	for _, fy := range []int{2025, 2026} {
		b, a := before[fy], after[fy]
		if len(b.Latest) == 0 || fmt.Sprint(b.Latest) != fmt.Sprint(a.Latest) || fmt.Sprint(b.Tallies) != fmt.Sprint(a.Tallies) ||
			len(b.Findings) != len(a.Findings) {
			t.Errorf("FY%d rebuilt differently:\n%v\n%v", fy, a.Latest, b.Latest)
		}
	}
	if vers, err := db.ReportVersions(ctx); err != nil || vers[storage.ReportVersionKey(2026)] == "" {
		t.Fatalf("versions %v %v", vers, err)
	}
}

// TestReportRowsRebuiltOnce: a database of drafts only has no report row
// to write; after one rebuild, later starts do not read the inspections
// again (reports are available at once).
func TestReportRowsRebuiltOnce(t *testing.T) {
	db := storagetest.Open(t)
	ctx := context.Background()
	c := checklistfile.Default()
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1", "f2"}, FirstYear: 2025, Years: 1, PerYear: 2, Seed: 3})
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		in.Status = checklist.StatusDraft
	}
	if err := db.InsertInspections(ctx, ins); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureReportRows(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountDocuments("report_versions", bson.D{{Key: "_id", Value: "report_rows"}}); err != nil || n != 1 {
		t.Fatalf("rebuild mark: %d (%v), want 1", n, err)
	}
	other := storagetest.Reopen(t, db)
	if _, err := other.ReportVersions(ctx); err != nil {
		t.Fatalf("a start after the rebuild: %v", err)
	}
}
