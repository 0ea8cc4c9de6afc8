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
// moves due dates one by one and in bulk; a reviewer reads the coverage
// but has no forms and is refused on POST; bad input and a stale
// revision are shown on the page with nothing written; a form without
// the CSRF token is refused.
func TestConsoleRounds(t *testing.T) {
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
		if !strings.Contains(page, "期限を一括変更しました") && !strings.Contains(loc, "done=bulk") {
			t.Error("no notice")
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
