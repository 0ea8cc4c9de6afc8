package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"tenken/checklist"
	"tenken/handlers"
)

type countsView struct {
	Assigned        int     `json:"assigned"`
	NotStarted      int     `json:"not_started"`
	Draft           int     `json:"draft"`
	Returned        int     `json:"returned"`
	Submitted       int     `json:"submitted"`
	Approved        int     `json:"approved"`
	Overdue         int     `json:"overdue"`
	Withdrawn       int     `json:"withdrawn"`
	Added           int     `json:"added_after_opening"`
	Covered         int     `json:"covered"`
	CoveredPercent  float64 `json:"covered_percent"`
	ApprovedPercent float64 `json:"approved_percent"`
}

type roundView struct {
	FiscalYear int          `json:"fiscal_year"`
	Interim    string       `json:"interim_date"`
	Status     string       `json:"status"`
	Revision   int64        `json:"revision"`
	Coverage   coverageView `json:"coverage"`
}

type assignmentView struct {
	Facility struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"facility"`
	ChecklistID  *string  `json:"checklist_id"`
	Version      *int     `json:"version"`
	InspectorIDs []string `json:"inspector_ids"`
	DueDate      string   `json:"due_date"`
	Status       string   `json:"status"`
	Progress     string   `json:"progress"`
	Overdue      bool     `json:"overdue"`
	Added        bool     `json:"added_after_opening"`
	Withdrawn    *string  `json:"withdrawn"`
	WithdrawnAt  *string  `json:"withdrawn_at"`
	Revision     int64    `json:"revision"`
}

// roundEnv is the inspection env with a clock the test moves, shared by
// the server and the database, and four more facilities in two
// departments (the last of them a research centre, the rest public
// halls).
type roundEnv struct {
	*inspectionEnv
	d1, d2 []string // facility ids by department
}

func tokyo(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, checklist.Tokyo)
}

func newRoundEnv(t *testing.T) *roundEnv {
	t.Helper()
	// The server, its tokens and the database share one clock that starts
	// on 1 June of fiscal 2026; tokens live long enough for the test to
	// move it through the year.
	clk := &testClock{now: tokyo(time.June, 1, 9).UTC()}
	api := newTestAPIWith(t, func(c *handlers.Config) {
		c.Now = clk.Now
		c.AccessTTL = 400 * 24 * time.Hour
	})
	api.clk = clk
	api.db.Now = clk.Now
	cl := checklist.Checklist{ID: testChecklistID, Title: checklist.Text{Ja: "サービス点検"}, Draft: testChecklistContent()}
	v, err := cl.Publish(clk.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.db.PutChecklistVersion(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	cur, err := api.db.FindApplicability(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.db.SetApplicability(context.Background(), checklist.Applicability{Default: testChecklistID}, cur.Revision, checklist.SystemActor); err != nil {
		t.Fatal(err)
	}
	e := &roundEnv{inspectionEnv: &inspectionEnv{testAPI: api}}
	e.own = api.createFacility("OWN-1")
	e.other = api.createFacility("OTHER-1")
	u := api.newUser(checklist.RoleInspector, e.own)
	e.inspectorID = u.ID
	e.inspector = bearer(api.login(u.Username, testPassword).AccessToken)
	e.insp2 = bearer(api.tokenFor(checklist.RoleInspector, e.other))
	e.reviewer = bearer(api.tokenFor(checklist.RoleReviewer))
	e.admin = bearer(api.tokenFor(checklist.RoleAdmin))
	for i, dept := range []string{"産業労働局 雇用就業部", "産業労働局 雇用就業部", "産業労働局 商工部", "産業労働局 商工部"} {
		kind := checklist.KindPublicHall
		if i == 3 {
			kind = checklist.KindResearch
		}
		f, err := e.db.CreateFacility(context.Background(), checklist.Facility{Code: "BUREAU-" + strconv.Itoa(i),
			Name: checklist.FacilityName{JA: "施設", EN: "Facility"}, Kind: kind, Department: dept, Active: true},
			checklist.SystemActor)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			e.d1 = append(e.d1, f.ID)
		} else {
			e.d2 = append(e.d2, f.ID)
		}
	}
	return e
}

func (e *roundEnv) setClock(at time.Time) {
	e.clk.mu.Lock()
	e.clk.now = at.UTC()
	e.clk.mu.Unlock()
}

func (e *roundEnv) round(t *testing.T, query string) roundView {
	t.Helper()
	var v roundView
	e.request("GET", "/v1/rounds/2026"+query, nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &v)
	return v
}

func (e *roundEnv) assignment(t *testing.T, auth, facility string) assignmentView {
	t.Helper()
	var v assignmentView
	e.request("GET", "/v1/rounds/2026/assignments/"+facility, nil, auth).wantStatus(t, http.StatusOK).decode(t, &v)
	return v
}

func (e *roundEnv) assignments(t *testing.T) []assignmentView {
	t.Helper()
	var l struct {
		Items []assignmentView `json:"items"`
	}
	e.request("GET", "/v1/rounds/2026/assignments", nil, e.admin).wantStatus(t, http.StatusOK).decode(t, &l)
	return l.Items
}

func (e *roundEnv) roundCount(t *testing.T) int {
	t.Helper()
	var l struct {
		Items []roundView `json:"items"`
	}
	e.request("GET", "/v1/rounds", nil, e.admin).wantStatus(t, http.StatusOK).decode(t, &l)
	return len(l.Items)
}

func (e *roundEnv) audit(t *testing.T, query string) []auditView {
	t.Helper()
	var l struct {
		Items []auditView `json:"items"`
	}
	e.request("GET", "/v1/audit?entity=round_assignment"+query, nil, e.admin).wantStatus(t, http.StatusOK).decode(t, &l)
	return l.Items
}

// coverageView is a round's coverage as the API sends it.
type coverageView struct {
	Total       countsView `json:"total"`
	Departments []struct {
		Department string `json:"department"`
		countsView
	} `json:"departments"`
}

type roundActionView struct {
	FacilityID       string  `json:"facility_id"`
	ItemKey          string  `json:"item_key"`
	Title            string  `json:"title"`
	Status           string  `json:"status"`
	TargetFiscalYear int     `json:"target_fiscal_year"`
	DueDate          *string `json:"due_date"`
	CreatedAt        string  `json:"created_at"`
}

type roundReportView struct {
	Milestone      string           `json:"milestone"`
	MilestoneLabel string           `json:"milestone_label"`
	Date           string           `json:"date"`
	Coverage       coverageView     `json:"coverage"`
	NotInspected   []assignmentView `json:"not_inspected"`
	Overdue        []assignmentView `json:"overdue"`
	Findings       []struct {
		Facility struct {
			ID string `json:"id"`
		} `json:"facility"`
		ItemKey string `json:"item_key"`
	} `json:"findings"`
	Actions      []roundActionView `json:"actions"`
	NextYearPlan struct {
		FiscalYear      int              `json:"fiscal_year"`
		FiscalYearLabel string           `json:"fiscal_year_label"`
		PlanExportURL   string           `json:"plan_export_url"`
		CarryOver       []assignmentView `json:"carry_over"`
	} `json:"next_year_plan"`
}

// sheetRows opens sheet of workbook body and returns its rows under the
// header.
func sheetRows(t *testing.T, body []byte, sheet string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) == 0 {
		t.Fatalf("sheet %s: %v (%d rows)", sheet, err, len(rows))
	}
	return rows[1:]
}

func cells(vs ...any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		switch v := v.(type) {
		case float64:
			out[i] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

func TestRoundsAPI(t *testing.T) {
	t.Parallel()
	e := newRoundEnv(t)
	const all = 6 // own, other and the four of the bureau

	t.Run("BadInputWritesNothing", func(t *testing.T) {
		e.request("POST", "/v1/rounds", map[string]any{"fiscal_year": 2026}, e.inspector).problem(t, http.StatusForbidden, checklist.EForbidden)
		e.request("POST", "/v1/rounds", map[string]any{"fiscal_year": 2026}, e.reviewer).problem(t, http.StatusForbidden, checklist.EForbidden)
		e.request("POST", "/v1/rounds", map[string]any{"fiscal_year": 2026, "color": "red"}, e.admin).problem(t, http.StatusBadRequest, checklist.EBadRequest)
		for name, tc := range map[string]struct {
			body  map[string]any
			field string
		}{
			"due outside the year":     {map[string]any{"fiscal_year": 2026, "default_due_date": "2027-04-01"}, "default_due_date"},
			"interim outside the year": {map[string]any{"fiscal_year": 2026, "interim_date": "2026-03-31", "default_due_date": "2026-09-30"}, "interim_date"},
			"unknown facility": {map[string]any{"fiscal_year": 2026,
				"assignments": []map[string]any{{"facility_id": "no-such-facility"}}}, "assignments[0].facility_id"},
			"facility due outside": {map[string]any{"fiscal_year": 2026,
				"assignments": []map[string]any{{"facility_id": e.own, "due_date": "2025-12-01"}}}, "assignments[0].due_date"},
			"inspector not bound": {map[string]any{"fiscal_year": 2026,
				"assignments": []map[string]any{{"facility_id": e.other, "inspector_ids": []string{e.inspectorID}}}}, "assignments[0].inspector_ids[0]"},
		} {
			p := e.request("POST", "/v1/rounds", tc.body, e.admin).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
			if !hasField(p.Errors, tc.field) {
				t.Errorf("%s: errors %+v do not name %s", name, p.Errors, tc.field)
			}
		}
		if n := e.roundCount(t); n != 0 {
			t.Fatalf("%d rounds after refused openings", n)
		}
		e.request("GET", "/v1/rounds/2026", nil, e.reviewer).problem(t, http.StatusNotFound, checklist.ENotFound)
	})

	t.Run("Open", func(t *testing.T) {
		var v roundView
		r := e.request("POST", "/v1/rounds", map[string]any{"fiscal_year": 2026,
			"assignments": []map[string]any{{"facility_id": e.d2[1], "due_date": "2026-10-31"}}}, e.admin)
		r.wantStatus(t, http.StatusCreated).decode(t, &v)
		if r.Header.Get("Location") != "/v1/rounds/2026" || v.Interim != "2026-09-30" || v.Status != "open" {
			t.Fatalf("opened: %s", r.Body)
		}
		if c := v.Coverage.Total; c.Assigned != all || c.NotStarted != all || c.Covered != 0 {
			t.Fatalf("coverage: %+v", c)
		}
		a := e.assignment(t, e.admin, e.own)
		if a.ChecklistID == nil || *a.ChecklistID != testChecklistID || a.Version == nil || *a.Version != 1 ||
			len(a.InspectorIDs) != 1 || a.InspectorIDs[0] != e.inspectorID || a.DueDate != "2026-09-30" || a.Status != "not_started" {
			t.Fatalf("own assignment: %+v", a)
		}
		if a := e.assignment(t, e.admin, e.d2[1]); a.DueDate != "2026-10-31" {
			t.Fatalf("override at opening: %+v", a)
		}
		// A second opening of the year is refused and changes nothing.
		e.request("POST", "/v1/rounds", map[string]any{"fiscal_year": 2026, "default_due_date": "2026-12-01"}, e.admin).
			problem(t, http.StatusConflict, checklist.EConflict)
		if a := e.assignment(t, e.admin, e.own); a.DueDate != "2026-09-30" {
			t.Fatalf("refused opening changed the due date: %+v", a)
		}
	})

	t.Run("InspectorSeesOnlyTheirs", func(t *testing.T) {
		var l struct {
			Items []assignmentView `json:"items"`
		}
		e.request("GET", "/v1/rounds/2026/assignments", nil, e.inspector).wantStatus(t, http.StatusOK).decode(t, &l)
		if len(l.Items) != 1 || l.Items[0].Facility.ID != e.own {
			t.Fatalf("inspector's list: %+v", l.Items)
		}
		e.request("GET", "/v1/rounds/2026/assignments/"+e.other, nil, e.inspector).problem(t, http.StatusNotFound, checklist.ENotFound)
		e.request("GET", "/v1/rounds/2026", nil, e.inspector).problem(t, http.StatusForbidden, checklist.EForbidden)
		e.request("PATCH", "/v1/rounds/2026/assignments/"+e.own, map[string]any{"revision": 1, "due_date": "2026-12-01"}, e.inspector).
			problem(t, http.StatusForbidden, checklist.EForbidden)
		e.request("GET", "/v1/rounds/2026/assignments", nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &l)
		if len(l.Items) != all {
			t.Fatalf("reviewer sees %d assignments, want %d", len(l.Items), all)
		}
		// The tablet's manifest lists the inspector's own, by due date.
		var m struct {
			Assignments []assignmentView `json:"assignments"`
		}
		e.request("GET", "/v1/checklists/manifest", nil, e.inspector).wantStatus(t, http.StatusOK).decode(t, &m)
		if len(m.Assignments) != 1 || m.Assignments[0].Facility.ID != e.own || m.Assignments[0].DueDate != "2026-09-30" {
			t.Fatalf("manifest assignments: %+v", m.Assignments)
		}
		var s struct {
			Assignments []assignmentView `json:"assignments"`
		}
		e.request("GET", "/v1/sync", nil, e.insp2).wantStatus(t, http.StatusOK).decode(t, &s)
		if len(s.Assignments) != 1 || s.Assignments[0].Facility.ID != e.other {
			t.Fatalf("sync assignments: %+v", s.Assignments)
		}
	})

	// The own facility's inspection goes through its lifecycle, one day a
	// step; the coverage follows.
	id := uuid.NewString()
	step := func(t *testing.T, day int, do func(), progress string, covered int) {
		t.Helper()
		e.setClock(tokyo(time.June, day, 10))
		do()
		if a := e.assignment(t, e.inspector, e.own); a.Progress != progress || a.Status != progress {
			t.Fatalf("June %d: own assignment %+v, want %s", day, a, progress)
		}
		if c := e.round(t, "").Coverage.Total; c.Covered != covered {
			t.Fatalf("June %d: covered %d, want %d (%+v)", day, c.Covered, covered, c)
		}
	}
	t.Run("CoverageFollowsTheLifecycle", func(t *testing.T) {
		step(t, 2, func() {
			e.request("PUT", "/v1/inspections/"+id, e.createBody(e.own), e.inspector).wantStatus(t, http.StatusCreated)
			e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, http.StatusOK)
		}, "draft", 0)
		step(t, 3, func() { e.act(e.inspector, id, "submit", nil).wantStatus(t, http.StatusOK) }, "submitted", 1)
		step(t, 4, func() {
			e.act(e.reviewer, id, "return", map[string]any{"comment": "写真を追加してください"}).wantStatus(t, http.StatusOK)
		}, "returned", 0)
		step(t, 5, func() { e.act(e.inspector, id, "resubmit", nil).wantStatus(t, http.StatusOK) }, "submitted", 1)
		if c := e.round(t, "").Coverage.Total; c.Submitted != 1 || c.Approved != 0 || c.Overdue != 0 {
			t.Fatalf("before the due date: %+v", c)
		}
	})

	t.Run("MoveDueDate", func(t *testing.T) {
		a := e.assignment(t, e.admin, e.other)
		path := "/v1/rounds/2026/assignments/" + e.other
		e.request("PATCH", path, map[string]any{"revision": a.Revision, "due_date": "2027-04-01"}, e.admin).
			problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		e.request("PATCH", path, map[string]any{"revision": a.Revision + 1, "due_date": "2026-11-30"}, e.admin).
			problem(t, http.StatusConflict, checklist.ERevision)
		e.request("PATCH", "/v1/rounds/2026/assignments/no-such-facility", map[string]any{"revision": 1, "due_date": "2026-11-30"}, e.admin).
			problem(t, http.StatusNotFound, checklist.ENotFound)
		var moved assignmentView
		e.request("PATCH", path, map[string]any{"revision": a.Revision, "due_date": "2026-11-30"}, e.admin).
			wantStatus(t, http.StatusOK).decode(t, &moved)
		if moved.DueDate != "2026-11-30" || moved.Revision != a.Revision+1 {
			t.Fatalf("moved: %+v", moved)
		}
		var audit struct {
			Items []checklist.AuditEntry `json:"items"`
		}
		e.request("GET", "/v1/audit?entity=round_assignment", nil, e.admin).wantStatus(t, http.StatusOK).decode(t, &audit)
		if len(audit.Items) != 1 {
			t.Fatalf("audit of the move: %s", e.request("GET", "/v1/audit?entity=round_assignment", nil, e.admin).Body)
		}
	})

	t.Run("BulkByKind", func(t *testing.T) {
		e.request("POST", "/v1/rounds/2026/assignments/bulk", map[string]any{"select": map[string]any{"kind": "castle"}, "due_date": "2026-12-01"}, e.admin).
			problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		var res struct {
			Changed     int              `json:"changed"`
			Assignments []assignmentView `json:"assignments"`
		}
		e.request("POST", "/v1/rounds/2026/assignments/bulk", map[string]any{"select": map[string]any{"kind": "research"},
			"due_date": "2026-12-01"}, e.admin).wantStatus(t, http.StatusOK).decode(t, &res)
		if res.Changed != 1 || len(res.Assignments) != 1 || res.Assignments[0].Facility.ID != e.d2[1] || res.Assignments[0].DueDate != "2026-12-01" {
			t.Fatalf("bulk by kind: %+v", res)
		}
		if a := e.assignment(t, e.admin, e.d2[0]); a.DueDate != "2026-09-30" {
			t.Fatalf("a public hall moved with the research centres: %+v", a)
		}
	})

	t.Run("BulkSetsInspectors", func(t *testing.T) {
		u := e.newUser(checklist.RoleInspector, e.d2[0], e.d2[1])
		bulk := func(sel map[string]any, ids ...string) response {
			if ids == nil {
				ids = []string{} // clear them
			}
			return e.request("POST", "/v1/rounds/2026/assignments/bulk", map[string]any{"select": sel, "inspector_ids": ids}, e.admin)
		}
		// The PATCH rule, for every facility picked: the own facility's
		// inspector is bound to neither of the department's.
		p := bulk(map[string]any{"department": "産業労働局 商工部"}, u.ID, e.inspectorID).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		if len(p.Errors) != 1 || p.Errors[0].Field != "inspector_ids[1]" {
			t.Fatalf("errors %+v, want inspector_ids[1] only", p.Errors)
		}
		if a := e.assignment(t, e.admin, e.d2[0]); len(a.InspectorIDs) != 0 {
			t.Fatalf("refused bulk change wrote: %+v", a)
		}
		var res struct {
			Changed int `json:"changed"`
		}
		bulk(map[string]any{"department": "産業労働局 商工部"}, u.ID).wantStatus(t, http.StatusOK).decode(t, &res)
		for _, id := range e.d2 {
			if a := e.assignment(t, e.admin, id); res.Changed != 2 || !slices.Equal(a.InspectorIDs, []string{u.ID}) {
				t.Fatalf("changed %d; %+v", res.Changed, a)
			}
		}
		// Department and kind must both match: only the public hall is cleared.
		bulk(map[string]any{"department": "産業労働局 商工部", "kind": "public_hall"}).wantStatus(t, http.StatusOK).decode(t, &res)
		if a, b := e.assignment(t, e.admin, e.d2[0]), e.assignment(t, e.admin, e.d2[1]); res.Changed != 1 || len(a.InspectorIDs) != 0 || len(b.InspectorIDs) != 1 {
			t.Fatalf("changed %d; cleared %+v, kept %+v", res.Changed, a, b)
		}
	})

	t.Run("BulkByDepartment", func(t *testing.T) {
		e.request("POST", "/v1/rounds/2026/assignments/bulk", map[string]any{"select": map[string]any{}, "due_date": "2026-12-01"}, e.admin).
			problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		e.request("POST", "/v1/rounds/2026/assignments/bulk", map[string]any{"select": map[string]any{"department": "産業労働局 商工部"},
			"due_date": "2027-05-01"}, e.admin).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		if a := e.assignment(t, e.admin, e.d2[0]); a.DueDate != "2026-09-30" {
			t.Fatalf("refused bulk change wrote: %+v", a)
		}
		var res struct {
			Changed int `json:"changed"`
		}
		e.request("POST", "/v1/rounds/2026/assignments/bulk", map[string]any{"select": map[string]any{"department": "産業労働局 商工部"},
			"due_date": "2026-12-15"}, e.admin).wantStatus(t, http.StatusOK).decode(t, &res)
		if res.Changed != 2 {
			t.Fatalf("changed %d, want the department's 2", res.Changed)
		}
		if a := e.assignment(t, e.admin, e.d2[1]); a.DueDate != "2026-12-15" {
			t.Fatalf("bulk: %+v", a)
		}
	})

	t.Run("FacilityDeactivatedAndAddedMidYear", func(t *testing.T) {
		e.setClock(tokyo(time.July, 1, 10))
		f, err := e.db.FindFacility(context.Background(), e.d1[0])
		if err != nil {
			t.Fatal(err)
		}
		e.request("PATCH", "/v1/facilities/"+f.ID, map[string]any{"revision": f.Revision, "active": false}, e.admin).wantStatus(t, http.StatusOK)
		e.setClock(tokyo(time.August, 1, 10))
		e.createFacility("NEW-1")
		c := e.round(t, "").Coverage.Total
		if c.Assigned != all || c.Withdrawn != 1 || c.Added != 1 {
			t.Fatalf("after mid-year changes: %+v", c)
		}
		a := e.assignment(t, e.admin, e.d1[0])
		if a.Status != "withdrawn" || a.Withdrawn == nil || *a.Withdrawn != "facility_deactivated" || a.WithdrawnAt == nil {
			t.Fatalf("deactivated facility: %+v", a)
		}
		// In June the facility was still in the round and the new one not yet.
		if c := e.round(t, "?at=2026-06-15").Coverage.Total; c.Assigned != all || c.Withdrawn != 0 || c.Added != 0 {
			t.Fatalf("as of June 15: %+v", c)
		}
		// Both are in the audit trail, in the system's name.
		got := map[string]string{}
		for _, x := range e.audit(t, "&actor=system") {
			got[x.FacilityID] = x.Action
			if x.ActorID != "system" {
				t.Errorf("entry of %s by %s", x.FacilityID, x.ActorID)
			}
		}
		newID := ""
		for _, a := range e.assignments(t) {
			if a.Facility.Code == "NEW-1" {
				newID = a.Facility.ID
			}
		}
		if len(got) != 2 || got[e.d1[0]] != checklist.AuditWithdraw || got[newID] != "create" {
			t.Fatalf("system entries: %v", got)
		}
	})

	t.Run("ActionFromAFinding", func(t *testing.T) {
		e.request("POST", "/v1/actions", map[string]any{"title": "チラシ棚を補充する", "facility_id": e.own, "item_key": "flyers.rack",
			"target_fiscal_year": 2026, "due_date": "2026-11-30", "source_inspection_id": id}, e.reviewer).wantStatus(t, http.StatusCreated)
	})

	t.Run("OverdueAndAsOf", func(t *testing.T) {
		e.setClock(tokyo(time.September, 30, 23))
		if c := e.round(t, "").Coverage.Total; c.Overdue != 0 {
			t.Fatalf("on the due date itself: %+v", c)
		}
		e.setClock(tokyo(time.October, 1, 0))
		// Due 30 September: own (submitted, not approved), d1[1] and NEW-1; other
		// moved to November, d2 to December, d1[0] withdrawn.
		if c := e.round(t, "").Coverage.Total; c.Overdue != 3 {
			t.Fatalf("after the due date: %+v", c)
		}
		if a := e.assignment(t, e.inspector, e.own); a.Status != "overdue" || a.Progress != "submitted" {
			t.Fatalf("own after due: %+v", a)
		}
		e.setClock(tokyo(time.October, 5, 10))
		e.act(e.reviewer, id, "approve", nil).wantStatus(t, http.StatusOK)
		v := e.round(t, "")
		now := v.Coverage.Total
		if now.Approved != 1 || now.Overdue != 2 {
			t.Fatalf("after approval: %+v", now)
		}
		// One of six in the round is approved; in the department of the own
		// facility (no department: own, other, NEW-1) one of three.
		if now.CoveredPercent != 16.7 || now.ApprovedPercent != 16.7 {
			t.Fatalf("percentages now: %+v", now)
		}
		pct := map[string][2]float64{}
		for _, d := range v.Coverage.Departments {
			pct[d.Department] = [2]float64{d.CoveredPercent, d.ApprovedPercent}
		}
		if len(pct) != 3 || pct[""] != [2]float64{33.3, 33.3} || pct["産業労働局 商工部"] != [2]float64{0, 0} || pct["産業労働局 雇用就業部"] != [2]float64{0, 0} {
			t.Fatalf("department percentages: %v", pct)
		}
		// What the interim report said on 30 September, read in October.
		interim := e.round(t, "?as_of=interim").Coverage.Total
		if interim.Approved != 0 || interim.Submitted != 1 || interim.Overdue != 3 {
			t.Fatalf("as of the interim: %+v", interim)
		}
		if interim.CoveredPercent != 16.7 || interim.ApprovedPercent != 0 {
			t.Fatalf("percentages as of the interim: %+v", interim)
		}
		for at, want := range map[string]string{"2026-06-02": "draft", "2026-06-03": "submitted", "2026-06-04": "returned", "2026-06-01": "not_started"} {
			var a assignmentView
			e.request("GET", "/v1/rounds/2026/assignments/"+e.own+"?at="+at, nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &a)
			if a.Progress != want {
				t.Errorf("own at %s: %s, want %s", at, a.Progress, want)
			}
		}
		e.request("GET", "/v1/rounds/2026?at=2026-13-01", nil, e.reviewer).problem(t, http.StatusBadRequest, checklist.EBadRequest)
		e.request("GET", "/v1/rounds/2026?as_of=someday", nil, e.reviewer).problem(t, http.StatusBadRequest, checklist.EBadRequest)
	})

	t.Run("InterimReportXLSXEqualsJSON", func(t *testing.T) {
		var j struct {
			MilestoneLabel string `json:"milestone_label"`
			Coverage       struct {
				Total countsView `json:"total"`
			} `json:"coverage"`
			NotInspected []assignmentView `json:"not_inspected"`
			Overdue      []assignmentView `json:"overdue"`
			Findings     []any            `json:"findings"`
		}
		e.request("GET", "/v1/rounds/2026/reports/interim", nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &j)
		if j.MilestoneLabel != "中間報告" || j.Coverage.Total.Submitted != 1 || len(j.Overdue) != 3 || len(j.NotInspected) != all-1 {
			t.Fatalf("interim JSON: %+v", j)
		}
		r := e.request("GET", "/v1/rounds/2026/reports/interim?format=xlsx", nil, e.reviewer).wantStatus(t, http.StatusOK)
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("the workbook does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows(handlers.SheetRoundSummary)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, row := range rows {
			if len(row) == 2 {
				got[row[0]] = row[1]
			}
		}
		c := j.Coverage.Total
		for label, want := range map[string]int{"対象施設数": c.Assigned, "点検済み（提出・承認）": c.Covered, "承認済み": c.Approved,
			"提出済み（審査待ち）": c.Submitted, "未着手": c.NotStarted, "期限超過": c.Overdue, "対象外（廃止・除外）": c.Withdrawn,
			"指摘事項件数": len(j.Findings)} {
			if got[label] != strconv.Itoa(want) {
				t.Errorf("%s: workbook %q, JSON %d", label, got[label], want)
			}
		}
		if got["点検年度"] != "2026（令和8年度）" || got["報告"] != "中間報告" {
			t.Errorf("labels: %v", got)
		}
		for sheet, n := range map[string]int{handlers.SheetRoundPending: len(j.NotInspected), handlers.SheetRoundOverdue: len(j.Overdue)} {
			rows, err := f.GetRows(sheet)
			if err != nil || len(rows)-1 != n {
				t.Errorf("sheet %s: %d rows, JSON %d (%v)", sheet, len(rows)-1, n, err)
			}
		}
		// The department and action sheets, row by row.
		var full roundReportView
		e.request("GET", "/v1/rounds/2026/reports/interim", nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &full)
		var want [][]string
		for _, d := range full.Coverage.Departments {
			name := d.Department
			if name == "" {
				name = "（部局未設定）"
			}
			want = append(want, cells(name, d.Assigned, d.NotStarted, d.Draft, d.Returned, d.Submitted, d.Approved, d.Overdue, d.CoveredPercent, d.ApprovedPercent))
		}
		if got := sheetRows(t, r.Body, handlers.SheetRoundDepartments); len(want) != 3 || !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("部局別進捗:\n%v\nJSON:\n%v", got, want)
		}
		want = nil
		for _, a := range full.Actions {
			created, err := time.Parse(time.RFC3339, a.CreatedAt)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, cells(a.FacilityID, a.ItemKey, a.Title, a.Status, checklist.FiscalYearLabel(a.TargetFiscalYear), *a.DueDate,
				checklist.DateOf(created).String()))
		}
		if got := sheetRows(t, r.Body, handlers.SheetRoundActions); len(want) != 1 || !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("改善措置:\n%v\nJSON:\n%v", got, want)
		}
		if len(full.NextYearPlan.CarryOver) != 0 {
			t.Errorf("the interim report carries over %+v", full.NextYearPlan.CarryOver)
		}
		e.request("GET", "/v1/rounds/2026/reports/midyear", nil, e.reviewer).problem(t, http.StatusBadRequest, checklist.EBadRequest)
		e.request("GET", "/v1/rounds/2026/reports/interim", nil, e.inspector).problem(t, http.StatusForbidden, checklist.EForbidden)
	})

	t.Run("CachedReportFollowsWrites", func(t *testing.T) {
		overdue := func() int {
			var j struct {
				Overdue []assignmentView `json:"overdue"`
			}
			r := e.request("GET", "/v1/rounds/2026/reports/interim", nil, e.reviewer).wantStatus(t, http.StatusOK)
			r.decode(t, &j)
			e.request("GET", "/v1/rounds/2026/reports/interim", nil, e.reviewer, "If-None-Match: "+r.Header.Get("ETag")).
				wantStatus(t, http.StatusNotModified)
			return len(j.Overdue)
		}
		before := overdue()
		a := e.assignment(t, e.admin, e.d1[1])
		e.request("PATCH", "/v1/rounds/2026/assignments/"+e.d1[1], map[string]any{"revision": a.Revision, "due_date": "2026-12-20"}, e.admin).
			wantStatus(t, http.StatusOK)
		// Reports as of a past milestone use today's due dates (docs/rounds.md).
		if after := overdue(); after != before-1 {
			t.Fatalf("overdue %d after moving a due date, was %d", after, before)
		}
	})

	t.Run("ChecklistVersion", func(t *testing.T) {
		ctx := context.Background()
		v, err := e.db.ChecklistVersion(ctx, testChecklistID, 1)
		if err != nil {
			t.Fatal(err)
		}
		v.Number, v.PublishedAt = 2, e.clk.Now()
		if err := e.db.PutChecklistVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		path := "/v1/rounds/2026/assignments/" + e.other
		a := e.assignment(t, e.admin, e.other)
		before := len(e.audit(t, ""))
		for name, tc := range map[string]struct {
			body  map[string]any
			field string
		}{
			"unknown version":        {map[string]any{"version": 9}, "version"},
			"another checklist":      {map[string]any{"checklist_id": "other-checklist", "version": 1}, "checklist_id"},
			"checklist, no version":  {map[string]any{"checklist_id": testChecklistID}, "version"},
			"bad version, good date": {map[string]any{"version": 9, "due_date": "2026-12-01"}, "version"},
		} {
			tc.body["revision"] = a.Revision
			p := e.request("PATCH", path, tc.body, e.admin).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
			if !hasField(p.Errors, tc.field) {
				t.Errorf("%s: errors %+v do not name %s", name, p.Errors, tc.field)
			}
		}
		if b := e.assignment(t, e.admin, e.other); b.Revision != a.Revision || *b.Version != 1 || b.DueDate != a.DueDate || len(e.audit(t, "")) != before {
			t.Fatalf("refused changes wrote: %+v", b)
		}
		var got assignmentView
		e.request("PATCH", path, map[string]any{"revision": a.Revision, "checklist_id": testChecklistID, "version": 2}, e.admin).
			wantStatus(t, http.StatusOK).decode(t, &got)
		if *got.ChecklistID != testChecklistID || *got.Version != 2 || got.Revision != a.Revision+1 {
			t.Fatalf("version overridden: %+v", got)
		}
		entries := e.audit(t, "&entity_id="+checklist.AssignmentID(2026, e.other))
		last := entries[0]
		for _, x := range entries {
			if strings.Contains(x.Summary, "version") {
				last = x
			}
		}
		if want := fmt.Sprintf(`version: "%s@1" → "%s@2"`, testChecklistID, testChecklistID); last.Summary != want || last.ActorID == "system" {
			t.Fatalf("audit of the version: %+v, want %s", entries, want)
		}
	})

	t.Run("CloseRound", func(t *testing.T) {
		v := e.round(t, "")
		e.request("PATCH", "/v1/rounds/2026", map[string]any{"revision": v.Revision, "final_date": "2027-04-01"}, e.admin).
			problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		e.request("PATCH", "/v1/rounds/2026", map[string]any{"revision": v.Revision, "status": "closed"}, e.admin).wantStatus(t, http.StatusOK)
		a := e.assignment(t, e.admin, e.other)
		e.request("PATCH", "/v1/rounds/2026/assignments/"+e.other, map[string]any{"revision": a.Revision, "due_date": "2026-12-01"}, e.admin).
			problem(t, http.StatusConflict, checklist.EConflict)
	})

	t.Run("FinalReportCarriesIntoNextYear", func(t *testing.T) {
		e.setClock(time.Date(2027, time.January, 5, 10, 0, 0, 0, checklist.Tokyo))
		var j roundReportView
		e.request("GET", "/v1/rounds/2026/reports/final", nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &j)
		c := j.Coverage.Total
		if j.Milestone != "final" || j.MilestoneLabel != "最終報告" || j.Date != "2026-12-31" {
			t.Fatalf("final report: %+v", j)
		}
		// own approved; other (due 30 Nov), BUREAU-1 (20 Dec), BUREAU-2 and -3
		// (15 Dec) and NEW-1 (30 Sep) not started and past due; BUREAU-0 withdrawn.
		if (c != countsView{Assigned: all, NotStarted: 5, Approved: 1, Overdue: 5, Withdrawn: 1, Added: 1, Covered: 1,
			CoveredPercent: 16.7, ApprovedPercent: 16.7}) {
			t.Fatalf("final coverage: %+v", c)
		}
		if len(j.NotInspected) != 5 || len(j.Overdue) != 5 || len(j.Findings) == 0 || j.Findings[0].Facility.ID != e.own ||
			len(j.Actions) != 1 || j.Actions[0].ItemKey != "flyers.rack" {
			t.Fatalf("final lists: %+v", j)
		}
		n := j.NextYearPlan
		if n.FiscalYear != 2027 || n.FiscalYearLabel != "令和9年度" || n.PlanExportURL != "/v1/reports/plan?fiscal_year=2026" {
			t.Fatalf("next year's plan: %+v", n)
		}
		var carried []string
		for _, a := range n.CarryOver {
			carried = append(carried, a.Facility.Code)
		}
		if want := []string{"BUREAU-1", "BUREAU-2", "BUREAU-3", "NEW-1", "OTHER-1"}; !slices.Equal(carried, want) {
			t.Fatalf("carried into next year %v, want %v", carried, want)
		}
		r := e.request("GET", "/v1/rounds/2026/reports/final?format=xlsx", nil, e.reviewer).wantStatus(t, http.StatusOK)
		rows := sheetRows(t, r.Body, handlers.SheetRoundCarryOver)
		if len(rows) != len(n.CarryOver) {
			t.Fatalf("次年度繰越: %d rows, JSON %d", len(rows), len(n.CarryOver))
		}
		for i, row := range rows {
			if a := n.CarryOver[i]; row[0] != a.Facility.Code || row[3] != a.DueDate || row[5] != "未点検" || row[6] != "2027（令和9年度）" {
				t.Errorf("次年度繰越 row %d: %v, JSON %+v", i, row, a)
			}
		}
	})
}
