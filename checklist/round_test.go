package checklist

import (
	"testing"
	"time"
)

func TestNewRound(t *testing.T) {
	now := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	t.Run("OK defaults", func(t *testing.T) {
		r, err := NewRound(2026, Date{}, Date{}, Date{}, Actor{UserID: "a"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if r.Interim != (Date{2026, time.September, 30}) || r.Final != (Date{2026, time.December, 31}) || r.DefaultDue != r.Interim {
			t.Fatalf("defaults: %+v", r)
		}
	})
	for name, tc := range map[string]struct {
		interim, final, due Date
		field               string
	}{
		"ErrInterimOutside": {interim: Date{2026, time.March, 31}, due: Date{2026, time.May, 1}, field: "interim_date"},
		"ErrFinalOutside":   {final: Date{2027, time.April, 1}, field: "final_date"},
		"ErrDueOutside":     {due: Date{2025, time.December, 1}, field: "default_due_date"},
		"ErrOrder":          {interim: Date{2026, time.December, 1}, final: Date{2026, time.November, 1}, field: "final_date"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewRound(2026, tc.interim, tc.final, tc.due, Actor{}, now)
			e, ok := err.(*Error)
			if !ok || e.Code != EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
				t.Fatalf("err = %v, want one problem on %s", err, tc.field)
			}
		})
	}
	t.Run("March of the next calendar year is inside", func(t *testing.T) {
		if _, err := NewRound(2026, Date{}, Date{2027, time.March, 31}, Date{}, Actor{}, now); err != nil {
			t.Fatal(err)
		}
	})
}

func roundFixture(t *testing.T) (Round, []Facility) {
	t.Helper()
	opened := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	r, err := NewRound(2026, Date{}, Date{}, Date{}, Actor{UserID: "admin"}, opened)
	if err != nil {
		t.Fatal(err)
	}
	fs := []Facility{
		{ID: "f1", Code: "A", Department: "D1", Kind: KindPublicHall, Active: true},
		{ID: "f2", Code: "B", Department: "D1", Kind: KindResearch, Active: true},
		{ID: "f3", Code: "C", Department: "D2", Kind: KindPublicHall, Active: true},
		{ID: "f4", Code: "D", Department: "D2", Kind: KindPublicHall, Active: false},
	}
	return r, fs
}

func TestOpenRoundAndCoverage(t *testing.T) {
	r, fs := roundFixture(t)
	versions := map[string]ApplicableVersion{"default": {ChecklistID: "default", Number: 3}}
	as := OpenRound(r, fs, Applicability{Default: "default"}, versions, map[string][]string{"f1": {"u1"}}, Actor{UserID: "admin"})
	if len(as) != 3 {
		t.Fatalf("%d assignments, want the 3 active facilities", len(as))
	}
	if as[0].Version != 3 || as[0].ChecklistID != "default" || len(as[0].Inspectors) != 1 {
		t.Fatalf("assignment: %+v", as[0])
	}
	byID := map[string]Facility{}
	for _, f := range fs {
		byID[f.ID] = f
	}
	aug := time.Date(2026, 8, 1, 0, 0, 0, 0, Tokyo)
	ins := []InspectionState{
		{ID: "i1", FacilityID: "f1", FiscalYear: 2026, Status: StatusApproved},
		{ID: "i0", FacilityID: "f1", FiscalYear: 2026, Status: StatusDraft},
		{ID: "i2", FacilityID: "f2", FiscalYear: 2026, Status: StatusReturned},
		{ID: "i3", FacilityID: "f3", FiscalYear: 2025, Status: StatusApproved}, // last year: does not count
	}
	cov := ComputeCoverage(r, as, byID, ins, aug)
	if c := cov.Total; c.Assigned != 3 || c.Approved != 1 || c.Returned != 1 || c.NotStarted != 1 || c.Overdue != 0 {
		t.Fatalf("counts before the due date: %+v", c)
	}
	if cov.States[0].InspectionID != "i1" || cov.States[0].Status != AssignApproved {
		t.Fatalf("f1: %+v", cov.States[0])
	}
	// 1 October in Tokyo: the default due date (30 September) is over.
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, Tokyo)
	cov = ComputeCoverage(r, as, byID, ins, oct)
	if c := cov.Total; c.Overdue != 2 || c.Approved != 1 {
		t.Fatalf("counts after the due date: %+v", c)
	}
	if st := cov.States[1]; st.Status != AssignOverdue || st.Progress != AssignReturned {
		t.Fatalf("f2 after due: %+v", st)
	}
	// One millisecond before the end of the due date it is not overdue.
	if c := ComputeCoverage(r, as, byID, ins, oct.Add(-time.Millisecond)).Total; c.Overdue != 0 {
		t.Fatalf("overdue on the due date itself: %+v", c)
	}
	if len(cov.Departments) != 2 || cov.Departments[0].Department != "D1" || cov.Departments[0].Assigned != 2 || cov.Departments[1].Overdue != 1 {
		t.Fatalf("departments: %+v", cov.Departments)
	}
}

func TestReconcile(t *testing.T) {
	r, fs := roundFixture(t)
	as := OpenRound(r, fs, Applicability{}, nil, nil, Actor{})
	if rc := Reconcile(r, as, fs, Applicability{}, nil, nil, Actor{}); !rc.Empty() {
		t.Fatalf("nothing changed yet: %+v", rc)
	}
	later := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	fs[1].Active, fs[1].UpdatedAt = false, later                                                     // deactivated mid-year
	fs = append(fs, Facility{ID: "f5", Code: "E", Active: true, CreatedAt: later, UpdatedAt: later}) // new
	rc := Reconcile(r, as, fs, Applicability{}, nil, nil, Actor{UserID: "system"})
	if len(rc.Join) != 1 || rc.Join[0].FacilityID != "f5" || rc.Join[0].Origin != OriginAdded || !rc.Join[0].AddedAt.Equal(later) {
		t.Fatalf("join: %+v", rc.Join)
	}
	if len(rc.Withdraw) != 1 || rc.Withdraw[0].FacilityID != "f2" || rc.Withdraw[0].Withdrawn != WithdrawnDeactivated {
		t.Fatalf("withdraw: %+v", rc.Withdraw)
	}
	as = append(as, rc.Join...)
	as[1] = rc.Withdraw[0]
	byID := map[string]Facility{}
	for _, f := range fs {
		byID[f.ID] = f
	}
	// As of June, f2 was still in and f5 not yet.
	june := ComputeCoverage(r, as, byID, nil, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if c := june.Total; c.Assigned != 3 || c.Withdrawn != 0 || c.Added != 0 {
		t.Fatalf("June: %+v", c)
	}
	aug := ComputeCoverage(r, as, byID, nil, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC))
	if c := aug.Total; c.Assigned != 3 || c.Withdrawn != 1 || c.Added != 1 {
		t.Fatalf("August: %+v", c)
	}
	fs[1].Active = true
	if rc := Reconcile(r, as, fs, Applicability{}, nil, nil, Actor{}); len(rc.Rejoin) != 1 {
		t.Fatalf("reactivated facility does not rejoin: %+v", rc)
	}
	// An admin's exclusion is not undone.
	ex := true
	as[0], _, _ = AssignmentChange{Exclude: &ex}.Apply(r, as[0], Actor{}, later)
	if rc := Reconcile(r, as, fs, Applicability{}, nil, nil, Actor{}); len(rc.Rejoin) != 1 || rc.Rejoin[0].FacilityID != "f2" {
		t.Fatalf("exclusion undone: %+v", rc)
	}
}

func TestAssignmentChange(t *testing.T) {
	r, fs := roundFixture(t)
	a := OpenRound(r, fs, Applicability{}, nil, nil, Actor{})[0]
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	due := Date{2026, time.November, 15}
	next, changed, err := AssignmentChange{Due: &due}.Apply(r, a, Actor{UserID: "admin"}, now)
	if err != nil || !changed || next.Due != due || next.Revision != 2 {
		t.Fatalf("move due: %+v %v %v", next, changed, err)
	}
	if e := AssignmentAuditEntry(&a, next, Actor{}); e.Action != AuditMoveDue || e.ID != "round_assignment:2026:f1:2" {
		t.Fatalf("audit: %+v", e)
	}
	if _, changed, _ := (AssignmentChange{Due: &due}).Apply(r, next, Actor{}, now); changed {
		t.Fatal("the same due date again is a change")
	}
	bad := Date{2027, time.April, 1}
	if _, _, err := (AssignmentChange{Due: &bad}).Apply(r, a, Actor{}, now); ErrorCode(err) != EInvalid {
		t.Fatalf("due outside the year: %v", err)
	}
	v := ApplicableVersion{ChecklistID: "unified", Number: 2}
	next, changed, err = AssignmentChange{Version: &v}.Apply(r, next, Actor{UserID: "admin"}, now)
	if err != nil || !changed || next.ChecklistID != "unified" || next.Version != 2 {
		t.Fatalf("override the version: %+v %v %v", next, changed, err)
	}
	if e := AssignmentAuditEntry(&a, next, Actor{}); e.Summary != `due: "2026-09-30" → "2026-11-15"; version: "" → "unified@2"` {
		t.Fatalf("audit of the version: %s", e.Summary)
	}
	r.Status = RoundClosed
	if _, _, err := (AssignmentChange{Due: &due}).Apply(r, a, Actor{}, now); ErrorCode(err) != EConflict {
		t.Fatalf("closed round: %v", err)
	}
}

func TestInspectionAt(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC) }
	in := &Inspection{ID: "i", FacilityID: "f", FiscalYear: 2026, Status: StatusApproved,
		Created: Stamp{At: day(1)}, Updated: Stamp{At: day(20)}}
	steps := []StatusChange{{day(10), StatusSubmitted}, {day(12), StatusReturned}, {day(15), StatusSubmitted}, {day(20), StatusApproved}}
	for _, tc := range []struct {
		at   time.Time
		want Status
	}{
		{day(1).Add(-time.Second), ""},
		{day(5), StatusDraft},
		{day(11), StatusSubmitted},
		{day(13), StatusReturned},
		{day(16), StatusSubmitted},
		{day(25), StatusApproved},
	} {
		s := InspectionAt(in, steps, tc.at)
		if s.Status != tc.want {
			t.Errorf("at %v: %q, want %q", tc.at, s.Status, tc.want)
		}
	}
	if s := InspectionAt(in, steps, day(25)); !s.SubmittedAt.Equal(day(10)) || !s.ApprovedAt.Equal(day(20)) {
		t.Errorf("timestamps: %+v", s)
	}
	// Without any recorded step, an inspection unchanged since t is as it is now.
	if s := InspectionAt(in, nil, day(21)); s.Status != StatusApproved {
		t.Errorf("unchanged since: %q", s.Status)
	}
}

func TestBuildRoundReport(t *testing.T) {
	r, fs := roundFixture(t)
	as := OpenRound(r, fs, Applicability{}, nil, nil, Actor{})
	byID := map[string]Facility{}
	for _, f := range fs {
		byID[f.ID] = f
	}
	ins := []InspectionState{{ID: "i1", FacilityID: "f1", FiscalYear: 2026, Status: StatusSubmitted},
		{ID: "i2", FacilityID: "f2", FiscalYear: 2026, Status: StatusDraft}}
	end := EndOf(r.Interim)
	cov := ComputeCoverage(r, as, byID, ins, end)
	findings := []Finding{{InspectionID: "i1", FacilityID: "f1", ItemKey: "k1"}, {InspectionID: "i2", FacilityID: "f2", ItemKey: "k2"}}
	actions := []Action{
		{ID: "a1", FacilityID: "f1", ItemKey: "k1", CreatedAt: end.Add(-time.Hour)},
		{ID: "a2", FacilityID: "f1", ItemKey: "k1", CreatedAt: end.Add(time.Hour)}, // after the milestone
		{ID: "a3", FacilityID: "f2", ItemKey: "k2", CreatedAt: end.Add(-time.Hour)},
	}
	rep := BuildRoundReport(MilestoneInterim, r.Interim, cov, ins, findings, actions)
	if len(rep.Findings) != 1 || rep.Findings[0].InspectionID != "i1" {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	if len(rep.Actions) != 1 || rep.Actions[0].ID != "a1" {
		t.Fatalf("actions: %+v", rep.Actions)
	}
	// Submitted but not approved by its due date is overdue too.
	if len(rep.NotInspected) != 2 || len(rep.Overdue) != 3 {
		t.Fatalf("not inspected %d, overdue %d", len(rep.NotInspected), len(rep.Overdue))
	}
	if len(rep.CarryOver) != 0 {
		t.Fatalf("the interim report carries over %+v", rep.CarryOver)
	}
	// The final report carries into next year every facility in the round
	// not approved: f2 (draft), f3 (not started) and f1 (submitted only).
	ins = append(ins, InspectionState{ID: "i3", FacilityID: "f3", FiscalYear: 2026, Status: StatusApproved})
	cov = ComputeCoverage(r, as, byID, ins, EndOf(r.Final))
	rep = BuildRoundReport(MilestoneFinal, r.Final, cov, ins, findings, actions)
	var carried []string
	for _, st := range rep.CarryOver {
		carried = append(carried, st.FacilityID)
	}
	if len(carried) != 2 || carried[0] != "f1" || carried[1] != "f2" {
		t.Fatalf("carried over %v, want f1 (submitted) and f2 (draft)", carried)
	}
}

func TestAssignableVersion(t *testing.T) {
	hall := Facility{ID: "f1", Code: "A", Kind: KindPublicHall}
	app := Applicability{Default: "unified", Kinds: map[FacilityKind]string{KindResearch: "lab"}}
	versions := []Version{{ChecklistID: "unified", Number: 1, Retired: true}, {ChecklistID: "unified", Number: 2, ContentHash: "u2"},
		{ChecklistID: "lab", Number: 1}}
	t.Run("OK", func(t *testing.T) {
		for _, id := range []string{"", "unified"} {
			v, err := AssignableVersion(hall, app, versions, id, 2)
			if err != nil || v != (ApplicableVersion{ChecklistID: "unified", Number: 2, ContentHash: "u2"}) {
				t.Fatalf("id %q: %+v %v", id, v, err)
			}
		}
	})
	for name, tc := range map[string]struct {
		app     Applicability
		id      string
		number  int
		field   string
		problem string
	}{
		"ErrNotApplicable":  {app, "lab", 1, "checklist_id", "not_applicable"},
		"ErrRetired":        {app, "", 1, "version", "retired_version"},
		"ErrUnknownVersion": {app, "", 9, "version", "unknown_version"},
		"ErrNoChecklist":    {Applicability{}, "", 1, "version", "no_checklist"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := AssignableVersion(hall, tc.app, versions, tc.id, tc.number)
			e, ok := err.(*Error)
			if !ok || e.Code != EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Code != tc.problem {
				t.Fatalf("err = %v, want %s on %s", err, tc.problem, tc.field)
			}
		})
	}
}
