package checklist_test

import (
	"testing"
	"time"

	"tenken/checklist"
)

var (
	reviewerActor  = checklist.Actor{UserID: "r", Role: checklist.RoleReviewer}
	inspectorActor = checklist.Actor{UserID: "i", Role: checklist.RoleInspector}
)

func newTestAction(t *testing.T) checklist.Action {
	t.Helper()
	a, err := checklist.NewAction(checklist.Action{Title: "掲示物の整理", FacilityID: "f", ItemKey: "flyers.sorted",
		TargetFiscalYear: 2027, Due: checklist.Date{Year: 2028, Month: 3, Day: 31}}, reviewerActor, time.Date(2027, 4, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestActionStatusChanges(t *testing.T) {
	st := func(s checklist.ActionStatus) *checklist.ActionStatus { return &s }
	tests := []struct {
		name string
		from checklist.ActionStatus
		to   checklist.ActionStatus
		by   checklist.Actor
		code checklist.Code
	}{
		{"OK", checklist.ActionPlanned, checklist.ActionInProgress, inspectorActor, ""},
		{"OKDone", checklist.ActionInProgress, checklist.ActionDone, inspectorActor, ""},
		{"OKVerifiedByReviewer", checklist.ActionDone, checklist.ActionVerified, reviewerActor, ""},
		{"ErrInspectorVerifies", checklist.ActionDone, checklist.ActionVerified, inspectorActor, checklist.EForbidden},
		{"ErrInspectorDrops", checklist.ActionPlanned, checklist.ActionDropped, inspectorActor, checklist.EForbidden},
		{"ErrVerifiedIsFinal", checklist.ActionVerified, checklist.ActionPlanned, reviewerActor, checklist.EConflict},
		{"ErrPlannedToVerified", checklist.ActionPlanned, checklist.ActionVerified, reviewerActor, checklist.EConflict},
		{"ErrUnknownStatus", checklist.ActionPlanned, "finished", reviewerActor, checklist.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAction(t)
			a.Status = tt.from
			err := a.Apply(checklist.ActionChange{Status: st(tt.to)}, tt.by, time.Now())
			if got := checklist.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q, want %q (%v)", got, tt.code, err)
			}
			if tt.code == "" && (a.Status != tt.to || a.Revision != 2) {
				t.Fatalf("status %s revision %d", a.Status, a.Revision)
			}
			if tt.code != "" && a.Status != tt.from {
				t.Fatal("a refused change changed the action")
			}
		})
	}
}

func TestActionCheckedAgainstLaterInspections(t *testing.T) {
	inspection := func(id string, date checklist.Date, o checklist.Outcome) *checklist.Inspection {
		return &checklist.Inspection{ID: id, FacilityID: "f", Date: date, Status: checklist.StatusApproved,
			Answers: map[string]checklist.AnswerRecord{"flyers.sorted": {Outcome: o}}}
	}
	fail := checklist.Outcome{Answered: true, Failed: true, MaxPoints: 1}
	pass := checklist.Outcome{Answered: true, Points: 1, MaxPoints: 1}
	na := checklist.Outcome{Answered: true, NA: true}
	a := newTestAction(t)
	if a.CheckAgainst(inspection("old", checklist.Date{Year: 2027, Month: 4, Day: 1}, pass), time.Now()) {
		t.Fatal("an inspection before the action verified it")
	}
	if a.CheckAgainst(inspection("na", checklist.Date{Year: 2027, Month: 6, Day: 1}, na), time.Now()) {
		t.Fatal("N/A changed the action")
	}
	if !a.CheckAgainst(inspection("again", checklist.Date{Year: 2027, Month: 9, Day: 1}, fail), time.Now()) || !a.Flagged || a.Status != checklist.ActionPlanned {
		t.Fatalf("a failure again: %+v", a)
	}
	if a.CheckAgainst(inspection("again", checklist.Date{Year: 2027, Month: 9, Day: 1}, fail), time.Now()) {
		t.Fatal("the same inspection flagged twice")
	}
	if !a.CheckAgainst(inspection("fixed", checklist.Date{Year: 2027, Month: 12, Day: 1}, pass), time.Now()) ||
		a.Status != checklist.ActionVerified || a.Flagged || a.VerifiedInspectionID != "fixed" {
		t.Fatalf("a pass: %+v", a)
	}
	if a.CheckAgainst(inspection("later", checklist.Date{Year: 2028, Month: 1, Day: 1}, fail), time.Now()) {
		t.Fatal("a verified action was flagged")
	}
}

func TestPersistentProblemsNeedConsecutiveYears(t *testing.T) {
	f := checklist.Facility{ID: "f", Code: "F"}
	year := func(fy int, failed bool) *checklist.YearData {
		n := 0
		if failed {
			n = 1
		}
		return &checklist.YearData{FiscalYear: fy, Facilities: []checklist.Facility{f},
			Latest:  map[string]checklist.ReportInspection{"f": {ID: "i", FacilityID: "f"}},
			Tallies: map[string]map[string]checklist.Tally{"f": {"k": {Answered: 1, Failed: n}}}}
	}
	got := checklist.PersistentProblems([]*checklist.YearData{year(2023, true), year(2024, true), year(2026, true)}, 2)
	if len(got) != 0 {
		t.Fatalf("a gap year still made a run: %+v", got)
	}
	got = checklist.PersistentProblems([]*checklist.YearData{year(2023, true), year(2024, false), year(2025, true), year(2026, true)}, 2)
	if len(got) != 1 || got[0].Years != 2 || got[0].From != 2025 || got[0].Rank != 1 {
		t.Fatalf("run of two: %+v", got)
	}
	if l := checklist.FiscalYearLabels(2026); l != "2026（令和8年度）" {
		t.Fatalf("label %q", l)
	}
}
