package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/checklist/demodata"
)

// simpleItem returns a yes/no item that fails on "no" and needs neither a
// comment nor a photo when it fails, nor depends on another answer.
func simpleItem(t *testing.T, c checklist.Content) string {
	t.Helper()
	for _, it := range c.Items() {
		if it.Type == checklist.TypeYesNo && it.FailRule != nil && it.FailRule.Answer == "no" &&
			!it.FailedNeedsPhoto && it.ShowIf == nil {
			return it.Key
		}
	}
	t.Fatal("the default checklist has no simple yes/no item")
	return ""
}

// inspect stores a submitted inspection of facility on date in which item
// passes or fails, through the same storage path the API takes, so that
// the actions of the facility are checked against it.
func (e *reportEnv) inspect(t *testing.T, seed uint64, facility string, date checklist.Date, item string, fails bool) *checklist.Inspection {
	t.Helper()
	ctx := context.Background()
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &e.content,
		Facilities: []string{facility}, FirstYear: 2020, Years: 1, Seed: seed})
	in, err := g.Inspection(facility, date, checklist.StatusDraft)
	if err != nil {
		t.Fatal(err)
	}
	value := "yes"
	if fails {
		value = "no"
	}
	inspector := checklist.Actor{UserID: "inspector", Role: checklist.RoleInspector}
	at := date.Time().Add(12 * time.Hour)
	if _, err := in.ApplySave(&e.content, checklist.Save{BaseRevision: in.Revision, Answers: map[string]*checklist.Answer{
		item: {Value: checklist.StringValue(value), Comment: "確認済み"}}}, inspector, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.db.CreateInspection(ctx, in, inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	w, err := e.db.UpdateInspection(ctx, in.ID, inspector, checklist.Idempotency{},
		func(in *checklist.Inspection, c *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Submit(c, inspector, now)
		})
	if err != nil {
		t.Fatal(err)
	}
	e.ins = append(e.ins, w.Inspection)
	return w.Inspection
}

type actionView struct {
	ID                   string `json:"id"`
	Status               string `json:"status"`
	Revision             int64  `json:"revision"`
	Flagged              bool   `json:"flagged"`
	VerifiedInspectionID string `json:"verified_inspection_id"`
	Interim              *struct {
		Date string `json:"date"`
		Text string `json:"text"`
	} `json:"interim_report"`
	GoodPractice *struct {
		Note string `json:"note"`
	} `json:"good_practice"`
	TargetFiscalYearLabel string `json:"target_fiscal_year_label"`
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// TestActionListPages: action lists come in pages, with the cursor every
// list uses.
func TestActionListPages(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	f := api.createFacility("PAGE-1")
	reviewer := bearer(api.tokenFor(checklist.RoleReviewer))
	var want []string
	for i := range 5 {
		var a actionView
		api.request("POST", "/v1/actions", map[string]any{"title": fmt.Sprintf("改善 %d", i), "facility_id": f, "item_key": "signage.entrance",
			"target_fiscal_year": 2026}, reviewer).wantStatus(t, http.StatusCreated).decode(t, &a)
		want = append(want, a.ID)
	}
	var got []string
	path := "/v1/actions?limit=2"
	for pages := 1; ; pages++ {
		var page struct {
			Items      []actionView `json:"items"`
			NextCursor *string      `json:"next_cursor"`
		}
		api.request("GET", path, nil, reviewer).wantStatus(t, http.StatusOK).decode(t, &page)
		if len(page.Items) > 2 || pages > 3 {
			t.Fatalf("page %d has %d items", pages, len(page.Items))
		}
		for _, a := range page.Items {
			got = append(got, a.ID)
		}
		if page.NextCursor == nil {
			break
		}
		path = "/v1/actions?limit=2&cursor=" + *page.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged through %v, want %v", got, want)
	}
	// A cursor of another list is refused.
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	api.request("GET", "/v1/actions?cursor="+*nextCursorOf(t, api, admin, "/v1/users?limit=1"), nil, reviewer).
		problem(t, http.StatusBadRequest, "bad_request")
}

func TestImprovementActionCycle(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 2, 1, 4)
	own, other := e.facilities[0].ID, e.facilities[1].ID
	item := simpleItem(t, e.content)
	today := checklist.DateOf(time.Now())
	source := e.inspect(t, 100, own, checklist.Date{Year: 2026, Month: 4, Day: 20}, item, true)
	passed := e.inspect(t, 101, other, checklist.Date{Year: 2026, Month: 4, Day: 21}, item, false)

	inspector := bearer(e.tokenFor(checklist.RoleInspector, own))
	otherInspector := bearer(e.tokenFor(checklist.RoleInspector, other))
	body := map[string]any{"title": "案内表示を更新する", "facility_id": own, "item_key": item, "owner": "庶務課",
		"target_fiscal_year": 2026, "due_date": "2027-03-31", "source_inspection_id": source.ID}

	t.Run("ErrNotAFinding", func(t *testing.T) {
		bad := map[string]any{"title": "x", "facility_id": other, "item_key": item, "target_fiscal_year": 2026, "source_inspection_id": passed.ID}
		e.request("POST", "/v1/actions", bad, e.reviewer).problem(t, http.StatusUnprocessableEntity, "invalid")
	})
	t.Run("ErrInspectorsDoNotCreate", func(t *testing.T) {
		e.request("POST", "/v1/actions", body, inspector).problem(t, http.StatusForbidden, "forbidden")
	})
	t.Run("ErrTitleRequired", func(t *testing.T) {
		b := map[string]any{"facility_id": own, "item_key": item, "target_fiscal_year": 2026}
		e.request("POST", "/v1/actions", b, e.reviewer).problem(t, http.StatusUnprocessableEntity, "invalid")
	})

	var a actionView
	e.request("POST", "/v1/actions", body, e.reviewer).wantStatus(t, http.StatusCreated).decode(t, &a)
	if a.Status != "planned" || a.Revision != 1 || a.TargetFiscalYearLabel != "令和8年度" {
		t.Fatalf("created %+v", a)
	}
	path := "/v1/actions/" + a.ID

	// Facility staff see and report on their own facility's actions only.
	e.request("GET", path, nil, inspector).wantStatus(t, http.StatusOK)
	e.request("GET", path, nil, otherInspector).problem(t, http.StatusNotFound, "not_found")
	var list struct {
		Items []actionView `json:"items"`
	}
	e.request("GET", "/v1/actions", nil, otherInspector).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another facility's inspector lists %d actions", len(list.Items))
	}
	e.request("POST", path+"/progress", map[string]any{"revision": 1, "kind": "interim", "date": "2026-09-30", "text": "x"}, otherInspector).
		problem(t, http.StatusNotFound, "not_found")

	// Interim report in September: the action is under way.
	e.request("POST", path+"/progress", map[string]any{"revision": 1, "kind": "interim", "date": "2026-09-30", "text": "掲示板を発注した"}, inspector).
		wantStatus(t, http.StatusOK).decode(t, &a)
	if a.Status != "in_progress" || a.Revision != 2 || a.Interim == nil || a.Interim.Date != "2026-09-30" {
		t.Fatalf("after the interim report: %+v", a)
	}
	// A stale revision changes nothing.
	e.request("POST", path+"/progress", map[string]any{"revision": 1, "kind": "final", "date": "2026-12-20", "text": "x"}, inspector).
		problem(t, http.StatusConflict, "revision_conflict")
	e.request("PATCH", path, map[string]any{"revision": 2, "title": "別の題"}, inspector).problem(t, http.StatusForbidden, "forbidden")
	e.request("PATCH", path, map[string]any{"revision": 2, "status": "verified"}, inspector).problem(t, http.StatusForbidden, "forbidden")
	e.request("PATCH", path, map[string]any{"revision": 2, "status": "done"}, inspector).wantStatus(t, http.StatusOK).decode(t, &a)
	e.request("POST", path+"/progress", map[string]any{"revision": a.Revision, "kind": "final", "date": "2026-12-20", "text": "設置完了"}, inspector).
		wantStatus(t, http.StatusOK).decode(t, &a)
	if a.Status != "done" {
		t.Fatalf("after done and the final report: %+v", a)
	}

	// A later inspection fails the item again: the action is flagged.
	failedAgain := e.inspect(t, 102, own, today, item, true)
	e.request("GET", path, nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &a)
	if !a.Flagged || a.Status != "done" {
		t.Fatalf("after a failing inspection: %+v", a)
	}
	// The plan shows the action beside the failed item, flagged.
	var plan struct {
		Plan []struct {
			Facility refView `json:"facility"`
			Item     string  `json:"item"`
			Action   *struct {
				ID      string `json:"id"`
				Flagged bool   `json:"flagged"`
			} `json:"action"`
		} `json:"plan"`
	}
	e.get(t, "/v1/reports/plan?format=json&fiscal_year=2026&facility_id="+own, &plan)
	found := false
	for _, r := range plan.Plan {
		if r.Item == item && r.Action != nil && r.Action.ID == a.ID && r.Action.Flagged {
			found = true
		}
	}
	if !found {
		t.Errorf("the plan of %s (latest inspection %s) does not show the flagged action", own, failedAgain.ID)
	}

	// A later inspection passes it: verified.
	verifier := e.inspect(t, 103, own, today, item, false)
	e.request("GET", path, nil, e.reviewer).wantStatus(t, http.StatusOK).decode(t, &a)
	if a.Status != "verified" || a.Flagged || a.VerifiedInspectionID != verifier.ID {
		t.Fatalf("after a passing inspection: %+v", a)
	}
	e.request("POST", path+"/progress", map[string]any{"revision": a.Revision, "kind": "final", "date": "2026-12-21", "text": "x"}, inspector).
		problem(t, http.StatusConflict, "conflict")

	// Reviewers mark it a good practice; every facility can read it.
	e.request("POST", path+"/good-practice", map[string]any{"revision": a.Revision, "good_practice": true, "note": "サインの一新"}, inspector).
		problem(t, http.StatusForbidden, "forbidden")
	e.request("POST", path+"/good-practice", map[string]any{"revision": a.Revision, "good_practice": true, "note": "サインの一新"}, e.reviewer).
		wantStatus(t, http.StatusOK).decode(t, &a)
	if a.GoodPractice == nil || a.GoodPractice.Note != "サインの一新" {
		t.Fatalf("good practice: %+v", a)
	}
	r := e.request("GET", "/v1/good-practices", nil, otherInspector).wantStatus(t, http.StatusOK)
	r.decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != a.ID {
		t.Fatalf("good practices seen by another facility: %+v", list.Items)
	}
	// Another facility sees the good-practice view only: what was done and
	// where, not who carries it out, their reports or the record's ids.
	var view struct {
		Items []map[string]any `json:"items"`
	}
	r.decode(t, &view)
	if got := sortedCopy(mapKeys(view.Items[0])); strings.Join(got, ",") != "description,facility_name,id,item_key,photos,title" ||
		view.Items[0]["description"] != "サインの一新" || view.Items[0]["facility_name"].(map[string]any)["ja"] != e.facilities[0].Name.JA {
		t.Fatalf("good-practice view %s", r.Body)
	}
	e.request("POST", "/v1/actions", map[string]any{"title": "x", "facility_id": own, "item_key": item, "target_fiscal_year": 2026, "extra": 1}, e.reviewer).
		problem(t, http.StatusBadRequest, "bad_request")
}
