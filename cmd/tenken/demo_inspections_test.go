package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/storage/blobs"
	"tenken/storage/storagetest"
)

func TestSeedDemoInspections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := env{getenv: testEnv(map[string]string{"TENKEN_DEMO_PASSWORD": "demo-password-123"}), stdout: io.Discard, stderr: io.Discard}
	if err := seedDefaultChecklist(ctx, db, log); err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, e, db, log); err != nil {
		t.Fatal(err)
	}
	photos, err := blobs.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := seedDemoInspections(ctx, db, photos, log); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %v", time.Since(start))

	page, err := db.ListInspections(ctx, checklist.InspectionQuery{IncludeDiscarded: true, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	years, statuses := map[int]int{}, map[checklist.Status]int{}
	findings := 0
	for _, s := range page.Inspections {
		in, err := db.FindInspection(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		years[in.FiscalYear]++
		statuses[in.Status]++
		findings += in.Totals.Failed
		for _, p := range in.Photos {
			if ok, err := photos.Has(ctx, p.SHA256); !ok || err != nil {
				t.Fatalf("photo %s of %s is not stored", p.SHA256, in.ID)
			}
		}
		trail, _, err := db.ListAudit(ctx, checklist.AuditQuery{EntityID: in.ID, Limit: 200})
		if err != nil || int64(len(trail)) != in.Revision {
			t.Fatalf("%s: %d audit entries for revision %d (%v)", in.ID, len(trail), in.Revision, err)
		}
	}
	if len(page.Inspections) != 3*len(demoFacilities) || len(years) != 2 {
		t.Fatalf("%d inspections over fiscal years %v; want %d over two", len(page.Inspections), years, 3*len(demoFacilities))
	}
	for _, s := range []checklist.Status{checklist.StatusApproved, checklist.StatusSubmitted, checklist.StatusReturned, checklist.StatusDraft} {
		if statuses[s] == 0 {
			t.Errorf("no %s inspection among %v", s, statuses)
		}
	}
	if findings == 0 {
		t.Error("no findings")
	}
	// A second start with --demo adds nothing.
	if err := seedDemoInspections(ctx, db, photos, log); err != nil {
		t.Fatal(err)
	}
	again, _ := db.ListInspections(ctx, checklist.InspectionQuery{IncludeDiscarded: true, Limit: 200})
	if len(again.Inspections) != len(page.Inspections) {
		t.Fatalf("a second seeding made %d inspections", len(again.Inspections))
	}
	// The round over them, on the same seeding (a second one would double
	// the test's time).
	t.Run("Round", func(t *testing.T) { testDemoRound(t, db) })
}
