package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"

	"tenken/checklist"
)

// ReportStore is what the report and export handlers need.
type ReportStore interface {
	// ReportVersions returns the data version of every fiscal year
	// ("fy:2026") and of the facility list ("facilities"): tokens that
	// change whenever the data behind a report changes.
	ReportVersions(ctx context.Context) (map[string]string, error)
	// ReportYears reads what the reports of fiscal years are computed
	// from, in one go.
	ReportYears(ctx context.Context, fys []int) (map[int]*checklist.YearData, error)
}

// reportCache keeps computed report bodies and the year data they came
// from, keyed by the data versions they were computed at. Nothing is
// ever stale: a key names the versions, and a change of data changes the
// version. Past their bounds the least recently used entries go.
type reportCache struct {
	bodies *lru.Cache[string, cachedBody]          // by ETag
	years  *lru.Cache[string, *checklist.YearData] // by yearCacheKey
}

type cachedBody struct {
	contentType string
	body        []byte
}

const (
	maxCachedReports = 512
	maxCachedYears   = 64 // a year's data is large: the reports of a few years at a few versions
)

func newReportCache() reportCache {
	bodies, err := lru.New[string, cachedBody](maxCachedReports)
	if err != nil {
		panic(err) // only for a size below 1
	}
	years, err := lru.New[string, *checklist.YearData](maxCachedYears)
	if err != nil {
		panic(err)
	}
	return reportCache{bodies: bodies, years: years}
}

// yearData returns fiscal year fy's report data at the versions vers,
// read from the store once per version.
func (s *Server) yearData(ctx context.Context, fy int, vers map[string]string) (*checklist.YearData, error) {
	ds, err := s.yearsData(ctx, []int{fy}, vers)
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

func yearCacheKey(fy int, vers map[string]string) string {
	return strconv.Itoa(fy) + "|" + vers[checklist.ReportVersionYear(fy)] + "|" + vers[checklist.ReportVersionFacilities]
}

// yearsData returns the report data of fiscal years fys at the versions
// vers, reading the years not cached yet in one query.
func (s *Server) yearsData(ctx context.Context, fys []int, vers map[string]string) ([]*checklist.YearData, error) {
	out := make([]*checklist.YearData, len(fys))
	var missing []int
	for i, fy := range fys {
		if d, ok := s.reports.years.Get(yearCacheKey(fy, vers)); ok {
			out[i] = d
		} else {
			missing = append(missing, fy)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := s.store.ReportYears(ctx, missing)
	if err != nil {
		return nil, err
	}
	for i, fy := range fys {
		if out[i] == nil {
			out[i] = read[fy]
			s.reports.years.Add(yearCacheKey(fy, vers), read[fy])
		}
	}
	return out, nil
}

// reportETag is the entity tag of a report: its kind and parameters and
// the versions of the data it reads, so it is known before computing.
func reportETag(kind, params string, vers map[string]string, keys []string) string {
	h := sha256.New()
	h.Write([]byte(kind + "\x00" + params + "\x00"))
	for _, k := range keys {
		h.Write([]byte(k + "=" + vers[k] + "\x00"))
	}
	return `"r` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// serveReport answers a report: 304 when the client's copy is current,
// the cached body when this data version was computed already, otherwise
// build's result, cached. keys are the data versions the report reads.
func (s *Server) serveReport(c *gin.Context, kind string, keys func(vers map[string]string) []string,
	build func(ctx context.Context, vers map[string]string) (cachedBody, error)) {
	ctx := c.Request.Context()
	vers, err := s.store.ReportVersions(ctx)
	if err != nil {
		respondError(c, err)
		return
	}
	etag := reportETag(kind, canonicalQuery(c), vers, keys(vers))
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	if notModified(c, etag) {
		return
	}
	b, ok := s.reports.bodies.Get(etag)
	if !ok {
		if b, err = build(ctx, vers); err != nil {
			respondError(c, err)
			return
		}
		s.reports.bodies.Add(etag, b)
	}
	c.Data(http.StatusOK, b.contentType, b.body)
}

// canonicalQuery is the query string with its parameters sorted.
func canonicalQuery(c *gin.Context) string {
	q := c.Request.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			b.WriteString(k + "=" + v + "&")
		}
	}
	return b.String()
}

// jsonBody encodes v as a cached JSON body.
func jsonBody(v any) (cachedBody, error) {
	var buf bytes.Buffer
	if err := jsonEncode(&buf, v); err != nil {
		return cachedBody{}, err
	}
	return cachedBody{contentType: "application/json; charset=utf-8", body: buf.Bytes()}, nil
}

// fiscalYearParam reads a required fiscal year query parameter; a missing
// or invalid one is recorded in probs.
func fiscalYearParam(c *gin.Context, name string, probs *checklist.Problems) int {
	if c.Query(name) == "" {
		probs.Add(name, checklist.CodeRequired, "%s is required, a fiscal year such as 2026", name)
		return 0
	}
	return optionalFiscalYearParam(c, name, probs)
}

// optionalFiscalYearParam reads a fiscal year query parameter; 0 when it
// is absent, and an invalid one is recorded in probs.
func optionalFiscalYearParam(c *gin.Context, name string, probs *checklist.Problems) int {
	v := c.Query(name)
	if v == "" {
		return 0
	}
	fy, ok := checklist.ParseFiscalYear(v)
	if !ok {
		probs.Add(name, "range", "%s must be a fiscal year from %d to %d, such as 2026", name, checklist.MinFiscalYear, checklist.MaxFiscalYear)
	}
	return fy
}

func refuseQuery(c *gin.Context, probs checklist.Problems) bool {
	if len(probs) == 0 {
		return false
	}
	respondError(c, queryError(probs))
	return true
}

// Wire forms of the reports.

type facilityRefJSON struct {
	ID   string                 `json:"id"`
	Code string                 `json:"code"`
	Name checklist.FacilityName `json:"name"`
}

func facilityRef(f checklist.Facility) facilityRefJSON {
	return facilityRefJSON{ID: f.ID, Code: f.Code, Name: f.Name}
}

type sectionScoreJSON struct {
	Key          string         `json:"key"`
	Title        checklist.Text `json:"title"`
	Points       float64        `json:"points"`
	MaxPoints    float64        `json:"max_points"`
	ScorePercent float64        `json:"score_percent"`
	Failed       int            `json:"failed"`
	NA           int            `json:"na"`
	Answered     int            `json:"answered"`
}

func newSectionScoreJSON(s checklist.SectionTally) sectionScoreJSON {
	return sectionScoreJSON{Key: s.Key, Title: s.Title, Points: s.Points, MaxPoints: s.MaxPoints,
		ScorePercent: s.Percent, Failed: s.Failed, NA: s.NA, Answered: s.Answered}
}

type facilityResultJSON struct {
	Facility       facilityRefJSON    `json:"facility"`
	Inspected      bool               `json:"inspected"`
	InspectionID   string             `json:"inspection_id,omitempty"`
	InspectionDate string             `json:"inspection_date,omitempty"`
	Status         string             `json:"status"` // submitted, approved or not_inspected
	Points         float64            `json:"points"`
	MaxPoints      float64            `json:"max_points"`
	ScorePercent   float64            `json:"score_percent"`
	Failed         int                `json:"failed"`
	NA             int                `json:"na"`
	Answered       int                `json:"answered"`
	FailedItems    []string           `json:"failed_items"`
	Sections       []sectionScoreJSON `json:"sections"`
}

func newFacilityResultJSON(r checklist.FacilityResult) facilityResultJSON {
	out := facilityResultJSON{Facility: facilityRef(r.Facility), Inspected: r.Inspected, Status: "not_inspected",
		Points: r.Points, MaxPoints: r.MaxPoints, ScorePercent: r.Percent, Failed: r.Failed, NA: r.NA,
		Answered: r.Answered, FailedItems: nonNil(r.FailedItems), Sections: []sectionScoreJSON{}}
	if r.Inspected {
		out.InspectionID, out.InspectionDate, out.Status = r.Inspection.ID, r.Inspection.Date.String(), string(r.Inspection.Status)
	}
	for _, sc := range r.Sections {
		out.Sections = append(out.Sections, newSectionScoreJSON(sc))
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type yearHeaderJSON struct {
	FiscalYear      int    `json:"fiscal_year"`
	FiscalYearLabel string `json:"fiscal_year_label"`
}

func yearHeader(fy int) yearHeaderJSON {
	return yearHeaderJSON{FiscalYear: fy, FiscalYearLabel: checklist.FiscalYearLabel(fy)}
}

func (s *Server) facilityReport(c *gin.Context) {
	var probs checklist.Problems
	fy := fiscalYearParam(c, "fiscal_year", &probs)
	if refuseQuery(c, probs) {
		return
	}
	s.serveReport(c, "facilities", yearKeys(fy), func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		d, err := s.yearData(ctx, fy, vers)
		if err != nil {
			return cachedBody{}, err
		}
		return jsonBody(newFacilityReportJSON(d))
	})
}

type facilityReportJSON struct {
	yearHeaderJSON
	Facilities []facilityResultJSON `json:"facilities"`
	Inspected  int                  `json:"inspected"`
	Total      int                  `json:"total"`
}

func newFacilityReportJSON(d *checklist.YearData) facilityReportJSON {
	out := facilityReportJSON{yearHeaderJSON: yearHeader(d.FiscalYear), Facilities: []facilityResultJSON{}}
	for _, r := range checklist.FacilityResults(d) {
		out.Facilities = append(out.Facilities, newFacilityResultJSON(r))
		out.Total++
		if r.Inspected {
			out.Inspected++
		}
	}
	return out
}

func yearKeys(fys ...int) func(map[string]string) []string {
	return func(map[string]string) []string {
		keys := []string{checklist.ReportVersionFacilities}
		for _, fy := range fys {
			keys = append(keys, checklist.ReportVersionYear(fy))
		}
		return keys
	}
}

type itemResultJSON struct {
	Key              string            `json:"key"`
	Section          string            `json:"section"`
	Text             checklist.Text    `json:"text"`
	Answered         int               `json:"answered"`
	NA               int               `json:"na"`
	Failed           int               `json:"failed"`
	FailureRate      float64           `json:"failure_rate"`
	NARate           float64           `json:"na_rate"`
	Points           float64           `json:"points"`
	MaxPoints        float64           `json:"max_points"`
	FailedFacilities []facilityRefJSON `json:"failed_facilities"`
}

func facilitiesByID(d *checklist.YearData) map[string]checklist.Facility {
	m := make(map[string]checklist.Facility, len(d.Facilities))
	for _, f := range d.Facilities {
		m[f.ID] = f
	}
	return m
}

func refs(byID map[string]checklist.Facility, ids []string) []facilityRefJSON {
	out := make([]facilityRefJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, facilityRef(byID[id]))
	}
	return out
}

func (s *Server) itemReport(c *gin.Context) {
	var probs checklist.Problems
	fy := fiscalYearParam(c, "fiscal_year", &probs)
	if refuseQuery(c, probs) {
		return
	}
	s.serveReport(c, "items", yearKeys(fy), func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		d, err := s.yearData(ctx, fy, vers)
		if err != nil {
			return cachedBody{}, err
		}
		byID := facilitiesByID(d)
		out := struct {
			yearHeaderJSON
			Inspected int              `json:"inspected"`
			Items     []itemResultJSON `json:"items"`
		}{yearHeaderJSON: yearHeader(fy), Inspected: len(d.Latest), Items: []itemResultJSON{}}
		for _, r := range checklist.ItemResults(d) {
			out.Items = append(out.Items, itemResultJSON{Key: r.Key, Section: r.SectionKey, Text: r.Text,
				Answered: r.Answered, NA: r.NA, Failed: r.Failed, FailureRate: r.FailureRate, NARate: r.NARate,
				Points: r.Points, MaxPoints: r.MaxPoints, FailedFacilities: refs(byID, r.FailedFacilities)})
		}
		return jsonBody(out)
	})
}

func (s *Server) sectionReport(c *gin.Context) {
	var probs checklist.Problems
	fy := fiscalYearParam(c, "fiscal_year", &probs)
	if refuseQuery(c, probs) {
		return
	}
	s.serveReport(c, "sections", yearKeys(fy), func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		d, err := s.yearData(ctx, fy, vers)
		if err != nil {
			return cachedBody{}, err
		}
		type sectionJSON struct {
			sectionScoreJSON
			Facilities             int     `json:"facilities"`
			AverageFacilityPercent float64 `json:"average_facility_percent"`
		}
		out := struct {
			yearHeaderJSON
			Sections []sectionJSON `json:"sections"`
		}{yearHeaderJSON: yearHeader(fy), Sections: []sectionJSON{}}
		for _, r := range checklist.SectionResults(d) {
			out.Sections = append(out.Sections, sectionJSON{newSectionScoreJSON(r.SectionTally), r.Facilities, r.AveragePercent})
		}
		return jsonBody(out)
	})
}

func (s *Server) yearOverYearReport(c *gin.Context) {
	var probs checklist.Problems
	from := fiscalYearParam(c, "from", &probs)
	to := fiscalYearParam(c, "to", &probs)
	if len(probs) == 0 && from >= to {
		probs.Add("to", "range", "to must be a later fiscal year than from")
	}
	if refuseQuery(c, probs) {
		return
	}
	s.serveReport(c, "year-over-year", yearKeys(from, to), func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		a, err := s.yearData(ctx, from, vers)
		if err != nil {
			return cachedBody{}, err
		}
		b, err := s.yearData(ctx, to, vers)
		if err != nil {
			return cachedBody{}, err
		}
		return jsonBody(newComparisonJSON(checklist.CompareYears(a, b), facilitiesByID(b)))
	})
}

type facilityComparisonJSON struct {
	Facility     facilityRefJSON `json:"facility"`
	InspectedA   bool            `json:"inspected_from"`
	InspectedB   bool            `json:"inspected_to"`
	PercentA     float64         `json:"score_percent_from"`
	PercentB     float64         `json:"score_percent_to"`
	Delta        float64         `json:"delta"`
	Change       string          `json:"change"`
	Improved     []string        `json:"improved"`
	StillFailing []string        `json:"still_failing"`
	NewlyFailing []string        `json:"newly_failing"`
}

type itemComparisonJSON struct {
	Key          string            `json:"key"`
	Section      string            `json:"section"`
	Text         checklist.Text    `json:"text"`
	FailureRateA float64           `json:"failure_rate_from"`
	FailureRateB float64           `json:"failure_rate_to"`
	Change       string            `json:"change"`
	Improved     []facilityRefJSON `json:"improved"`
	StillFailing []facilityRefJSON `json:"still_failing"`
	NewlyFailing []facilityRefJSON `json:"newly_failing"`
}

type comparisonJSON struct {
	From       yearHeaderJSON           `json:"from"`
	To         yearHeaderJSON           `json:"to"`
	Facilities []facilityComparisonJSON `json:"facilities"`
	Items      []itemComparisonJSON     `json:"items"`
}

func newComparisonJSON(yc checklist.YearComparison, byID map[string]checklist.Facility) comparisonJSON {
	out := comparisonJSON{From: yearHeader(yc.A), To: yearHeader(yc.B),
		Facilities: []facilityComparisonJSON{}, Items: []itemComparisonJSON{}}
	for _, f := range yc.Facilities {
		out.Facilities = append(out.Facilities, facilityComparisonJSON{Facility: facilityRef(f.Facility),
			InspectedA: f.InspectedA, InspectedB: f.InspectedB, PercentA: f.PercentA, PercentB: f.PercentB,
			Delta: f.Delta, Change: f.Change, Improved: nonNil(f.Improved), StillFailing: nonNil(f.StillFailing),
			NewlyFailing: nonNil(f.NewlyFailing)})
	}
	for _, it := range yc.Items {
		out.Items = append(out.Items, itemComparisonJSON{Key: it.Key, Section: it.SectionKey, Text: it.Text,
			FailureRateA: it.FailureRateA, FailureRateB: it.FailureRateB, Change: it.Change,
			Improved: refs(byID, it.Improved), StillFailing: refs(byID, it.StillFailing), NewlyFailing: refs(byID, it.NewlyFailing)})
	}
	return out
}

// persistentYears returns the report data of the run of fiscal years up
// to and including to that have data, oldest first.
func (s *Server) persistentYears(ctx context.Context, to int, vers map[string]string) ([]*checklist.YearData, error) {
	fys := []int{to}
	for fy := to - 1; ; fy-- {
		if _, ok := vers[checklist.ReportVersionYear(fy)]; !ok {
			break
		}
		fys = append(fys, fy)
	}
	slices.Reverse(fys)
	return s.yearsData(ctx, fys, vers)
}

// persistentKeys are the versions of the run of years ending at to.
func persistentKeys(to int) func(map[string]string) []string {
	return func(vers map[string]string) []string {
		keys := []string{checklist.ReportVersionFacilities, checklist.ReportVersionYear(to)}
		for fy := to - 1; ; fy-- {
			if _, ok := vers[checklist.ReportVersionYear(fy)]; !ok {
				break
			}
			keys = append(keys, checklist.ReportVersionYear(fy))
		}
		return keys
	}
}

type persistentJSON struct {
	Rank              int             `json:"rank"`
	Facility          facilityRefJSON `json:"facility"`
	Item              string          `json:"item"`
	Section           string          `json:"section"`
	Text              checklist.Text  `json:"text"`
	Years             int             `json:"years"`
	From              int             `json:"from"`
	To                int             `json:"to"`
	FacilitiesFailing int             `json:"facilities_failing"`
}

func newPersistentJSON(p checklist.PersistentProblem) persistentJSON {
	return persistentJSON{Rank: p.Rank, Facility: facilityRef(p.Facility), Item: p.ItemKey, Section: p.SectionKey,
		Text: p.Text, Years: p.Years, From: p.From, To: p.To, FacilitiesFailing: p.FacilitiesFailing}
}

func (s *Server) persistentReport(c *gin.Context) {
	var probs checklist.Problems
	to := fiscalYearParam(c, "fiscal_year", &probs)
	minYears := checklist.MinPersistentYears
	if v := c.Query("min_years"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 50 {
			probs.Add("min_years", "range", "min_years must be an integer from 2 to 50")
		}
		minYears = n
	}
	if refuseQuery(c, probs) {
		return
	}
	s.serveReport(c, "persistent", persistentKeys(to), func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		years, err := s.persistentYears(ctx, to, vers)
		if err != nil {
			return cachedBody{}, err
		}
		out := struct {
			yearHeaderJSON
			MinYears int              `json:"min_years"`
			Problems []persistentJSON `json:"problems"`
		}{yearHeaderJSON: yearHeader(to), MinYears: minYears, Problems: []persistentJSON{}}
		for _, p := range checklist.PersistentProblems(years, minYears) {
			out.Problems = append(out.Problems, newPersistentJSON(p))
		}
		return jsonBody(out)
	})
}

type reportFindingJSON struct {
	Facility       facilityRefJSON `json:"facility"`
	InspectionID   string          `json:"inspection_id"`
	InspectionDate string          `json:"inspection_date"`
	Status         string          `json:"status"`
	Item           string          `json:"item"`
	Section        string          `json:"section"`
	Text           checklist.Text  `json:"text"`
	Comment        string          `json:"comment"`
	Photos         []string        `json:"photos"`
	ReviewComment  string          `json:"review_comment,omitempty"`
}

func (s *Server) findingsReport(c *gin.Context) {
	var probs checklist.Problems
	fy := fiscalYearParam(c, "fiscal_year", &probs)
	facility, section, item := c.Query("facility_id"), c.Query("section"), c.Query("item")
	if refuseQuery(c, probs) {
		return
	}
	s.serveReport(c, "findings", yearKeys(fy), func(ctx context.Context, vers map[string]string) (cachedBody, error) {
		d, err := s.yearData(ctx, fy, vers)
		if err != nil {
			return cachedBody{}, err
		}
		fs, err := s.findings(ctx, d, facility, section, item)
		if err != nil {
			return cachedBody{}, err
		}
		out := struct {
			yearHeaderJSON
			Findings []reportFindingJSON `json:"findings"`
		}{yearHeaderJSON: yearHeader(fy), Findings: []reportFindingJSON{}}
		byID := facilitiesByID(d)
		texts := itemTexts(d)
		for _, f := range fs {
			out.Findings = append(out.Findings, reportFindingJSON{Facility: facilityRef(byID[f.FacilityID]),
				InspectionID: f.InspectionID, InspectionDate: f.Date.String(), Status: string(f.Status),
				Item: f.ItemKey, Section: f.SectionKey, Text: texts[f.ItemKey], Comment: f.Comment,
				Photos: nonNil(f.Photos), ReviewComment: f.ReviewComment})
		}
		return jsonBody(out)
	})
}

func itemTexts(d *checklist.YearData) map[string]checklist.Text {
	m := map[string]checklist.Text{}
	if d.Content != nil {
		for _, it := range d.Content.Items() {
			m[it.Key] = it.Text
		}
	}
	return m
}

// findings reads the findings of d's year filtered by facility, section
// and item, ordered by facility code then item order.
func (s *Server) findings(ctx context.Context, d *checklist.YearData, facility, section, item string) ([]checklist.Finding, error) {
	var keys []string
	if section != "" {
		keys = []string{}
		if d.Content != nil {
			for _, sec := range d.Content.Sections {
				if sec.Key == section {
					for _, it := range sec.Items {
						keys = append(keys, it.Key)
					}
				}
			}
		}
	}
	if item != "" {
		if keys != nil && !slices.Contains(keys, item) {
			return nil, nil
		}
		keys = []string{item}
	}
	if keys != nil && len(keys) == 0 {
		return nil, nil
	}
	var fs []checklist.Finding
	for _, f := range d.Findings {
		if (facility == "" || f.FacilityID == facility) && (keys == nil || slices.Contains(keys, f.ItemKey)) {
			fs = append(fs, f)
		}
	}
	sectionOf := d.SectionOf()
	order := map[string]int{}
	for i, k := range d.ItemKeys() {
		order[k] = i
	}
	code := map[string]string{}
	for _, f := range d.Facilities {
		code[f.ID] = f.Code
	}
	for i := range fs {
		fs[i].SectionKey = sectionOf[fs[i].ItemKey]
	}
	slices.SortFunc(fs, func(a, b checklist.Finding) int {
		if c := strings.Compare(code[a.FacilityID], code[b.FacilityID]); c != 0 {
			return c
		}
		return order[a.ItemKey] - order[b.ItemKey]
	})
	return fs, nil
}
