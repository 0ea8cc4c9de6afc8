package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tenken/checklist"
	"tenken/handlers"
	"tenken/storage"
)

// testDemoRound opens the round of this fiscal year over the demo bureau
// (seeded in db by TestSeedDemoInspections) as serve --demo does, and
// reads its coverage and interim report through the API: the coverage is
// the demo inspections', and the workbook's counts are the JSON's.
func testDemoRound(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Now()
	fy := checklist.FiscalYear(now)
	if err := seedDemoRound(ctx, db, now, log); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoRound(ctx, db, now, log); err != nil { // a restart adds nothing
		t.Fatal(err)
	}
	as, err := db.RoundAssignments(ctx, fy)
	if err != nil || len(as) != len(demoFacilities) {
		t.Fatalf("%d assignments, want the %d demo facilities (%v)", len(as), len(demoFacilities), err)
	}
	// What the coverage must say: this year's demo inspections by status.
	page, err := db.ListInspections(ctx, checklist.InspectionQuery{FiscalYear: fy, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	want := map[checklist.Status]int{}
	for _, in := range page.Inspections {
		want[in.Status]++
	}

	srv, err := handlers.NewServer(handlers.Config{Logger: log}, db)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(token, path string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		return b
	}
	res, err := ts.Client().Post(ts.URL+"/v1/auth/login", "application/json",
		strings.NewReader(`{"username":"reviewer","password":"demo-password-123"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	var round struct {
		Coverage struct {
			Total map[string]float64 `json:"total"`
		} `json:"coverage"`
	}
	if err := json.Unmarshal(get(tok.AccessToken, "/v1/rounds/"+strconv.Itoa(fy)), &round); err != nil {
		t.Fatal(err)
	}
	c := round.Coverage.Total
	if int(c["assigned"]) != len(demoFacilities) || int(c["approved"]) != want[checklist.StatusApproved] ||
		int(c["submitted"]) != want[checklist.StatusSubmitted] || int(c["returned"]) != want[checklist.StatusReturned] ||
		int(c["draft"]) != want[checklist.StatusDraft] {
		t.Fatalf("coverage %v, inspections %v", c, want)
	}

	var rep struct {
		Coverage struct {
			Total map[string]float64 `json:"total"`
		} `json:"coverage"`
		NotInspected []any `json:"not_inspected"`
		Overdue      []any `json:"overdue"`
		Findings     []any `json:"findings"`
		Actions      []any `json:"actions"`
	}
	path := "/v1/rounds/" + strconv.Itoa(fy) + "/reports/interim"
	if err := json.Unmarshal(get(tok.AccessToken, path), &rep); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(get(tok.AccessToken, path+"?format=xlsx")))
	if err != nil {
		t.Fatalf("the interim workbook does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(handlers.SheetRoundSummary)
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]string{}
	for _, r := range rows {
		if len(r) == 2 {
			cells[r[0]] = r[1]
		}
	}
	rc := rep.Coverage.Total
	for label, n := range map[string]float64{"対象施設数": rc["assigned"], "点検済み（提出・承認）": rc["covered"],
		"承認済み": rc["approved"], "差戻し": rc["returned"], "作成中": rc["draft"], "未着手": rc["not_started"],
		"期限超過": rc["overdue"], "指摘事項件数": float64(len(rep.Findings)), "改善措置件数": float64(len(rep.Actions))} {
		if cells[label] != strconv.Itoa(int(n)) {
			t.Errorf("%s: workbook %q, JSON %v", label, cells[label], n)
		}
	}
	for sheet, n := range map[string]int{handlers.SheetRoundPending: len(rep.NotInspected), handlers.SheetRoundOverdue: len(rep.Overdue),
		handlers.SheetRoundFindings: len(rep.Findings)} {
		rows, err := f.GetRows(sheet)
		if err != nil || len(rows)-1 != n {
			t.Errorf("sheet %s: %d rows, JSON %d (%v)", sheet, len(rows)-1, n, err)
		}
	}
	if rc["assigned"] != float64(len(demoFacilities)) {
		t.Errorf("interim report assigns %v facilities", rc["assigned"])
	}
	t.Logf("interim: %v, %d findings", rc, len(rep.Findings))
}
