package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// The dashboard and the facility pages read the same year data as the
// report API (yearsData, with its cache) and compute with the report
// functions of checklist.

// consoleYear is the fiscal year a page shows: ?fy= or the current one.
func (s *Server) consoleYear(c *gin.Context) int {
	return s.roundFY(c.Query("fy"))
}

type statusCount struct {
	Status string
	N      int
}

type dashboardView struct {
	FY, PrevFY int
	Years      []int // fiscal years to switch to
	checklist.YearStanding
	PrevAverage float64
	HasPrev     bool
	Chart       barChart
	Sections    []checklist.SectionResult
	Items       []checklist.ItemResult
	checklist.ComparisonSummary
	Persistent  []checklist.PersistentProblem
	Actions     []statusCount
	OpenActions int
	Since       string // formatted previous visit; "" on a first visit
	Changes     []checklist.AuditEntry
	ChangeCount map[string]int
	Facility    map[string]checklist.Facility
}

func (s *Server) consoleDashboard(c *gin.Context) {
	ctx := c.Request.Context()
	fy := s.consoleYear(c)
	years, ok := s.consoleReportYears(c, fy)
	if !ok {
		return
	}
	cur := years[len(years)-1]
	v := dashboardView{FY: fy, PrevFY: fy - 1, Facility: facilitiesByID(cur), ChangeCount: map[string]int{}}
	for y := checklist.FiscalYear(s.now()); y >= fy-3 && y >= checklist.MinFiscalYear; y-- {
		v.Years = append(v.Years, y)
	}
	v.YearStanding = checklist.StandingOf(checklist.FacilityResults(cur))
	labels, values, texts := make([]string, 10), make([]float64, 10), make([]string, 10)
	for i, n := range v.Distribution {
		labels[i] = strconv.Itoa(i*10) + "–"
		values[i], texts[i] = float64(n), strconv.Itoa(n)
	}
	v.Chart = newBarChart(message(s.consoleLang(c), "dash.distribution"), labels, values, texts)

	v.Sections = checklist.WeakestSections(checklist.SectionResults(cur), 5)
	v.Items = checklist.MostFailedItems(checklist.ItemResults(cur), 5)

	if len(years) >= 2 && years[len(years)-2].FiscalYear == fy-1 {
		prev := years[len(years)-2]
		if ps := checklist.StandingOf(checklist.FacilityResults(prev)); ps.Inspected > 0 {
			v.HasPrev, v.PrevAverage = true, ps.Average
		}
		v.ComparisonSummary = checklist.SummarizeComparison(checklist.CompareYears(prev, cur))
	}
	v.Persistent = checklist.PersistentProblems(years, checklist.MinPersistentYears)
	v.Persistent = v.Persistent[:min(8, len(v.Persistent))]

	actions, err := s.store.ListActions(ctx, checklist.ActionQuery{})
	if err != nil {
		s.consoleError(c, err)
		return
	}
	counts := map[checklist.ActionStatus]int{}
	for _, a := range actions {
		counts[a.Status]++
		if a.Status.Open() {
			v.OpenActions++
		}
	}
	for _, st := range []checklist.ActionStatus{checklist.ActionPlanned, checklist.ActionInProgress, checklist.ActionDone, checklist.ActionVerified, checklist.ActionDropped} {
		v.Actions = append(v.Actions, statusCount{Status: string(st), N: counts[st]})
	}

	if cs := consoleOf(c); cs != nil && !cs.Session.PreviousVisit.IsZero() {
		since := cs.Session.PreviousVisit
		v.Since = (&page{}).Time(since)
		entries, _, err := s.store.ListAudit(ctx, checklist.AuditQuery{Since: since, Limit: 200})
		if err != nil {
			s.consoleError(c, err)
			return
		}
		for _, e := range entries {
			if e.Entity == checklist.EntityInspection || e.Entity == "action" {
				v.ChangeCount[e.Entity+"."+e.Action]++
				if len(v.Changes) < 10 {
					v.Changes = append(v.Changes, e)
				}
			}
		}
	}
	s.render(c, http.StatusOK, "dashboard.html", "dash.title", v)
}

type facilityRow struct {
	Result    checklist.FacilityResult
	Prev      checklist.FacilityResult
	HasPrev   bool
	Delta     float64
	Trend     string // up, down, flat, ""
	Persisted int    // persistent problems
}

type facilitiesView struct {
	FY   int
	Rows []facilityRow
}

func trendOf(d float64) string {
	switch {
	case d > 0.05:
		return "up"
	case d < -0.05:
		return "down"
	}
	return "flat"
}

// consoleFacilities lists facilities with their latest score and its
// change since the year before.
func (s *Server) consoleFacilities(c *gin.Context) {
	fy := s.consoleYear(c)
	years, ok := s.consoleReportYears(c, fy)
	if !ok {
		return
	}
	cur := years[len(years)-1]
	prevBy := map[string]checklist.FacilityResult{}
	if len(years) >= 2 {
		for _, r := range checklist.FacilityResults(years[len(years)-2]) {
			prevBy[r.Facility.ID] = r
		}
	}
	persisted := map[string]int{}
	for _, p := range checklist.PersistentProblems(years, checklist.MinPersistentYears) {
		persisted[p.Facility.ID]++
	}
	v := facilitiesView{FY: fy}
	for _, r := range checklist.FacilityResults(cur) {
		row := facilityRow{Result: r, Persisted: persisted[r.Facility.ID]}
		if p, ok := prevBy[r.Facility.ID]; ok && p.Inspected {
			row.Prev, row.HasPrev = p, true
			if r.Inspected {
				row.Delta = r.Percent - p.Percent
				row.Trend = trendOf(row.Delta)
			}
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(c, http.StatusOK, "facilities.html", "fac.title", v)
}

type facilityYear struct {
	FY     int
	Result checklist.FacilityResult
}

type facilityView struct {
	Facility    checklist.Facility
	Years       []facilityYear
	Chart       barChart
	Inspections []*checklist.Inspection
	Persistent  []checklist.PersistentProblem
	Actions     []checklist.Action
	ItemText    map[string]checklist.Text
}

// consoleFacility is one facility across fiscal years: scores, every
// inspection, persistent problems and improvement actions.
func (s *Server) consoleFacility(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	f, err := s.store.FindFacility(ctx, id)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	fy := checklist.FiscalYear(s.now())
	years, ok := s.consoleReportYears(c, fy)
	if !ok {
		return
	}
	v := facilityView{Facility: f, ItemText: itemTexts(years[len(years)-1])}
	var labels, texts []string
	var values []float64
	for _, d := range years {
		for _, r := range checklist.FacilityResults(d) {
			if r.Facility.ID == f.ID && r.Inspected {
				v.Years = append(v.Years, facilityYear{FY: d.FiscalYear, Result: r})
				labels = append(labels, strconv.Itoa(d.FiscalYear))
				values = append(values, r.Percent)
				texts = append(texts, fmtFloat(r.Percent, 1)+"%")
			}
		}
	}
	v.Chart = newBarChart(message(s.consoleLang(c), "fac.trend"), labels, values, texts)
	for _, p := range checklist.PersistentProblems(years, checklist.MinPersistentYears) {
		if p.Facility.ID == f.ID {
			v.Persistent = append(v.Persistent, p)
		}
	}
	q := checklist.InspectionQuery{FacilityIDs: []string{f.ID}, Limit: 200}
	for {
		pg, err := s.store.ListInspections(ctx, q)
		if err != nil {
			s.consoleError(c, err)
			return
		}
		v.Inspections = append(v.Inspections, pg.Inspections...)
		if !pg.More {
			break
		}
		q.AfterDate, q.AfterID = pg.LastDate, pg.LastID
	}
	if v.Actions, err = s.store.ListActions(ctx, checklist.ActionQuery{FacilityIDs: []string{f.ID}}); err != nil {
		s.consoleError(c, err)
		return
	}
	s.render(c, http.StatusOK, "facility.html", "fac.one", v)
}

// consoleReportYears reads the report data of the fiscal years ending at
// fy that the persistent-problem rule looks at (the last is fy), as the
// plan export does; on an error it renders the error page.
func (s *Server) consoleReportYears(c *gin.Context, fy int) ([]*checklist.YearData, bool) {
	ctx := c.Request.Context()
	vers, err := s.store.ReportVersions(ctx)
	if err == nil {
		var years []*checklist.YearData
		if years, err = s.persistentYears(ctx, fy, vers); err == nil {
			return years, true
		}
	}
	s.consoleError(c, err)
	return nil, false
}
