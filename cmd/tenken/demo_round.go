package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"tenken/checklist"
	"tenken/storage"
)

// seedDemoRound opens the inspection round of the current fiscal year
// over the demo facilities, with every default (milestones 30 September
// and 31 December, due by the interim), so that the console and the
// tablets have a round to show. It is dated to the start of the fiscal
// year, as the bureau would have opened it, so that the milestone
// reports count the demo inspections made since April. It does nothing
// when the round exists.
func seedDemoRound(ctx context.Context, db *storage.DB, now time.Time, log *slog.Logger) error {
	fy := checklist.FiscalYear(now)
	if _, err := db.FindRound(ctx, fy); err == nil || !errors.Is(err, checklist.ENotFound) {
		return err
	}
	admin, err := demoActor(ctx, db, "admin")
	if err != nil {
		return err
	}
	opened := checklist.FiscalYearStart(fy)
	r, err := checklist.NewRound(fy, checklist.Date{}, checklist.Date{}, checklist.Date{}, admin, opened)
	if err != nil {
		return err
	}
	facilities, err := db.ListFacilities(ctx, checklist.FacilityQuery{Limit: 1000})
	if err != nil {
		return err
	}
	a, err := db.FindApplicability(ctx)
	if err != nil {
		return err
	}
	versions, err := db.AllVersions(ctx)
	if err != nil {
		return err
	}
	users, err := db.ListUsers(ctx, checklist.UserQuery{Role: checklist.RoleInspector, Limit: 1000})
	if err != nil {
		return err
	}
	as := checklist.OpenRound(r, facilities.Items, a, checklist.CurrentVersions(versions), checklist.InspectorsOf(users.Items), admin)
	if err := db.OpenRound(ctx, r, as, admin); err != nil {
		return fmt.Errorf("round %d: %w", fy, err)
	}
	log.Info("demo round opened", slog.Int("fiscal_year", fy), slog.Int("facilities", len(as)))
	return nil
}
