package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
)

// reportEnv is an API holding generated inspections of the default
// checklist: several facilities over several fiscal years, with drafts,
// returned and discarded inspections and skipped years mixed in.
type reportEnv struct {
	*testAPI
	content    checklist.Content
	facilities []checklist.Facility
	ins        []*checklist.Inspection
	reviewer   string
	firstYear  int
	years      int
}

const defaultChecklistID = "default"

func newReportEnv(t *testing.T, facilities, years int, seed uint64) *reportEnv {
	t.Helper()
	api := newTestAPI(t)
	ctx := context.Background()
	content := checklistfile.Default()
	v, err := checklist.Publish(defaultChecklistID, content, 1, time.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	e := &reportEnv{testAPI: api, content: content, firstYear: 2026 - years + 1, years: years}
	var ids []string
	for i := range facilities {
		id := api.createFacility(fmt.Sprintf("F-%02d", i+1))
		f, err := api.db.FindFacility(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		e.facilities = append(e.facilities, f)
		ids = append(ids, id)
	}
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &content,
		Facilities: ids, FirstYear: e.firstYear, Years: years, PerYear: 2, Seed: seed, Messy: true})
	if e.ins, err = g.All(); err != nil {
		t.Fatal(err)
	}
	if err := api.db.InsertInspections(ctx, e.ins); err != nil {
		t.Fatal(err)
	}
	e.reviewer = bearer(api.tokenFor(checklist.RoleReviewer))
	return e
}

// The plain recomputation: straight from the inspections' answers, with
// none of the report code.

type plainItem struct {
	answered, failed, na bool
	points, maxPoints    float64
	comment              string
}

// latest returns each facility's latest submitted or approved inspection
// of fiscal year fy.
func (e *reportEnv) latest(fy int) map[string]*checklist.Inspection {
	m := map[string]*checklist.Inspection{}
	for _, in := range e.ins {
		if in.FiscalYear != fy || (in.Status != checklist.StatusSubmitted && in.Status != checklist.StatusApproved) {
			continue
		}
		cur := m[in.FacilityID]
		if cur == nil || in.Date.String() > cur.Date.String() ||
			in.Date == cur.Date && (in.Updated.At.After(cur.Updated.At) || in.Updated.At.Equal(cur.Updated.At) && in.ID > cur.ID) {
			m[in.FacilityID] = in
		}
	}
	return m
}

func (e *reportEnv) plain(in *checklist.Inspection) map[string]plainItem {
	m := map[string]plainItem{}
	for k, r := range in.Answers {
		m[k] = plainItem{answered: r.Outcome.Answered, failed: r.Outcome.Failed, na: r.Outcome.NA,
			points: r.Outcome.Points, maxPoints: r.Outcome.MaxPoints, comment: r.Answer.Comment}
	}
	return m
}

// failedIn reports whether facility f failed item k in fiscal year fy,
// and whether the item passed or failed at all.
func (e *reportEnv) failedIn(fy int, f, k string) (failed, known bool) {
	in := e.latest(fy)[f]
	if in == nil {
		return false, false
	}
	r, ok := in.Answers[k]
	if !ok {
		return false, false
	}
	if r.Outcome.Failed {
		return true, true
	}
	return false, r.Outcome.Answered && !r.Outcome.NA
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func pct(p, m float64) float64 {
	if m == 0 {
		return 0
	}
	return 100 * p / m
}

// get fetches a report as the reviewer and decodes it.
func (e *reportEnv) get(t *testing.T, path string, v any) response {
	t.Helper()
	r := e.request("GET", path, nil, e.reviewer).wantStatus(t, http.StatusOK)
	r.decode(t, v)
	return r
}

type refView struct {
	ID   string `json:"id"`
	Code string `json:"code"`
}

func ids(rs []refView) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

func TestFacilityItemAndSectionReportsMatchARecomputation(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 9, 3, 11)
	for fy := e.firstYear; fy < e.firstYear+e.years; fy++ {
		latest := e.latest(fy)
		if len(latest) == 0 {
			t.Fatalf("fiscal year %d has no counted inspection; the generator is not varied enough", fy)
		}

		var fr struct {
			FiscalYear      int    `json:"fiscal_year"`
			FiscalYearLabel string `json:"fiscal_year_label"`
			Inspected       int    `json:"inspected"`
			Facilities      []struct {
				Facility     refView  `json:"facility"`
				Inspected    bool     `json:"inspected"`
				InspectionID string   `json:"inspection_id"`
				Status       string   `json:"status"`
				ScorePercent float64  `json:"score_percent"`
				Failed       int      `json:"failed"`
				FailedItems  []string `json:"failed_items"`
				Sections     []struct {
					Key          string  `json:"key"`
					ScorePercent float64 `json:"score_percent"`
					Failed       int     `json:"failed"`
				} `json:"sections"`
			} `json:"facilities"`
		}
		e.get(t, fmt.Sprintf("/v1/reports/facilities?fiscal_year=%d", fy), &fr)
		if fr.FiscalYear != fy || fr.FiscalYearLabel != fmt.Sprintf("令和%d年度", fy-2018) {
			t.Errorf("header %d %q", fr.FiscalYear, fr.FiscalYearLabel)
		}
		if len(fr.Facilities) != len(e.facilities) || fr.Inspected != len(latest) {
			t.Fatalf("FY%d: %d facilities, %d inspected; want %d, %d", fy, len(fr.Facilities), fr.Inspected, len(e.facilities), len(latest))
		}
		for _, got := range fr.Facilities {
			in := latest[got.Facility.ID]
			if in == nil {
				if got.Inspected || got.Status != "not_inspected" {
					t.Errorf("FY%d %s: inspected %v status %s, want not inspected", fy, got.Facility.Code, got.Inspected, got.Status)
				}
				continue
			}
			answers := e.plain(in)
			var p, m float64
			var failed []string
			for k, a := range answers {
				p += a.points
				m += a.maxPoints
				if a.failed {
					failed = append(failed, k)
				}
			}
			if got.InspectionID != in.ID || got.Status != string(in.Status) || !near(got.ScorePercent, pct(p, m)) ||
				got.Failed != len(failed) || !slices.Equal(sortedCopy(got.FailedItems), sortedCopy(failed)) {
				t.Errorf("FY%d %s: got %s %s %.4f%% %d failed %v; want %s %s %.4f%% %d failed %v", fy, got.Facility.Code,
					got.InspectionID, got.Status, got.ScorePercent, got.Failed, got.FailedItems,
					in.ID, in.Status, pct(p, m), len(failed), failed)
			}
			if len(got.Sections) != len(e.content.Sections) {
				t.Fatalf("%d sections", len(got.Sections))
			}
			for i, s := range e.content.Sections {
				var sp, sm float64
				sf := 0
				for _, it := range s.Items {
					a := answers[it.Key]
					sp += a.points
					sm += a.maxPoints
					if a.failed {
						sf++
					}
				}
				if gs := got.Sections[i]; gs.Key != s.Key || !near(gs.ScorePercent, pct(sp, sm)) || gs.Failed != sf {
					t.Errorf("FY%d %s section %s: %.4f%% %d failed, want %.4f%% %d", fy, got.Facility.Code, s.Key, gs.ScorePercent, gs.Failed, pct(sp, sm), sf)
				}
			}
		}

		var ir struct {
			Items []struct {
				Key              string    `json:"key"`
				Section          string    `json:"section"`
				Answered         int       `json:"answered"`
				NA               int       `json:"na"`
				Failed           int       `json:"failed"`
				FailureRate      float64   `json:"failure_rate"`
				NARate           float64   `json:"na_rate"`
				FailedFacilities []refView `json:"failed_facilities"`
			} `json:"items"`
		}
		e.get(t, fmt.Sprintf("/v1/reports/items?fiscal_year=%d", fy), &ir)
		items := e.content.Items()
		if len(ir.Items) != len(items) {
			t.Fatalf("%d items, want %d", len(ir.Items), len(items))
		}
		anyFailed := false
		for i, it := range items {
			got := ir.Items[i]
			var answered, na, failed int
			var who []string
			for f, in := range latest {
				a := e.plain(in)[it.Key]
				if a.answered {
					answered++
				}
				if a.na {
					na++
				}
				if a.failed {
					failed++
					who = append(who, f)
				}
			}
			wantRate, wantNA := 0.0, 0.0
			if answered-na > 0 {
				wantRate = float64(failed) / float64(answered-na)
			}
			if answered > 0 {
				wantNA = float64(na) / float64(answered)
			}
			anyFailed = anyFailed || failed > 0
			if got.Key != it.Key || got.Answered != answered || got.NA != na || got.Failed != failed ||
				!near(got.FailureRate, wantRate) || !near(got.NARate, wantNA) || !slices.Equal(ids(got.FailedFacilities), sortedCopy(who)) {
				t.Errorf("FY%d item %s: got %+v; want answered %d na %d failed %d rate %.4f na rate %.4f by %v",
					fy, it.Key, got, answered, na, failed, wantRate, wantNA, who)
			}
		}
		if !anyFailed {
			t.Fatalf("FY%d: no item failed anywhere; the generator is not varied enough", fy)
		}

		var sr struct {
			Sections []struct {
				Key          string  `json:"key"`
				ScorePercent float64 `json:"score_percent"`
				Failed       int     `json:"failed"`
			} `json:"sections"`
		}
		e.get(t, fmt.Sprintf("/v1/reports/sections?fiscal_year=%d", fy), &sr)
		for i, s := range e.content.Sections {
			var sp, sm float64
			sf := 0
			for _, in := range latest {
				a := e.plain(in)
				for _, it := range s.Items {
					sp += a[it.Key].points
					sm += a[it.Key].maxPoints
					if a[it.Key].failed {
						sf++
					}
				}
			}
			if got := sr.Sections[i]; got.Key != s.Key || !near(got.ScorePercent, pct(sp, sm)) || got.Failed != sf {
				t.Errorf("FY%d section %s: %.4f%% %d failed; want %.4f%% %d", fy, s.Key, got.ScorePercent, got.Failed, pct(sp, sm), sf)
			}
		}
	}
}

func TestYearOverYearAndPersistentProblemsMatchARecomputation(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 8, 4, 5)
	a, b := 2025, 2026
	var yr struct {
		Facilities []struct {
			Facility     refView  `json:"facility"`
			Change       string   `json:"change"`
			Improved     []string `json:"improved"`
			StillFailing []string `json:"still_failing"`
			NewlyFailing []string `json:"newly_failing"`
		} `json:"facilities"`
		Items []struct {
			Key          string    `json:"key"`
			Change       string    `json:"change"`
			Improved     []refView `json:"improved"`
			StillFailing []refView `json:"still_failing"`
			NewlyFailing []refView `json:"newly_failing"`
		} `json:"items"`
	}
	e.get(t, fmt.Sprintf("/v1/reports/year-over-year?from=%d&to=%d", a, b), &yr)
	la, lb := e.latest(a), e.latest(b)
	classes := map[string]int{}
	itemWant := map[string]map[string][]string{} // item → class → facilities
	for _, got := range yr.Facilities {
		f := got.Facility.ID
		ia, ib := la[f], lb[f]
		want := map[string][]string{}
		wantChange := "not_compared"
		if ia != nil && ib != nil {
			score := func(in *checklist.Inspection) float64 {
				var p, m float64
				for _, r := range in.Answers {
					p += r.Outcome.Points
					m += r.Outcome.MaxPoints
				}
				return pct(p, m)
			}
			switch d := score(ib) - score(ia); {
			case d > 1e-9:
				wantChange = "improved"
			case d < -1e-9:
				wantChange = "regressed"
			default:
				wantChange = "unchanged"
			}
			for _, it := range e.content.Items() {
				fa, ka := e.failedIn(a, f, it.Key)
				fb, kb := e.failedIn(b, f, it.Key)
				class := ""
				switch {
				case fa && fb:
					class = "still_failing"
				case fa && kb && !fb:
					class = "improved"
				case ka && !fa && fb:
					class = "newly_failing"
				}
				if class != "" {
					want[class] = append(want[class], it.Key)
					if itemWant[it.Key] == nil {
						itemWant[it.Key] = map[string][]string{}
					}
					itemWant[it.Key][class] = append(itemWant[it.Key][class], f)
					classes[class]++
				}
			}
		}
		if got.Change != wantChange ||
			!slices.Equal(sortedCopy(got.Improved), sortedCopy(want["improved"])) ||
			!slices.Equal(sortedCopy(got.StillFailing), sortedCopy(want["still_failing"])) ||
			!slices.Equal(sortedCopy(got.NewlyFailing), sortedCopy(want["newly_failing"])) {
			t.Errorf("%s: got %s %v %v %v; want %s %v", got.Facility.Code, got.Change, got.Improved, got.StillFailing, got.NewlyFailing, wantChange, want)
		}
	}
	for _, c := range []string{"improved", "still_failing", "newly_failing"} {
		if classes[c] == 0 {
			t.Errorf("no %s item: the generated data does not exercise the classification", c)
		}
	}
	for _, got := range yr.Items {
		w := itemWant[got.Key]
		if !slices.Equal(ids(got.Improved), sortedCopy(w["improved"])) ||
			!slices.Equal(ids(got.StillFailing), sortedCopy(w["still_failing"])) ||
			!slices.Equal(ids(got.NewlyFailing), sortedCopy(w["newly_failing"])) {
			t.Errorf("item %s: got %v %v %v; want %v", got.Key, ids(got.Improved), ids(got.StillFailing), ids(got.NewlyFailing), w)
		}
	}

	// Persistent problems: failing at a facility in every year of a run
	// of two or more ending at the fiscal year asked for.
	var pr struct {
		Problems []struct {
			Rank     int     `json:"rank"`
			Facility refView `json:"facility"`
			Item     string  `json:"item"`
			Years    int     `json:"years"`
			From     int     `json:"from"`
		} `json:"problems"`
	}
	e.get(t, "/v1/reports/persistent-problems?fiscal_year=2026", &pr)
	want := map[string]int{}
	for _, f := range e.facilities {
		for _, it := range e.content.Items() {
			n := 0
			for fy := 2026; fy >= e.firstYear; fy-- {
				if failed, _ := e.failedIn(fy, f.ID, it.Key); !failed {
					break
				}
				n++
			}
			if n >= 2 {
				want[f.ID+"/"+it.Key] = n
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no persistent problem in the generated data")
	}
	got := map[string]int{}
	for i, p := range pr.Problems {
		got[p.Facility.ID+"/"+p.Item] = p.Years
		if p.Rank != i+1 || p.From != 2026-p.Years+1 {
			t.Errorf("problem %d: rank %d from %d", i, p.Rank, p.From)
		}
		if i > 0 && pr.Problems[i-1].Years < p.Years {
			t.Errorf("problem %d (%d years) ranks below one of %d years", i, p.Years, pr.Problems[i-1].Years)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("persistent problems:\n got %v\nwant %v", got, want)
	}
}

func TestFindingsReport(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 6, 1, 3)
	fy := 2026
	type findingsView struct {
		Findings []struct {
			Facility     refView  `json:"facility"`
			InspectionID string   `json:"inspection_id"`
			Item         string   `json:"item"`
			Section      string   `json:"section"`
			Comment      string   `json:"comment"`
			Photos       []string `json:"photos"`
		} `json:"findings"`
	}
	sectionOf := map[string]string{}
	for _, s := range e.content.Sections {
		for _, it := range s.Items {
			sectionOf[it.Key] = s.Key
		}
	}
	check := func(query string, keep func(f, item string) bool) int {
		t.Helper()
		var got findingsView
		e.get(t, fmt.Sprintf("/v1/reports/findings?fiscal_year=%d%s", fy, query), &got)
		var want []string
		for f, in := range e.latest(fy) {
			for k, r := range in.Answers {
				if r.Outcome.Failed && keep(f, k) {
					photos := map[string]bool{}
					for _, p := range r.Answer.Photos {
						photos[p] = true
					}
					for _, p := range in.PhotosOf(k) {
						photos[p.SHA256] = true
					}
					want = append(want, fmt.Sprintf("%s/%s/%s/%d", in.ID, k, r.Answer.Comment, len(photos)))
				}
			}
		}
		var have []string
		for _, g := range got.Findings {
			have = append(have, fmt.Sprintf("%s/%s/%s/%d", g.InspectionID, g.Item, g.Comment, len(g.Photos)))
			if g.Section != sectionOf[g.Item] {
				t.Errorf("finding %s: section %q", g.Item, g.Section)
			}
		}
		if !slices.Equal(sortedCopy(have), sortedCopy(want)) {
			t.Errorf("findings%s:\n got %v\nwant %v", query, have, want)
		}
		return len(want)
	}
	if n := check("", func(string, string) bool { return true }); n == 0 {
		t.Fatal("no findings generated")
	}
	f := e.facilities[0].ID
	check("&facility_id="+f, func(ff, _ string) bool { return ff == f })
	check("&section=signage", func(_, k string) bool { return sectionOf[k] == "signage" })
	check("&item=flyers.sorted_by_field&facility_id="+f, func(ff, k string) bool { return ff == f && k == "flyers.sorted_by_field" })
}

func TestReportsAreCachedByDataVersionWithETags(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 3, 1, 9)
	path := "/v1/reports/facilities?fiscal_year=2026"
	first := e.request("GET", path, nil, e.reviewer).wantStatus(t, http.StatusOK)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	e.request("GET", path, nil, e.reviewer, "If-None-Match: "+etag).wantStatus(t, http.StatusNotModified)
	again := e.request("GET", path, nil, e.reviewer).wantStatus(t, http.StatusOK)
	if again.Header.Get("ETag") != etag || !bytes.Equal(again.Body, first.Body) {
		t.Fatal("the same data gave another report")
	}
	// Another year's change leaves this year's report alone.
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &e.content,
		Facilities: []string{e.facilities[0].ID}, FirstYear: 2024, Years: 1, Seed: 1})
	older, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.InsertInspections(context.Background(), older); err != nil {
		t.Fatal(err)
	}
	e.request("GET", path, nil, e.reviewer, "If-None-Match: "+etag).wantStatus(t, http.StatusNotModified)

	// A new approved inspection of this year changes the report.
	g = demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &e.content,
		Facilities: []string{e.facilities[0].ID}, FirstYear: 2026, Years: 1, Seed: 2})
	in, err := g.Inspection(e.facilities[0].ID, checklist.Date{Year: 2026, Month: 11, Day: 20}, checklist.StatusApproved)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.InsertInspections(context.Background(), []*checklist.Inspection{in}); err != nil {
		t.Fatal(err)
	}
	r := e.request("GET", path, nil, e.reviewer, "If-None-Match: "+etag).wantStatus(t, http.StatusOK)
	if r.Header.Get("ETag") == etag {
		t.Fatal("the ETag did not change with the data")
	}
	if !strings.Contains(string(r.Body), in.ID) {
		t.Fatal("the report does not show the new latest inspection")
	}
}

func TestReportsAreForReviewersAndAdmins(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 2, 1, 1)
	insp := bearer(e.tokenFor(checklist.RoleInspector, e.facilities[0].ID))
	admin := bearer(e.tokenFor(checklist.RoleAdmin))
	for _, path := range []string{
		"/v1/reports/facilities?fiscal_year=2026", "/v1/reports/items?fiscal_year=2026",
		"/v1/reports/sections?fiscal_year=2026", "/v1/reports/year-over-year?from=2025&to=2026",
		"/v1/reports/findings?fiscal_year=2026", "/v1/reports/persistent-problems?fiscal_year=2026",
		"/v1/reports/plan?fiscal_year=2026&format=json",
	} {
		e.request("GET", path, nil, insp).problem(t, http.StatusForbidden, "forbidden")
		e.request("GET", path, nil).problem(t, http.StatusUnauthorized, "unauthorized")
		e.request("GET", path, nil, admin).wantStatus(t, http.StatusOK)
	}
	for _, path := range []string{
		"/v1/reports/facilities", "/v1/reports/items?fiscal_year=26", "/v1/reports/year-over-year?from=2026&to=2026",
		"/v1/reports/plan?fiscal_year=2026&format=pdf", "/v1/reports/persistent-problems?fiscal_year=2026&min_years=1",
	} {
		e.request("GET", path, nil, admin).problem(t, http.StatusBadRequest, "bad_request")
	}
}

func TestPlanExport(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 5, 3, 21)

	r := e.request("GET", "/v1/reports/plan?fiscal_year=2026", nil, e.reviewer).wantStatus(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "tenken-plan-FY2027.xlsx") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	x, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer x.Close()
	wantSheets := []string{"概要", "施設別結果", "項目別不適合率", "分野別結果", "継続課題", "改善計画"}
	if got := x.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets %v, want %v", got, wantSheets)
	}
	cell := func(sheet, axis string) string {
		t.Helper()
		v, err := x.GetCellValue(sheet, axis)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := cell("概要", "B3"); got != "2026（令和8年度）" {
		t.Errorf("点検年度 %q", got)
	}
	if got := cell("概要", "B4"); got != "2027（令和9年度）" {
		t.Errorf("計画年度 %q", got)
	}
	if got := cell("施設別結果", "B1"); got != "施設コード" {
		t.Errorf("header %q", got)
	}
	rows, err := x.GetRows("施設別結果")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(e.facilities) || rows[1][1] != "F-01" || rows[1][2] != "施設 F-01" {
		t.Errorf("facility rows %v", rows)
	}
	plan, _ := x.GetRows("改善計画")
	failed := 0
	for _, in := range e.latest(2026) {
		failed += in.Totals.Failed
	}
	if len(plan) != 1+failed || plan[0][0] != "優先順位" || (failed > 0 && plan[1][1] != "2027（令和9年度）") {
		t.Errorf("plan has %d rows for %d findings; first %v", len(plan), failed, plan[:min(2, len(plan))])
	}
	// Each plan row shows the inspector's comment on the failed answer.
	idOf := map[string]string{}
	for _, f := range e.facilities {
		idOf[f.Code] = f.ID
	}
	commented := 0
	for _, row := range plan[1:] {
		in := e.latest(2026)[idOf[row[2]]]
		if in == nil {
			t.Fatalf("plan row of a facility without an inspection: %v", row)
		}
		want, got := in.Answers[row[5]].Answer.Comment, ""
		if len(row) > 8 { // GetRows drops empty trailing cells
			got = row[8]
		}
		if got != want {
			t.Errorf("plan row %s %s: comment %q, want %q", row[2], row[5], got, want)
		}
		if want != "" {
			commented++
		}
	}
	if failed > 0 && commented == 0 {
		t.Error("no failed answer has a comment: the check proves nothing")
	}
	items, _ := x.GetRows("項目別不適合率")
	if len(items) != 1+len(e.content.Items()) || items[1][3] != e.content.Items()[0].Text.Ja {
		t.Errorf("items sheet: %d rows, first %v", len(items), items[1])
	}

	// CSV: UTF-8 with a BOM, Japanese headers.
	r = e.request("GET", "/v1/reports/plan?fiscal_year=2026&format=csv&table=items", nil, e.reviewer).wantStatus(t, http.StatusOK)
	if !bytes.HasPrefix(r.Body, []byte("\xEF\xBB\xBF年度,分野,項目キー,項目")) {
		t.Errorf("CSV starts %q", r.Body[:min(60, len(r.Body))])
	}
	if !strings.Contains(string(r.Body), "令和8年度") || !strings.Contains(r.Header.Get("Content-Type"), "text/csv") {
		t.Error("CSV lacks the fiscal year label or its media type")
	}

	// JSON, for one facility.
	f := e.facilities[0]
	var pj struct {
		FiscalYear struct {
			FiscalYear int    `json:"fiscal_year"`
			Label      string `json:"fiscal_year_label"`
		} `json:"target_fiscal_year"`
		Facility   refView `json:"facility"`
		Facilities []struct {
			Facility refView `json:"facility"`
		} `json:"facilities"`
		Plan []struct {
			Facility refView `json:"facility"`
			Item     string  `json:"item"`
		} `json:"plan"`
	}
	e.get(t, "/v1/reports/plan?fiscal_year=2026&format=json&facility_id="+f.ID, &pj)
	if pj.FiscalYear.FiscalYear != 2027 || pj.FiscalYear.Label != "令和9年度" || pj.Facility.ID != f.ID || len(pj.Facilities) != 1 {
		t.Errorf("facility plan header: %+v", pj)
	}
	want := 0
	if in := e.latest(2026)[f.ID]; in != nil {
		want = in.Totals.Failed
	}
	if len(pj.Plan) != want {
		t.Errorf("facility plan has %d rows, want %d", len(pj.Plan), want)
	}
	for _, p := range pj.Plan {
		if p.Facility.ID != f.ID {
			t.Errorf("plan row of another facility: %+v", p)
		}
	}
	e.request("GET", "/v1/reports/plan?fiscal_year=2026&facility_id=nope", nil, e.reviewer).problem(t, http.StatusNotFound, "not_found")
}

// TestReportsFollowTheLifecycle: the reports follow inspections through
// the same write path the API takes: a submitted inspection counts, a
// returned one does not.
func TestReportsFollowTheLifecycle(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 1, 1, 2)
	id := e.createFacility("NEW-1")
	e.facilities = append(e.facilities, checklist.Facility{ID: id})
	path := "/v1/reports/facilities?fiscal_year=2026"
	status := func() (string, string) {
		t.Helper()
		var fr struct {
			Facilities []struct {
				Facility refView `json:"facility"`
				Status   string  `json:"status"`
			} `json:"facilities"`
		}
		r := e.get(t, path, &fr)
		for _, f := range fr.Facilities {
			if f.Facility.ID == id {
				return f.Status, r.Header.Get("ETag")
			}
		}
		t.Fatal("the new facility is not in the report")
		return "", ""
	}
	if s, _ := status(); s != "not_inspected" {
		t.Fatalf("status %s before any inspection", s)
	}
	in := e.inspect(t, 7, id, checklist.Date{Year: 2026, Month: 6, Day: 1}, simpleItem(t, e.content), true)
	s, etag := status()
	if s != "submitted" {
		t.Fatalf("status %s after submitting", s)
	}
	reviewer := checklist.Actor{UserID: "reviewer", Role: checklist.RoleReviewer}
	if _, err := e.db.UpdateInspection(context.Background(), in.ID, reviewer, checklist.Idempotency{},
		func(in *checklist.Inspection, c *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Return(c, "写真が不鮮明です", nil, reviewer, now)
		}); err != nil {
		t.Fatal(err)
	}
	if s, again := status(); s != "not_inspected" || again == etag {
		t.Fatalf("after the return: status %s, ETag changed %v", s, again != etag)
	}
}
