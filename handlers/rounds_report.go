package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// The milestone reports of a round — 中間報告 (interim) and 最終報告
// (final) — as JSON and as an Excel workbook in the bureau's style of
// the plan export: Japanese sheet names, 令和 labels.

// Sheet names of the milestone workbook.
const (
	SheetRoundSummary     = "概要"
	SheetRoundDepartments = "部局別進捗"
	SheetRoundPending     = "未点検施設"
	SheetRoundOverdue     = "期限超過"
	SheetRoundFindings    = "指摘事項"
	SheetRoundActions     = "改善措置"
	SheetRoundCarryOver   = "次年度繰越" // the final report only
)

var milestoneLabels = map[checklist.Milestone]string{checklist.MilestoneInterim: "中間報告", checklist.MilestoneFinal: "最終報告"}

var assignmentStatusLabels = map[checklist.AssignmentStatus]string{
	checklist.AssignNotStarted: "未着手", checklist.AssignDraft: "作成中", checklist.AssignReturned: "差戻し",
	checklist.AssignSubmitted: "提出済み", checklist.AssignApproved: "承認済み", checklist.AssignOverdue: "期限超過",
	checklist.AssignWithdrawn: "対象外",
}

type roundFindingJSON struct {
	InspectionID string          `json:"inspection_id"`
	Facility     facilityRefJSON `json:"facility"`
	ItemKey      string          `json:"item_key"`
	ItemText     checklist.Text  `json:"item_text"`
	SectionKey   string          `json:"section_key"`
	Comment      string          `json:"comment"`
	Status       string          `json:"inspection_status"`
}

type roundActionJSON struct {
	ID                 string    `json:"id"`
	FacilityID         string    `json:"facility_id"`
	ItemKey            string    `json:"item_key"`
	Title              string    `json:"title"`
	Status             string    `json:"status"`
	TargetFiscalYear   int       `json:"target_fiscal_year"`
	DueDate            *string   `json:"due_date"`
	SourceInspectionID *string   `json:"source_inspection_id"`
	CreatedAt          time.Time `json:"created_at"`
}

// nextPlanJSON is what the report hands on to next year: the plan export
// that ranks the findings into next year's improvement plan, and (final
// report) the facilities not approved by the final milestone, which next
// year's round should schedule first.
type nextPlanJSON struct {
	FiscalYear      int              `json:"fiscal_year"`
	FiscalYearLabel string           `json:"fiscal_year_label"`
	PlanExportURL   string           `json:"plan_export_url"`
	CarryOver       []assignmentJSON `json:"carry_over"`
}

type roundReportJSON struct {
	FiscalYear      int                `json:"fiscal_year"`
	FiscalYearLabel string             `json:"fiscal_year_label"`
	Milestone       string             `json:"milestone"`
	MilestoneLabel  string             `json:"milestone_label"`
	Date            string             `json:"date"`
	Coverage        coverageJSON       `json:"coverage"`
	NotInspected    []assignmentJSON   `json:"not_inspected"`
	Overdue         []assignmentJSON   `json:"overdue"`
	Findings        []roundFindingJSON `json:"findings"`
	Actions         []roundActionJSON  `json:"actions"`
	NextYearPlan    nextPlanJSON       `json:"next_year_plan"`
}

// roundReport: GET /v1/rounds/{fy}/reports/{interim|final}?format=json|xlsx.
// The coverage is the round's at the end of the milestone's day; read
// before that day ends it is the coverage so far.
func (s *Server) roundReport(c *gin.Context) {
	r, ok := s.findRound(c)
	if !ok {
		return
	}
	m := checklist.Milestone(c.Param("milestone"))
	date, ok := r.MilestoneDate(m)
	var probs checklist.Problems
	if !ok {
		probs.Add("milestone", "enum", "milestone must be interim or final")
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "xlsx" {
		probs.Add("format", "enum", "format must be json or xlsx")
	}
	if refuseQuery(c, probs) {
		return
	}
	at := checklist.EndOf(date)
	build := func(ctx context.Context, _ map[string]string) (cachedBody, error) {
		j, err := s.buildRoundReport(ctx, r, m, date, at)
		if err != nil {
			return cachedBody{}, err
		}
		if format == "json" {
			return jsonBody(j)
		}
		b, err := xlsxBytes(roundReportTables(j))
		return cachedBody{contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body: b}, err
	}
	if format == "xlsx" {
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="tenken-round-FY%d-%s.xlsx"`, r.FiscalYear, m))
	}
	if now := s.now(); at.After(now) {
		// The milestone is still ahead: the report so far changes with
		// the clock (overdue), so it is computed every time.
		b, err := build(c.Request.Context(), nil)
		if err != nil {
			respondError(c, err)
			return
		}
		c.Header("Cache-Control", "private, no-cache")
		c.Data(http.StatusOK, b.contentType, b.body)
		return
	}
	// A past milestone's report changes only with the data it reads:
	// cached under their versions, with an ETag.
	keys := func(map[string]string) []string {
		return []string{checklist.ReportVersionRound(r.FiscalYear), checklist.ReportVersionYear(r.FiscalYear), checklist.ReportVersionFacilities, checklist.ReportVersionActions}
	}
	s.serveReport(c, fmt.Sprintf("round-%d-%s", r.FiscalYear, m), keys, build)
}

// buildRoundReport computes the report of milestone m (on date) as of
// instant at, or now when that is still ahead.
func (s *Server) buildRoundReport(ctx context.Context, r checklist.Round, m checklist.Milestone, date checklist.Date, at time.Time) (roundReportJSON, error) {
	if now := s.now(); at.After(now) {
		at = now
	}
	st, err := s.roundAt(ctx, r, at)
	if err != nil {
		return roundReportJSON{}, err
	}
	years, err := s.store.ReportYears(ctx, []int{r.FiscalYear})
	if err != nil {
		return roundReportJSON{}, err
	}
	d := years[r.FiscalYear]
	findings, err := s.findings(ctx, d, "", "", "")
	if err != nil {
		return roundReportJSON{}, err
	}
	actions, err := s.store.ListActions(ctx, checklist.ActionQuery{})
	if err != nil {
		return roundReportJSON{}, err
	}
	rep := checklist.BuildRoundReport(m, date, st.coverage, st.states, findings, actions)
	return newRoundReportJSON(r, rep, d), nil
}

func newRoundReportJSON(r checklist.Round, rep checklist.RoundReport, d *checklist.YearData) roundReportJSON {
	j := roundReportJSON{FiscalYear: r.FiscalYear, FiscalYearLabel: checklist.FiscalYearLabel(r.FiscalYear),
		Milestone: string(rep.Milestone), MilestoneLabel: milestoneLabels[rep.Milestone], Date: rep.Date.String(),
		Coverage: newCoverageJSON(rep.Coverage), NotInspected: []assignmentJSON{}, Overdue: []assignmentJSON{},
		Findings: []roundFindingJSON{}, Actions: []roundActionJSON{},
		NextYearPlan: nextPlanJSON{FiscalYear: r.FiscalYear + 1, FiscalYearLabel: checklist.FiscalYearLabel(r.FiscalYear + 1),
			PlanExportURL: fmt.Sprintf("/v1/reports/plan?fiscal_year=%d", r.FiscalYear), CarryOver: []assignmentJSON{}}}
	for _, a := range rep.CarryOver {
		j.NextYearPlan.CarryOver = append(j.NextYearPlan.CarryOver, newAssignmentJSON(a))
	}
	for _, a := range rep.NotInspected {
		j.NotInspected = append(j.NotInspected, newAssignmentJSON(a))
	}
	for _, a := range rep.Overdue {
		j.Overdue = append(j.Overdue, newAssignmentJSON(a))
	}
	facilities := map[string]checklist.Facility{}
	for _, st := range rep.Coverage.States {
		facilities[st.FacilityID] = st.Facility
	}
	texts := itemTexts(d)
	for _, f := range rep.Findings {
		j.Findings = append(j.Findings, roundFindingJSON{InspectionID: f.InspectionID, Facility: facilityRef(facilities[f.FacilityID]),
			ItemKey: f.ItemKey, ItemText: texts[f.ItemKey], SectionKey: f.SectionKey, Comment: f.Comment, Status: string(f.Status)})
	}
	for _, a := range rep.Actions {
		x := roundActionJSON{ID: a.ID, FacilityID: a.FacilityID, ItemKey: a.ItemKey, Title: a.Title, Status: string(a.Status),
			TargetFiscalYear: a.TargetFiscalYear, SourceInspectionID: optional(a.SourceInspectionID), CreatedAt: a.CreatedAt}
		if !a.Due.IsZero() {
			due := a.Due.String()
			x.DueDate = &due
		}
		j.Actions = append(j.Actions, x)
	}
	return j
}

// roundReportTables lays the report out as sheets; every number comes
// from the JSON form, so the workbook and the JSON cannot disagree.
func roundReportTables(j roundReportJSON) []table {
	t := j.Coverage.Total
	summary := table{name: SheetRoundSummary, headers: []string{"項目", "内容"}, rows: [][]any{
		{"報告", milestoneLabels[checklist.Milestone(j.Milestone)]},
		{"点検年度", checklist.FiscalYearLabels(j.FiscalYear)},
		{"基準日", j.Date},
		{"対象施設数", t.Assigned},
		{"点検済み（提出・承認）", t.Covered},
		{"承認済み", t.Approved},
		{"提出済み（審査待ち）", t.Submitted},
		{"差戻し", t.Returned},
		{"作成中", t.Draft},
		{"未着手", t.NotStarted},
		{"期限超過", t.Overdue},
		{"年度途中に追加", t.Added},
		{"対象外（廃止・除外）", t.Withdrawn},
		{"点検率（%）", t.CoveredPercent},
		{"承認率（%）", t.ApprovedPercent},
		{"指摘事項件数", len(j.Findings)},
		{"改善措置件数", len(j.Actions)},
		{"次年度計画", checklist.FiscalYearLabels(j.NextYearPlan.FiscalYear) + " " + j.NextYearPlan.PlanExportURL},
	}}
	final := checklist.Milestone(j.Milestone) == checklist.MilestoneFinal
	if final {
		summary.rows = append(summary.rows, []any{"次年度繰越施設数", len(j.NextYearPlan.CarryOver)})
	}
	depts := table{name: SheetRoundDepartments, headers: []string{"部局", "対象施設数", "未着手", "作成中", "差戻し", "提出済み", "承認済み", "期限超過", "点検率（%）", "承認率（%）"}}
	for _, d := range j.Coverage.Departments {
		name := d.Department
		if name == "" {
			name = "（部局未設定）"
		}
		depts.rows = append(depts.rows, []any{name, d.Assigned, d.NotStarted, d.Draft, d.Returned, d.Submitted, d.Approved, d.Overdue, d.CoveredPercent, d.ApprovedPercent})
	}
	list := func(name string, as []assignmentJSON) table {
		tb := table{name: name, headers: []string{"施設コード", "施設名", "部局", "点検期限", "状況", "点検の進捗", "年度途中に追加"}}
		for _, a := range as {
			added := ""
			if a.AddedAfterOpening {
				added = "追加"
			}
			tb.rows = append(tb.rows, []any{a.Facility.Code, a.Facility.Name.JA, a.Department, a.DueDate,
				assignmentStatusLabels[checklist.AssignmentStatus(a.Status)], assignmentStatusLabels[checklist.AssignmentStatus(a.Progress)], added})
		}
		return tb
	}
	findings := table{name: SheetRoundFindings, headers: []string{"施設コード", "施設名", "項目キー", "項目", "コメント"}}
	for _, f := range j.Findings {
		findings.rows = append(findings.rows, []any{f.Facility.Code, f.Facility.Name.JA, f.ItemKey, f.ItemText.Ja, f.Comment})
	}
	actions := table{name: SheetRoundActions, headers: []string{"施設ID", "項目キー", "改善措置", "状況", "対象年度", "期限", "登録日"}}
	for _, a := range j.Actions {
		due := ""
		if a.DueDate != nil {
			due = *a.DueDate
		}
		actions.rows = append(actions.rows, []any{a.FacilityID, a.ItemKey, a.Title, a.Status,
			checklist.FiscalYearLabel(a.TargetFiscalYear), due, checklist.DateOf(a.CreatedAt).String()})
	}
	tables := []table{summary, depts, list(SheetRoundPending, j.NotInspected), list(SheetRoundOverdue, j.Overdue), findings, actions}
	if final {
		carry := table{name: SheetRoundCarryOver, headers: []string{"施設コード", "施設名", "部局", "点検期限", "状況", "繰越理由", "次年度"}}
		for _, a := range j.NextYearPlan.CarryOver {
			reason := "未点検"
			if checklist.AssignmentStatus(a.Progress).Covered() {
				reason = "承認待ち"
			}
			carry.rows = append(carry.rows, []any{a.Facility.Code, a.Facility.Name.JA, a.Department, a.DueDate,
				assignmentStatusLabels[checklist.AssignmentStatus(a.Status)], reason, checklist.FiscalYearLabels(j.NextYearPlan.FiscalYear)})
		}
		tables = append(tables, carry)
	}
	return tables
}
