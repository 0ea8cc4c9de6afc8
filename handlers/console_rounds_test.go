package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tenken/checklist"
)

// assignments returns round fy's assignments by facility id, as stored.
func (e *consoleEnv) assignments(t *testing.T, fy int) map[string]checklist.Assignment {
	t.Helper()
	as, err := e.db.RoundAssignments(context.Background(), fy)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]checklist.Assignment{}
	for _, a := range as {
		out[a.FacilityID] = a
	}
	return out
}

// dues returns round fy's due date by facility id, as stored.
func (e *consoleEnv) dues(t *testing.T, fy int) map[string]string {
	t.Helper()
	as, err := e.db.RoundAssignments(context.Background(), fy)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range as {
		out[a.FacilityID] = a.Due.String()
	}
	return out
}

// The round page through the real router: an admin opens the round and
// moves due dates one by one and in bulk, sets inspectors in bulk and
// changes a facility's checklist version; a reviewer reads the coverage
// but has no forms and is refused on POST; bad input and a stale
// revision are shown on the page with nothing written; a form without
// the CSRF token is refused.
func TestConsoleRounds(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	ctx := context.Background()
	fy := checklist.FiscalYear(e.clk.Now())
	base := e.srv.URL + "/console/rounds"
	write := func(what string) string { return fmt.Sprintf("%s/%d/%s", base, fy, what) }
	admin, reviewer := e.browserClient(t), e.browserClient(t)
	tokA := e.signIn(t, admin, e.newUser(checklist.RoleAdmin).Username)
	tokR := e.signIn(t, reviewer, e.reviewerUser.Username)
	noRound := func(t *testing.T) {
		t.Helper()
		if _, err := e.db.FindRound(ctx, fy); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("a round exists: %v", err)
		}
	}

	// The test checklist applies to every facility, so the round assigns
	// its version 1.
	cur, err := e.db.FindApplicability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SetApplicability(ctx, checklist.Applicability{Default: testChecklistID}, cur.Revision, checklist.SystemActor); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrReviewerCannotOpen", func(t *testing.T) {
		st, _, page := get(t, reviewer, base)
		if st != http.StatusOK || !strings.Contains(page, "まだ開始されていません") || strings.Contains(page, "/open\"") {
			t.Fatalf("reviewer, no round: %d, open form shown: %v", st, strings.Contains(page, "/open\""))
		}
		if st, _, _ := post(t, reviewer, write("open"), url.Values{"_csrf": {tokR}}); st != http.StatusForbidden {
			t.Errorf("reviewer opens: %d, want 403", st)
		}
		noRound(t)
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		if st, _, _ := post(t, admin, write("open"), url.Values{}); st != http.StatusForbidden {
			t.Errorf("open without CSRF: %d, want 403", st)
		}
		noRound(t)
	})
	t.Run("ErrOpenBadMilestone", func(t *testing.T) {
		st, _, page := post(t, admin, write("open"), url.Values{"_csrf": {tokA}, "interim_date": {fmt.Sprintf("%d-09-30", fy+1)}})
		if st != http.StatusUnprocessableEntity || !strings.Contains(page, "interim") || !strings.Contains(page, fmt.Sprintf(`value="%d-09-30"`, fy+1)) {
			t.Errorf("interim outside the year: %d", st)
		}
		noRound(t)
	})
	t.Run("Open", func(t *testing.T) {
		_, _, page := get(t, admin, base)
		if !strings.Contains(page, fmt.Sprintf(`action="/console/rounds/%d/open"`, fy)) {
			t.Fatal("admin sees no open form")
		}
		st, loc, _ := post(t, admin, write("open"), url.Values{"_csrf": {tokA}, "interim_date": {fmt.Sprintf("%d-09-30", fy)},
			"final_date": {fmt.Sprintf("%d-12-31", fy)}, "default_due_date": {fmt.Sprintf("%d-09-30", fy)}})
		if st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=open") {
			t.Fatalf("open: %d → %q", st, loc)
		}
		r, err := e.db.FindRound(ctx, fy)
		if err != nil || r.Status != checklist.RoundOpen {
			t.Fatalf("round after opening: %+v, %v", r, err)
		}
		if n := len(e.dues(t, fy)); n < 8 {
			t.Errorf("%d assignments, want every active facility (8)", n)
		}
	})
	t.Run("ReviewerReadsNoForms", func(t *testing.T) {
		st, _, page := get(t, reviewer, base)
		if st != http.StatusOK || !strings.Contains(page, `id="coverage"`) || !strings.Contains(page, "商工部") || !strings.Contains(page, "<svg class=\"chart\"") {
			t.Fatalf("reviewer's round page: %d", st)
		}
		if strings.Contains(page, `method="post" action="/console/rounds/`) {
			t.Error("a reviewer sees a round form")
		}
		if _, _, en := get(t, reviewer, base+"?lang=en"); !strings.Contains(en, "Coverage by department") || !strings.Contains(en, "FY") {
			t.Error("the English page")
		}
		for _, what := range []string{"bulk", "due", "status"} {
			if st, _, _ := post(t, reviewer, write(what), url.Values{"_csrf": {tokR}, "department": {"商工部"}, "due_date": {fmt.Sprintf("%d-11-30", fy)}}); st != http.StatusForbidden {
				t.Errorf("reviewer POST %s: %d, want 403", what, st)
			}
		}
	})
	dept := map[string]string{} // facility id → department
	facs, err := e.db.ListFacilities(ctx, checklist.FacilityQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facs.Items {
		dept[f.ID] = f.Department
	}
	t.Run("BulkByDepartment", func(t *testing.T) {
		before := e.dues(t, fy)
		due := fmt.Sprintf("%d-11-30", fy)
		st, loc, _ := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "due_date": {due}})
		if st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=bulk") {
			t.Fatalf("bulk: %d → %q", st, loc)
		}
		moved := 0
		for id, d := range e.dues(t, fy) {
			switch {
			case dept[id] == "商工部" && d != due:
				t.Errorf("%s of 商工部 due %s, want %s", id, d, due)
			case dept[id] != "商工部" && d != before[id]:
				t.Errorf("%s of %s moved to %s", id, dept[id], d)
			case dept[id] == "商工部":
				moved++
			}
		}
		_, _, page := get(t, admin, base+"?department="+url.QueryEscape("商工部"))
		if n := strings.Count(page, `type="date" value="`+due+`"`); moved == 0 || n != moved {
			t.Errorf("the table shows %d rows due %s, want %d", n, due, moved)
		}
		if !strings.Contains(page, "割当を一括変更しました") && !strings.Contains(loc, "done=bulk") {
			t.Error("no notice")
		}
	})
	var shoko []string // the facilities of 商工部
	for id, d := range dept {
		if d == "商工部" {
			shoko = append(shoko, id)
		}
	}
	insp := e.newUser(checklist.RoleInspector, shoko...)
	t.Run("BulkSetAndClearInspectors", func(t *testing.T) {
		before := e.assignments(t, fy)
		_, _, page := get(t, admin, base)
		if !strings.Contains(page, `name="inspectors" value="set"`) || !strings.Contains(page, `<option value="`+insp.ID+`"`) {
			t.Fatal("the bulk form has no inspector choice, or not the new inspector")
		}
		st, loc, _ := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "inspectors": {"set"}, "inspector_ids": {insp.ID}})
		if st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=bulk") {
			t.Fatalf("bulk set inspectors: %d → %q", st, loc)
		}
		for id, a := range e.assignments(t, fy) {
			switch {
			case dept[id] == "商工部" && fmt.Sprint(a.Inspectors) != fmt.Sprint([]string{insp.ID}):
				t.Errorf("%s of 商工部 has inspectors %v, want [%s]", id, a.Inspectors, insp.ID)
			case dept[id] != "商工部" && fmt.Sprint(a.Inspectors) != fmt.Sprint(before[id].Inspectors):
				t.Errorf("%s of %s: inspectors %v → %v", id, dept[id], before[id].Inspectors, a.Inspectors)
			case a.Due != before[id].Due:
				t.Errorf("%s: due %s → %s with no due date given", id, before[id].Due, a.Due)
			}
		}
		// Leave unchanged (the default) keeps them.
		due := fmt.Sprintf("%d-11-25", fy)
		if st, _, _ := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "inspectors": {"keep"}, "inspector_ids": {e.inspectorID}, "due_date": {due}}); st != http.StatusSeeOther {
			t.Fatalf("bulk due, inspectors kept: %d", st)
		}
		for _, id := range shoko {
			if a := e.assignments(t, fy)[id]; a.Due.String() != due || fmt.Sprint(a.Inspectors) != fmt.Sprint([]string{insp.ID}) {
				t.Errorf("%s after keep: due %s, inspectors %v", id, a.Due, a.Inspectors)
			}
		}
		if st, _, _ := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "inspectors": {"clear"}}); st != http.StatusSeeOther {
			t.Fatalf("bulk clear: %d", st)
		}
		for _, id := range shoko {
			if a := e.assignments(t, fy)[id]; len(a.Inspectors) != 0 {
				t.Errorf("%s after clear: inspectors %v", id, a.Inspectors)
			}
		}
	})
	t.Run("ErrBulkInspectorNotBound", func(t *testing.T) {
		before := e.assignments(t, fy)
		// e.inspectorID is bound to OWN-1 only, none of 商工部.
		st, _, page := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "inspectors": {"set"},
			"inspector_ids": {insp.ID, e.inspectorID}})
		if st != http.StatusUnprocessableEntity || !strings.Contains(page, "not an enabled inspector bound to facility DEMO-") ||
			!strings.Contains(page, `role="alert"`) {
			t.Errorf("inspector not bound: %d, problem shown: %v", st, strings.Contains(page, "not an enabled inspector bound"))
		}
		if !strings.Contains(page, `value="set" checked`) || !strings.Contains(page, `<option value="`+e.inspectorID+`" selected>`) {
			t.Error("the form does not keep what was chosen")
		}
		if st, _, page := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "inspectors": {"set"}}); st != http.StatusUnprocessableEntity ||
			!strings.Contains(page, "choose at least one inspector") {
			t.Errorf("set with none chosen: %d", st)
		}
		if after := e.assignments(t, fy); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("written: %v → %v", before, after)
		}
	})
	t.Run("ChangeVersion", func(t *testing.T) {
		v, err := e.db.ChecklistVersion(ctx, testChecklistID, 1)
		if err != nil {
			t.Fatal(err)
		}
		v.Number, v.PublishedAt = 2, e.clk.Now()
		if err := e.db.PutChecklistVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		a := e.assignments(t, fy)[shoko[0]]
		if a.Version != 1 {
			t.Fatalf("assigned version %d, want 1", a.Version)
		}
		_, _, page := get(t, admin, base)
		sel := `<select id="ver-` + a.FacilityID + `" name="version"><option value="1" selected>v1</option><option value="2">v2</option></select>`
		if !strings.Contains(page, sel) {
			t.Fatal("the row has no version select of v1 (current) and v2")
		}
		form := url.Values{"_csrf": {tokA}, "facility_id": {a.FacilityID}, "revision": {strconv.FormatInt(a.Revision, 10)},
			"due_date": {a.Due.String()}, "version_was": {"1"}, "version": {"2"}}
		if st, loc, _ := post(t, admin, write("due"), form); st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=due") {
			t.Fatalf("version: %d → %q", st, loc)
		}
		if b := e.assignments(t, fy)[a.FacilityID]; b.Version != 2 || b.ChecklistID != testChecklistID || b.Due != a.Due {
			t.Fatalf("after the version change: %+v", b)
		}
		_, _, page = get(t, admin, base)
		if !strings.Contains(page, `<option value="2" selected>v2</option>`) || !strings.Contains(page, `<td class="version">v2</td>`) {
			t.Error("the page does not show version 2")
		}
		form.Set("revision", strconv.FormatInt(a.Revision+1, 10))
		form.Set("version_was", "2")
		form.Set("version", "9")
		if st, _, page := post(t, admin, write("due"), form); st != http.StatusUnprocessableEntity || !strings.Contains(page, "no published version 9") {
			t.Errorf("unknown version: %d", st)
		}
		if b := e.assignments(t, fy)[a.FacilityID]; b.Version != 2 || b.Revision != a.Revision+1 {
			t.Errorf("written by a refused version: %+v", b)
		}
	})
	t.Run("ErrBulkDueOutsideYear", func(t *testing.T) {
		before := e.dues(t, fy)
		bad := fmt.Sprintf("%d-04-15", fy+1)
		st, _, page := post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "department": {"商工部"}, "due_date": {bad}})
		if st != http.StatusUnprocessableEntity || !strings.Contains(page, "outside fiscal year") || !strings.Contains(page, `value="`+bad+`"`) {
			t.Errorf("due outside the year: %d, problem shown: %v", st, strings.Contains(page, "outside fiscal year"))
		}
		if after := e.dues(t, fy); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("written: %v → %v", before, after)
		}
		st, _, page = post(t, admin, write("bulk"), url.Values{"_csrf": {tokA}, "due_date": {fmt.Sprintf("%d-10-01", fy)}})
		if st != http.StatusUnprocessableEntity || !strings.Contains(page, "select") {
			t.Errorf("bulk without a department or kind: %d", st)
		}
	})
	t.Run("DueOneFacilityAndConflict", func(t *testing.T) {
		as, err := e.db.RoundAssignments(ctx, fy)
		if err != nil {
			t.Fatal(err)
		}
		a := as[0]
		form := url.Values{"_csrf": {tokA}, "facility_id": {a.FacilityID}, "revision": {strconv.FormatInt(a.Revision, 10)}, "due_date": {fmt.Sprintf("%d-10-15", fy)}}
		if st, loc, _ := post(t, admin, write("due"), form); st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=due") {
			t.Fatalf("due: %d → %q", st, loc)
		}
		form.Set("due_date", fmt.Sprintf("%d-10-20", fy)) // the same, stale, revision
		st, _, page := post(t, admin, write("due"), form)
		if st != http.StatusConflict || !strings.Contains(page, "revision") {
			t.Errorf("stale revision: %d", st)
		}
		if d := e.dues(t, fy)[a.FacilityID]; d != fmt.Sprintf("%d-10-15", fy) {
			t.Errorf("due %s after the conflict", d)
		}
	})
	t.Run("ExcludeAndInclude", func(t *testing.T) {
		withdrawn := func(id string) string {
			t.Helper()
			as, err := e.db.RoundAssignments(ctx, fy)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if a.FacilityID == id {
					return a.Withdrawn
				}
			}
			t.Fatalf("no assignment of %s", id)
			return ""
		}
		as, _ := e.db.RoundAssignments(ctx, fy)
		a := as[len(as)-1]
		form := url.Values{"_csrf": {tokA}, "facility_id": {a.FacilityID}, "revision": {strconv.FormatInt(a.Revision, 10)},
			"due_date": {a.Due.String()}, "excluded": {"true"}}
		if st, loc, _ := post(t, admin, write("due"), form); st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=exclude") {
			t.Fatalf("exclude: %d → %q", st, loc)
		}
		if w := withdrawn(a.FacilityID); w != checklist.WithdrawnByAdmin {
			t.Fatalf("withdrawn %q after excluding", w)
		}
		_, _, page := get(t, admin, base+"?status=withdrawn")
		if !strings.Contains(page, "管理者が除外") || !strings.Contains(page, `name="excluded" value="false"`) {
			t.Error("the excluded row is not shown with its include button")
		}
		form.Set("revision", strconv.FormatInt(a.Revision+1, 10))
		form.Set("excluded", "false")
		if st, loc, _ := post(t, admin, write("due"), form); st != http.StatusSeeOther || !strings.HasSuffix(loc, "done=include") {
			t.Fatalf("include: %d → %q", st, loc)
		}
		if w := withdrawn(a.FacilityID); w != "" {
			t.Errorf("withdrawn %q after including", w)
		}
	})
	t.Run("ReviewerDownloadsFinalXLSX", func(t *testing.T) {
		resp, err := reviewer.Get(fmt.Sprintf("%s/%d/reports/final?format=xlsx", base, fy))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.Contains(ct, "spreadsheet") {
			t.Errorf("final XLSX: %d %s", resp.StatusCode, ct)
		}
	})
	t.Run("AsOfInterimAndClose", func(t *testing.T) {
		st, _, page := get(t, reviewer, base+"?view=interim&lang=ja")
		if st != http.StatusOK || !strings.Contains(page, fmt.Sprintf("%d-09-30", fy)) {
			t.Errorf("interim view: %d", st)
		}
		// Opened today: as of a past interim the round held nothing, and says so.
		if past := e.clk.Now().After(checklist.EndOf(checklist.DefaultInterim(fy))); past != strings.Contains(page, "まだ開始されていませんでした") {
			t.Errorf("interim view before the opening: note shown %v, want %v", !past, past)
		}
		r, _ := e.db.FindRound(ctx, fy)
		st, _, _ = post(t, admin, write("status"), url.Values{"_csrf": {tokA}, "status": {"closed"}, "revision": {strconv.FormatInt(r.Revision, 10)}})
		if r2, _ := e.db.FindRound(ctx, fy); st != http.StatusSeeOther || r2.Status != checklist.RoundClosed {
			t.Errorf("close: %d, status %s", st, r2.Status)
		}
	})
}
