package storage_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
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
	t.Parallel()
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
	_, counted := insertGenerated(t, db, g)
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
	if vers, err := db.ReportVersions(ctx); err != nil || vers[checklist.ReportVersionYear(2026)] == "" {
		t.Fatalf("versions %v %v", vers, err)
	}
}

// TestReportRowsRebuiltOnce: a database of drafts only has no report row
// to write; after one rebuild, later starts do not read the inspections
// again (reports are available at once).
func TestReportRowsRebuiltOnce(t *testing.T) {
	t.Parallel()
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

// TestReportRowCacheMatchesQueries: the owner of the embedded server
// answers reports from its copy of the report rows; after writes of every
// kind that change rows (approve, return, reopen, a batch insert), made
// after the copy was loaded, it reads what a second instance querying the
// database reads.
func TestReportRowCacheMatchesQueries(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	other := storagetest.Reopen(t, db)
	c := checklistfile.Default()
	v, err := checklist.Publish("default", c, 1, time.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	gen := func(facilities ...string) []*checklist.Inspection {
		ins, err := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
			Facilities: facilities, FirstYear: 2025, Years: 2, PerYear: 2, Seed: 5}).All()
		if err != nil {
			t.Fatal(err)
		}
		return ins
	}
	ins := gen("f1", "f2", "f3")
	if err := db.InsertInspections(ctx, ins); err != nil {
		t.Fatal(err)
	}
	fys := []int{2025, 2026}
	report := func(d *storage.DB) string {
		t.Helper()
		s, err := reportText(ctx, d, fys)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hall, err := db.CreateFacility(ctx, checklist.Facility{Code: "H-1", Kind: checklist.KindPublicHall, Active: true,
		Name: checklist.FacilityName{JA: "公会堂", EN: "Hall"}}, checklist.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	first := report(db) // loads the owner's copy
	// The owner's facility list follows each facility write.
	same := func(after string) {
		t.Helper()
		if owner, queried := report(db), report(other); owner != queried {
			t.Errorf("after %s, owner's copy:\n%s\nqueried:\n%s", after, owner, queried)
		}
	}
	if _, err := db.CreateFacility(ctx, checklist.Facility{Code: "A-1", Kind: checklist.KindPublicHall, Active: true,
		Name: checklist.FacilityName{JA: "会館", EN: "Centre"}}, checklist.SystemActor); err != nil {
		t.Fatal(err)
	}
	same("a facility created")
	if _, err := db.UpdateFacility(ctx, hall.ID, hall.Revision, checklist.SystemActor, func(f checklist.Facility) (checklist.Facility, error) {
		f.Name.JA = "新公会堂"
		return f, nil
	}); err != nil {
		t.Fatal(err)
	}
	same("a facility renamed")

	byStatus := map[checklist.Status][]string{}
	for _, in := range ins {
		byStatus[in.Status] = append(byStatus[in.Status], in.ID)
	}
	if len(byStatus[checklist.StatusSubmitted]) < 2 || len(byStatus[checklist.StatusApproved]) < 1 {
		t.Fatalf("the generated data lacks statuses: %v", byStatus)
	}
	writes := []struct {
		id     string
		by     checklist.Actor
		change checklist.InspectionUpdate
	}{
		{byStatus[checklist.StatusSubmitted][0], reviewer, approved},
		{byStatus[checklist.StatusSubmitted][1], reviewer, func(in *checklist.Inspection, content *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Return(content, "写真を追加してください", nil, reviewer, now)
		}},
		{byStatus[checklist.StatusApproved][0], reviewer, func(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Reopen("再確認のため", reviewer, now)
		}},
	}
	for _, w := range writes {
		if _, err := db.UpdateInspection(ctx, w.id, w.by, checklist.Idempotency{}, w.change); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InsertInspections(ctx, gen("f4")); err != nil {
		t.Fatal(err)
	}
	// Concurrent reports decode the rows written since and share the
	// owner's decoded rows (run with -race).
	var wg sync.WaitGroup
	concurrent := make([]string, 4)
	errs := make([]error, len(concurrent))
	for i := range concurrent {
		wg.Go(func() { concurrent[i], errs[i] = reportText(ctx, db, fys) })
	}
	wg.Wait()
	owner, queried := report(db), report(other)
	if owner != queried {
		t.Errorf("owner's copy:\n%s\nqueried:\n%s", owner, queried)
	}
	if owner == first {
		t.Error("the writes changed no report")
	}
	for i, got := range concurrent {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got != owner {
			t.Errorf("concurrent report %d:\n%s\nalone:\n%s", i, got, owner)
		}
	}
}

// reportText prints the report data of fys that reports read: the
// facilities, the latest inspections, the tallies and the findings in a
// fixed order.
func reportText(ctx context.Context, db *storage.DB, fys []int) (string, error) {
	years, err := db.ReportYears(ctx, fys)
	if err != nil {
		return "", err
	}
	var s string
	for _, fy := range fys {
		y := years[fy]
		fs := slices.Clone(y.Findings)
		slices.SortFunc(fs, func(a, b checklist.Finding) int {
			return cmp.Or(cmp.Compare(a.InspectionID, b.InspectionID), cmp.Compare(a.ItemKey, b.ItemKey))
		})
		s += fmt.Sprintf("FY%d %+v\n%v\n%v\n%d findings: %+v\n", fy, y.Facilities, y.Latest, y.Tallies, len(fs), fs)
	}
	return s, nil
}

// insertGenerated stores every inspection g generates and returns them
// with how many of them count in reports.
func insertGenerated(t *testing.T, db *storage.DB, g *demodata.Generator) ([]*checklist.Inspection, int) {
	t.Helper()
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertInspections(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, in := range ins {
		if in.Status.CountsInReports() {
			counted++
		}
	}
	return ins, counted
}
