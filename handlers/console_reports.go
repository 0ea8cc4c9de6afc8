package handlers

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// The reports: each report of the API as a table and a server-drawn SVG
// chart, computed by the same report functions from the same cached year
// data, with the XLSX and CSV exports of /v1/reports/plan one click away
// (served under /console/reports/export with the console's session). The
// findings report has no table of its own in the export, so its page
// offers the workbook only.

var reportKinds = []string{"facilities", "items", "sections", "yoy", "persistent", "findings"}

type reportsView struct {
	Kind       string
	Kinds      []string
	FY         int
	Years      []int
	Chart      barChart
	Facilities []checklist.FacilityResult
	Items      []checklist.ItemResult
	Sections   []checklist.SectionResult
	Compare    *checklist.YearComparison
	Persistent []checklist.PersistentProblem
	Findings   []checklist.Finding
	Facility   map[string]checklist.Facility // by id, for the findings
	CSVTable   string                        // the export table of this report; "" for none
	ItemText   map[string]checklist.Text
}

func (s *Server) consoleReports(c *gin.Context) {
	ctx := c.Request.Context()
	v := reportsView{Kind: c.DefaultQuery("kind", "facilities"), Kinds: reportKinds, FY: s.consoleYear(c)}
	if !slices.Contains(reportKinds, v.Kind) {
		s.consoleError(c, checklist.Errorf(checklist.ENotFound, "no report %s", v.Kind))
		return
	}
	for y := checklist.FiscalYear(s.now()); y >= v.FY-3 && y >= checklist.MinFiscalYear; y-- {
		v.Years = append(v.Years, y)
	}
	vers, err := s.store.ReportVersions(ctx)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	years, err := s.persistentYears(ctx, v.FY, vers)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	cur := years[len(years)-1]
	v.ItemText = itemTexts(cur)
	lang := s.consoleLang(c)
	var labels, texts []string
	var values []float64
	switch v.Kind {
	case "facilities":
		v.CSVTable = "facilities"
		v.Facilities = checklist.FacilityResults(cur)
		for _, r := range v.Facilities {
			if r.Inspected {
				labels, values, texts = append(labels, r.Facility.Code), append(values, r.Percent), append(texts, fmtFloat(r.Percent, 0))
			}
		}
		v.Chart = newBarChart(message(lang, "rep.chart.facilities"), labels, values, texts)
	case "items":
		v.CSVTable = "items"
		v.Items = checklist.ItemResults(cur)
		top := slices.Clone(v.Items)
		slices.SortStableFunc(top, func(a, b checklist.ItemResult) int { return cmp.Compare(b.FailureRate, a.FailureRate) })
		for _, r := range top[:min(12, len(top))] {
			labels, values, texts = append(labels, r.Key), append(values, 100*r.FailureRate), append(texts, fmtFloat(100*r.FailureRate, 0)+"%")
		}
		v.Chart = newBarChart(message(lang, "rep.chart.items"), labels, values, texts)
	case "sections":
		v.CSVTable = "sections"
		v.Sections = checklist.SectionResults(cur)
		for _, r := range v.Sections {
			labels, values, texts = append(labels, r.Key), append(values, r.AveragePercent), append(texts, fmtFloat(r.AveragePercent, 0))
		}
		v.Chart = newBarChart(message(lang, "rep.chart.sections"), labels, values, texts)
	case "yoy":
		v.CSVTable = "facilities"
		prev, err := s.yearData(ctx, v.FY-1, vers)
		if err != nil {
			s.consoleError(c, err)
			return
		}
		cmpY := checklist.CompareYears(prev, cur)
		v.Compare = &cmpY
		var a, b []float64
		for _, f := range cmpY.Facilities {
			if f.Change != checklist.ChangeNotCompared {
				labels, a, b, texts = append(labels, f.Facility.Code), append(a, f.PercentA), append(b, f.PercentB), append(texts, fmtFloat(f.Delta, 0))
			}
		}
		v.Chart = newPairChart(message(lang, "rep.chart.yoy"), labels, a, b, texts)
	case "persistent":
		v.CSVTable = "persistent"
		v.Persistent = checklist.PersistentProblems(years, checklist.MinPersistentYears)
		count := map[string]int{}
		var codes []string
		for _, p := range v.Persistent {
			if count[p.Facility.Code] == 0 {
				codes = append(codes, p.Facility.Code)
			}
			count[p.Facility.Code]++
		}
		for _, code := range codes {
			labels, values, texts = append(labels, code), append(values, float64(count[code])), append(texts, strconv.Itoa(count[code]))
		}
		v.Chart = newBarChart(message(lang, "rep.chart.persistent"), labels, values, texts)
	case "findings":
		if v.Findings, err = s.findings(ctx, cur, "", "", ""); err != nil {
			s.consoleError(c, err)
			return
		}
		v.Facility = facilitiesByID(cur)
		// Findings come ordered by facility code, so a facility's run is
		// one bar.
		for _, f := range v.Findings {
			code := v.Facility[f.FacilityID].Code
			if n := len(labels); n == 0 || labels[n-1] != code {
				labels, values = append(labels, code), append(values, 0)
			}
			values[len(values)-1]++
		}
		for _, n := range values {
			texts = append(texts, strconv.Itoa(int(n)))
		}
		v.Chart = newBarChart(message(lang, "rep.chart.findings"), labels, values, texts)
	}
	s.render(c, http.StatusOK, "reports.html", "rep.title", v)
}
