package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/storage"
)

// demoKinds cycle through the generated facilities.
var demoKinds = []struct {
	kind checklist.FacilityKind
	ja   string
	en   string
}{
	{checklist.KindVocationalTraining, "職業能力開発センター", "Vocational Skills Development Center"},
	{checklist.KindLabourConsultation, "労働相談情報センター", "Labour Consultation Center"},
	{checklist.KindBusinessSupport, "中小企業支援センター", "Business Support Center"},
	{checklist.KindResearch, "産業技術研究センター", "Industrial Technology Research Center"},
	{checklist.KindPublicHall, "産業貿易センター", "Industry and Trade Center"},
}

// runDemoData fills a database with generated inspections of the default
// checklist, for demonstrations and benchmarks:
//
//	tenken demo --facilities 60 --years 5 [--per-year 2] [--seed 1] [--messy]
func runDemoData(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("demo", e)
	var dbc dbConfig
	dbc.bind(fs, e)
	facilities := fs.Int("facilities", 60, "number of facilities (DEMO-001 …; existing codes are reused)")
	years := fs.Int("years", 5, "fiscal years, ending with the current one")
	perYear := fs.Int("per-year", 2, "inspections per facility and fiscal year")
	seed := fs.Uint64("seed", 0, "random seed: the same seed generates the same inspections (0: a new one each run)")
	messy := fs.Bool("messy", false, "add drafts, returned and discarded inspections and skipped years")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *facilities < 1 || *facilities > 10000 || *years < 1 || *years > 50 || *perYear < 1 || *perYear > 12 {
		return errors.New("--facilities must be 1..10000, --years 1..50, --per-year 1..12")
	}
	log := newLogger(e)
	db, closeDB, err := openStore(ctx, dbc, log)
	if err != nil {
		return err
	}
	defer closeDB()
	started := time.Now()
	if *seed == 0 {
		*seed = uint64(started.UnixNano())
	}
	n, err := generateDemoData(ctx, db, *facilities, *years, *perYear, *seed, *messy)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "stored %d inspections of %d facilities over %d fiscal years in %s\n",
		n, *facilities, *years, time.Since(started).Round(time.Millisecond))
	return nil
}

// demoGenChecklistID is the checklist the generated inspections pin: the
// bundled default, published as version 1 when missing.
const demoGenChecklistID = "default"

// generateDemoData creates the facilities and inserts the inspections in
// bulk, and returns how many it stored.
func generateDemoData(ctx context.Context, db *storage.DB, facilities, years, perYear int, seed uint64, messy bool) (int, error) {
	content := checklistfile.Default()
	v, err := checklist.Publish(demoGenChecklistID, content, 1, db.Now(), "system")
	if err != nil {
		return 0, err
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		return 0, fmt.Errorf("publish the default checklist: %w", err)
	}
	stored, err := db.ChecklistContent(ctx, demoGenChecklistID, 1)
	if err != nil {
		return 0, err
	}
	ids := make([]string, 0, facilities)
	for i := range facilities {
		k := demoKinds[i%len(demoKinds)]
		f := checklist.Facility{Code: fmt.Sprintf("DEMO-%03d", i+1), Kind: k.kind, Active: true,
			Department: "産業労働局", Address: "東京都",
			Name: checklist.FacilityName{JA: fmt.Sprintf("%s 第%d", k.ja, i+1), EN: fmt.Sprintf("%s No. %d", k.en, i+1)}}
		created, err := db.CreateFacility(ctx, f, demoDataActor)
		if errors.Is(err, checklist.EConflict) {
			created, err = db.FindFacilityByCode(ctx, f.Code)
		}
		if err != nil {
			return 0, fmt.Errorf("facility %s: %w", f.Code, err)
		}
		ids = append(ids, created.ID)
	}
	today := checklist.DateOf(db.Now())
	last := checklist.FiscalYearOfDate(today)
	g := demodata.New(demodata.Options{ChecklistID: demoGenChecklistID, Version: 1, Content: stored,
		Facilities: ids, FirstYear: last - years + 1, Years: years, PerYear: perYear, Seed: seed,
		Today: today, Messy: messy})
	ins, err := g.All()
	if err != nil {
		return 0, err
	}
	if err := db.InsertInspections(ctx, ins); err != nil {
		if errors.Is(err, checklist.EConflict) {
			return 0, fmt.Errorf("inspections of seed %d are in the database already; choose another --seed: %w", seed, err)
		}
		return 0, err
	}
	return len(ins), nil
}
