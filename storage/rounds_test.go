package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/storage/storagetest"
)

func TestRounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	var fs []checklist.Facility
	for i := range 3 {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: fmt.Sprintf("R-%d", i), Kind: checklist.KindPublicHall, Active: true,
			Name: checklist.FacilityName{JA: "施設", EN: "Facility"}, Department: "D"}, actor("admin"))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	admin := checklist.Actor{UserID: "admin", Name: "admin", Role: checklist.RoleAdmin}
	r, err := checklist.NewRound(2026, checklist.Date{}, checklist.Date{}, checklist.Date{}, admin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	as := checklist.OpenRound(r, fs, checklist.Applicability{}, nil, nil, admin)
	if err := db.OpenRound(ctx, r, as, admin); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrDuplicateRound", func(t *testing.T) {
		// Eight openings at once: every one is refused, nothing changes.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = db.OpenRound(ctx, r, as[:1], admin) })
		}
		wg.Wait()
		for _, err := range errs {
			if checklist.ErrorCode(err) != checklist.EConflict {
				t.Fatalf("err = %v, want conflict", err)
			}
		}
		got, err := db.RoundAssignments(ctx, 2026)
		if err != nil || len(got) != 3 {
			t.Fatalf("%d assignments, %v", len(got), err)
		}
	})

	t.Run("Found", func(t *testing.T) {
		got, err := db.FindRound(ctx, 2026)
		if err != nil || got.Interim != r.Interim || got.Status != checklist.RoundOpen || got.Revision != 1 {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := db.FindRound(ctx, 2027); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("missing round: %v", err)
		}
	})

	t.Run("MoveDueIsAudited", func(t *testing.T) {
		due := checklist.Date{Year: 2026, Month: time.November, Day: 1}
		written, err := db.ChangeAssignments(ctx, 2026, admin, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
			var out []checklist.Assignment
			for _, a := range cur {
				if a.FacilityID == fs[0].ID {
					next, _, err := checklist.AssignmentChange{Due: &due}.Apply(r, a, admin, time.Now())
					if err != nil {
						return nil, err
					}
					out = append(out, next)
				}
			}
			return out, nil
		})
		if err != nil || len(written) != 1 || written[0].Revision != 2 {
			t.Fatalf("%+v %v", written, err)
		}
		entries, _, err := db.ListAudit(ctx, checklist.AuditQuery{Entity: checklist.EntityAssignment})
		if err != nil || len(entries) != 1 || entries[0].Action != checklist.AuditMoveDue || entries[0].FacilityID != fs[0].ID {
			t.Fatalf("audit: %+v %v", entries, err)
		}
		got, _ := db.RoundAssignments(ctx, 2026)
		for _, a := range got {
			if a.FacilityID == fs[0].ID && a.Due != due {
				t.Fatalf("due not stored: %+v", a)
			}
		}
	})

	t.Run("ErrStaleRevision", func(t *testing.T) {
		_, err := db.ChangeAssignments(ctx, 2026, admin, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
			a := cur[0]
			a.Revision = 7 // as if read long ago: stored revision is not 6
			return []checklist.Assignment{a}, nil
		})
		if checklist.ErrorCode(err) != checklist.ERevision {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("ConcurrentChanges", func(t *testing.T) {
		// Eight writers each move every assignment's due date at once:
		// each change lands whole, one after another — exactly eight new
		// revisions per assignment and one audit entry for each.
		before, _ := db.RoundAssignments(ctx, 2026)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				due := checklist.Date{Year: 2026, Month: time.October, Day: i + 1}
				_, errs[i] = db.ChangeAssignments(ctx, 2026, admin, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
					var out []checklist.Assignment
					for _, a := range cur {
						next, changed, err := checklist.AssignmentChange{Due: &due}.Apply(r, a, admin, time.Now())
						if err != nil {
							return nil, err
						}
						if changed {
							out = append(out, next)
						}
					}
					return out, nil
				})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		after, _ := db.RoundAssignments(ctx, 2026)
		revs := map[string]int64{}
		for _, a := range before {
			revs[a.FacilityID] = a.Revision
		}
		for _, a := range after {
			if a.Revision != revs[a.FacilityID]+8 {
				t.Errorf("%s: revision %d, want %d", a.FacilityID, a.Revision, revs[a.FacilityID]+8)
			}
		}
		entries, _, err := db.ListAudit(ctx, checklist.AuditQuery{Entity: checklist.EntityAssignment, Limit: 200})
		if err != nil || len(entries) != 1+8*len(after) {
			t.Fatalf("%d audit entries, want %d (%v)", len(entries), 1+8*len(after), err)
		}
	})

	t.Run("UpdateRound", func(t *testing.T) {
		closed := checklist.RoundClosed
		got, err := db.UpdateRound(ctx, 2026, 1, admin, func(r checklist.Round) (checklist.Round, error) {
			return checklist.RoundChange{Status: &closed}.Apply(r, admin, time.Now())
		})
		if err != nil || got.Status != closed || got.Revision != 2 {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := db.UpdateRound(ctx, 2026, 1, admin, func(r checklist.Round) (checklist.Round, error) { return r, nil }); checklist.ErrorCode(err) != checklist.ERevision {
			t.Fatalf("stale: %v", err)
		}
		rounds, err := db.ListRounds(ctx)
		if err != nil || len(rounds) != 1 {
			t.Fatalf("%+v %v", rounds, err)
		}
	})
}
