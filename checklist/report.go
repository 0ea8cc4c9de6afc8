package checklist

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Report arithmetic. The database sums the stored numbers of each answer
// (failed, na, answered, points, max_points) per facility and item; the
// functions here turn those sums into the figures reviewers read: rates,
// percentages, year-over-year classes and persistent problems. They are
// pure, so tests recompute every figure independently and compare.

// ReportStatuses are the statuses whose inspections count in reports.
var ReportStatuses = []Status{StatusSubmitted, StatusApproved}

// CountsInReports reports whether an inspection in status s is data.
func (s Status) CountsInReports() bool { return s == StatusSubmitted || s == StatusApproved }

// ReportInspection is what reports need of an inspection besides its
// answers.
type ReportInspection struct {
	ID          string
	FacilityID  string
	ChecklistID string
	Version     int
	Date        Date
	Status      Status
	UpdatedAt   time.Time
}

// Later reports whether in is the later of two inspections of one
// facility: by inspection date, then by last change, then by id.
func (in ReportInspection) Later(other ReportInspection) bool {
	if c := cmp.Compare(in.Date.String(), other.Date.String()); c != 0 {
		return c > 0
	}
	if !in.UpdatedAt.Equal(other.UpdatedAt) {
		return in.UpdatedAt.After(other.UpdatedAt)
	}
	return in.ID > other.ID
}

// LatestPerFacility picks each facility's latest inspection.
func LatestPerFacility(ins []ReportInspection) map[string]ReportInspection {
	m := map[string]ReportInspection{}
	for _, in := range ins {
		if cur, ok := m[in.FacilityID]; !ok || in.Later(cur) {
			m[in.FacilityID] = in
		}
	}
	return m
}

// Tally is the sum of one facility's answers to one item in its latest
// inspection of a fiscal year, as the database computes it.
type Tally struct {
	FacilityID string
	ItemKey    string
	Answered   int
	Failed     int
	NA         int
	Points     float64
	MaxPoints  float64
}

// Add adds u to t.
func (t *Tally) Add(u Tally) {
	t.Answered += u.Answered
	t.Failed += u.Failed
	t.NA += u.NA
	t.Points += u.Points
	t.MaxPoints += u.MaxPoints
}

// Outcome of an item at a facility in a year, for comparisons.
type ItemState int

// Item states.
const (
	ItemUnknown ItemState = iota // not answered, N/A, or not inspected
	ItemPassed
	ItemFailed
)

// State is the item's state in the tally.
func (t Tally) State() ItemState {
	switch {
	case t.Failed > 0:
		return ItemFailed
	case t.Answered > 0 && t.NA == 0:
		return ItemPassed
	}
	return ItemUnknown
}

// Percent is 100 × points / max points, 0 when nothing scores.
func Percent(points, maxPoints float64) float64 {
	if maxPoints <= 0 {
		return 0
	}
	return 100 * points / maxPoints
}

// Rate is n / d, 0 when d is 0.
func Rate(n, d int) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// YearData is everything reports of one fiscal year are computed from:
// the facilities, each one's latest counted inspection, and the sums per
// facility and item. Content describes sections and items (the newest
// version among the inspections; keys are stable across versions).
//
// A YearData is read, never modified: reports share it between requests,
// and its per-facility tallies and findings' photo lists with the store's
// copy of the data.
type YearData struct {
	FiscalYear int
	Facilities []Facility // sorted by code
	Latest     map[string]ReportInspection
	Tallies    map[string]map[string]Tally // facility id → item key → tally
	Findings   []Finding                   // the failed answers, in no order
	Content    *Content
}

// tally returns the tally of facility f and item key.
func (d *YearData) tally(f, key string) Tally { return d.Tallies[f][key] }

// SectionOf maps item keys to their section keys.
func (d *YearData) SectionOf() map[string]string {
	m := map[string]string{}
	if d.Content == nil {
		return m
	}
	for _, s := range d.Content.Sections {
		for _, it := range s.Items {
			m[it.Key] = s.Key
		}
	}
	return m
}

// ItemKeys lists the items in content order, then any key answered but
// not in the content, sorted.
func (d *YearData) ItemKeys() []string {
	var keys []string
	seen := map[string]bool{}
	if d.Content != nil {
		for _, it := range d.Content.Items() {
			if !seen[it.Key] {
				seen[it.Key] = true
				keys = append(keys, it.Key)
			}
		}
	}
	var extra []string
	for _, m := range d.Tallies {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				extra = append(extra, k)
			}
		}
	}
	slices.Sort(extra)
	return append(keys, extra...)
}

// SectionTally is a section's score in one facility or across all.
type SectionTally struct {
	Key       string
	Title     Text
	Points    float64
	MaxPoints float64
	Percent   float64
	Failed    int
	NA        int
	Answered  int
}

// FacilityResult is one facility's row of the facility report.
type FacilityResult struct {
	Facility    Facility
	Inspected   bool
	Inspection  ReportInspection // zero unless Inspected
	Points      float64
	MaxPoints   float64
	Percent     float64
	Failed      int
	NA          int
	Answered    int
	FailedItems []string // item keys in content order
	Sections    []SectionTally
}

// FacilityResults is the facility report: every facility, inspected or
// not, in code order.
func FacilityResults(d *YearData) []FacilityResult {
	keys := d.ItemKeys()
	sectionOf := d.SectionOf()
	var sections []Section
	if d.Content != nil {
		sections = d.Content.Sections
	}
	out := make([]FacilityResult, 0, len(d.Facilities))
	for _, f := range d.Facilities {
		r := FacilityResult{Facility: f}
		in, ok := d.Latest[f.ID]
		if ok {
			r.Inspected, r.Inspection = true, in
		}
		bySection := map[string]*SectionTally{}
		for _, s := range sections {
			bySection[s.Key] = &SectionTally{Key: s.Key, Title: s.Title}
		}
		tallies := d.Tallies[f.ID]
		for _, k := range keys {
			t, ok := tallies[k]
			if !ok {
				continue
			}
			r.Points += t.Points
			r.MaxPoints += t.MaxPoints
			r.Failed += t.Failed
			r.NA += t.NA
			r.Answered += t.Answered
			if t.Failed > 0 {
				r.FailedItems = append(r.FailedItems, k)
			}
			if s := bySection[sectionOf[k]]; s != nil {
				s.Points += t.Points
				s.MaxPoints += t.MaxPoints
				s.Failed += t.Failed
				s.NA += t.NA
				s.Answered += t.Answered
			}
		}
		r.Percent = Percent(r.Points, r.MaxPoints)
		if r.Inspected {
			for _, s := range sections {
				sc := bySection[s.Key]
				sc.Percent = Percent(sc.Points, sc.MaxPoints)
				r.Sections = append(r.Sections, *sc)
			}
		}
		out = append(out, r)
	}
	return out
}

// ItemResult is one item's row of the item report.
type ItemResult struct {
	Key        string
	SectionKey string
	Text       Text
	// Facilities that answered the item, of which NA said N/A and
	// Failed failed it.
	Answered int
	NA       int
	Failed   int
	// FailureRate is Failed / (Answered − NA): of the facilities where
	// the item applies, the share that fail it. NARate is NA / Answered.
	FailureRate      float64
	NARate           float64
	Points           float64
	MaxPoints        float64
	FailedFacilities []string // facility ids in code order
}

// ItemResults is the item report, in content order, each item's rates
// across the facilities inspected in the year.
func ItemResults(d *YearData) []ItemResult {
	sectionOf := d.SectionOf()
	texts := map[string]Text{}
	if d.Content != nil {
		for _, it := range d.Content.Items() {
			texts[it.Key] = it.Text
		}
	}
	// Each facility's tallies looked up once, not once per item.
	tallies := make([]map[string]Tally, len(d.Facilities))
	for i, f := range d.Facilities {
		tallies[i] = d.Tallies[f.ID]
	}
	var out []ItemResult
	for _, k := range d.ItemKeys() {
		r := ItemResult{Key: k, SectionKey: sectionOf[k], Text: texts[k]}
		for i, f := range d.Facilities {
			t, ok := tallies[i][k]
			if !ok {
				continue
			}
			if t.Answered > 0 {
				r.Answered++
			}
			if t.NA > 0 {
				r.NA++
			}
			if t.Failed > 0 {
				r.Failed++
				r.FailedFacilities = append(r.FailedFacilities, f.ID)
			}
			r.Points += t.Points
			r.MaxPoints += t.MaxPoints
		}
		r.FailureRate = Rate(r.Failed, r.Answered-r.NA)
		r.NARate = Rate(r.NA, r.Answered)
		out = append(out, r)
	}
	return out
}

// SectionResult is one section's row of the section report.
type SectionResult struct {
	SectionTally
	// Facilities inspected that answered at least one item of the
	// section, and AveragePercent the mean of their section percentages.
	Facilities     int
	AveragePercent float64
}

// SectionResults is the section report: each section's score across the
// facilities inspected in the year.
func SectionResults(d *YearData) []SectionResult {
	if d.Content == nil {
		return nil
	}
	rows := FacilityResults(d)
	out := make([]SectionResult, 0, len(d.Content.Sections))
	for i, s := range d.Content.Sections {
		r := SectionResult{SectionTally: SectionTally{Key: s.Key, Title: s.Title}}
		var sum float64
		for _, fr := range rows {
			if !fr.Inspected {
				continue
			}
			sc := fr.Sections[i]
			r.Points += sc.Points
			r.MaxPoints += sc.MaxPoints
			r.Failed += sc.Failed
			r.NA += sc.NA
			r.Answered += sc.Answered
			if sc.Answered > 0 {
				r.Facilities++
				sum += sc.Percent
			}
		}
		r.Percent = Percent(r.Points, r.MaxPoints)
		if r.Facilities > 0 {
			r.AveragePercent = sum / float64(r.Facilities)
		}
		out = append(out, r)
	}
	return out
}

// Change classes of year-over-year comparisons.
const (
	ChangeImproved     = "improved"      // passed in B after failing in A; a facility's score rose
	ChangeRegressed    = "regressed"     // a facility's score fell
	ChangeStillFailing = "still_failing" // failed in both years
	ChangeNewlyFailing = "newly_failing" // failed in B after passing in A
	ChangeUnchanged    = "unchanged"
	ChangeNotCompared  = "not_compared" // not inspected in one of the years
)

// FacilityChange compares a facility's results of fiscal years A and B.
type FacilityComparison struct {
	Facility     Facility
	PercentA     float64
	PercentB     float64
	InspectedA   bool
	InspectedB   bool
	Delta        float64 // PercentB − PercentA
	Change       string  // improved, regressed, unchanged or not_compared
	Improved     []string
	StillFailing []string
	NewlyFailing []string
}

// ItemComparison compares an item across facilities in years A and B.
type ItemComparison struct {
	Key          string
	SectionKey   string
	Text         Text
	FailureRateA float64
	FailureRateB float64
	Change       string // improved (rate fell), regressed (rate rose), unchanged
	Improved     []string
	StillFailing []string
	NewlyFailing []string
}

// YearComparison is the year-over-year report of A against B.
type YearComparison struct {
	A, B       int
	Facilities []FacilityComparison
	Items      []ItemComparison
}

// CompareYears compares fiscal year a with b (usually b = a + 1). An
// item counts at a facility only when it passed or failed in both years.
func CompareYears(a, b *YearData) YearComparison {
	out := YearComparison{A: a.FiscalYear, B: b.FiscalYear}
	ra, rb := FacilityResults(a), FacilityResults(b)
	byID := map[string]FacilityResult{}
	for _, r := range ra {
		byID[r.Facility.ID] = r
	}
	keys := b.ItemKeys()
	for _, k := range a.ItemKeys() {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	items := map[string]*ItemComparison{}
	for _, r := range rb {
		fa := byID[r.Facility.ID]
		c := FacilityComparison{Facility: r.Facility, PercentA: fa.Percent, PercentB: r.Percent,
			InspectedA: fa.Inspected, InspectedB: r.Inspected}
		switch {
		case !c.InspectedA || !c.InspectedB:
			c.Change = ChangeNotCompared
		default:
			c.Delta = c.PercentB - c.PercentA
			switch {
			case c.Delta > 1e-9:
				c.Change = ChangeImproved
			case c.Delta < -1e-9:
				c.Change = ChangeRegressed
			default:
				c.Change = ChangeUnchanged
			}
			for _, k := range keys {
				ic := items[k]
				if ic == nil {
					ic = &ItemComparison{Key: k}
					items[k] = ic
				}
				switch sa, sb := a.tally(r.Facility.ID, k).State(), b.tally(r.Facility.ID, k).State(); {
				case sa == ItemFailed && sb == ItemPassed:
					c.Improved = append(c.Improved, k)
					ic.Improved = append(ic.Improved, r.Facility.ID)
				case sa == ItemFailed && sb == ItemFailed:
					c.StillFailing = append(c.StillFailing, k)
					ic.StillFailing = append(ic.StillFailing, r.Facility.ID)
				case sa == ItemPassed && sb == ItemFailed:
					c.NewlyFailing = append(c.NewlyFailing, k)
					ic.NewlyFailing = append(ic.NewlyFailing, r.Facility.ID)
				}
			}
		}
		out.Facilities = append(out.Facilities, c)
	}
	rateA, rateB := map[string]ItemResult{}, map[string]ItemResult{}
	for _, r := range ItemResults(a) {
		rateA[r.Key] = r
	}
	for _, r := range ItemResults(b) {
		rateB[r.Key] = r
	}
	for _, k := range keys {
		ic := ItemComparison{Key: k}
		if p := items[k]; p != nil {
			ic = *p
		}
		ib, ok := rateB[k]
		if !ok {
			ib = rateA[k]
		}
		ic.SectionKey, ic.Text = ib.SectionKey, ib.Text
		ic.FailureRateA, ic.FailureRateB = rateA[k].FailureRate, rateB[k].FailureRate
		switch d := ic.FailureRateB - ic.FailureRateA; {
		case d < -1e-9:
			ic.Change = ChangeImproved
		case d > 1e-9:
			ic.Change = ChangeRegressed
		default:
			ic.Change = ChangeUnchanged
		}
		out.Items = append(out.Items, ic)
	}
	return out
}

// PersistentProblem is an item a facility has failed in consecutive
// fiscal years up to and including To.
type PersistentProblem struct {
	Rank       int
	Facility   Facility
	ItemKey    string
	SectionKey string
	Text       Text
	Years      int // consecutive fiscal years failed, ending at To
	From, To   int
	// FacilitiesFailing is how many facilities fail the item in To: an
	// item failing widely ranks higher among problems of equal length.
	FacilitiesFailing int
}

// MinPersistentYears is how many years in a row make a problem persistent.
const MinPersistentYears = 2

// PersistentProblems finds items failing at a facility in at least
// minYears consecutive fiscal years ending at the last of years (which
// must be sorted by fiscal year; a missing year breaks a run). They are
// ranked longest run first, then by how many facilities fail the item in
// the last year, then by facility code and item order.
func PersistentProblems(years []*YearData, minYears int) []PersistentProblem {
	if len(years) == 0 {
		return nil
	}
	last := years[len(years)-1]
	// ItemResults lists every item of ItemKeys, in its order. The keys
	// once: ItemKeys walks every facility's tallies, so calling it per
	// facility made this quadratic (42 s at 1,448 facilities).
	items := ItemResults(last)
	order := map[string]int{}
	failing := 0 // every failed item of the last year, at most
	for i, it := range items {
		order[it.Key] = i
		failing += it.Failed
	}
	out := make([]PersistentProblem, 0, failing)
	earlier := make([]map[string]Tally, len(years)-1)
	for _, f := range last.Facilities {
		tallies := last.Tallies[f.ID]
		for i := range earlier {
			earlier[i] = years[i].Tallies[f.ID]
		}
		for _, it := range items {
			k := it.Key
			if tallies[k].State() != ItemFailed {
				continue
			}
			n := 1
			for i := len(years) - 2; i >= 0; i-- {
				if years[i].FiscalYear != last.FiscalYear-n || earlier[i][k].State() != ItemFailed {
					break
				}
				n++
			}
			if n < minYears {
				continue
			}
			out = append(out, PersistentProblem{Facility: f, ItemKey: k, SectionKey: it.SectionKey, Text: it.Text,
				Years: n, From: last.FiscalYear - n + 1, To: last.FiscalYear, FacilitiesFailing: it.Failed})
		}
	}
	slices.SortStableFunc(out, func(x, y PersistentProblem) int {
		return cmp.Or(
			cmp.Compare(y.Years, x.Years),
			cmp.Compare(y.FacilitiesFailing, x.FacilitiesFailing),
			cmp.Compare(x.Facility.Code, y.Facility.Code),
			cmp.Compare(order[x.ItemKey], order[y.ItemKey]),
		)
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// Finding is one failed answer of a facility's latest counted inspection.
type Finding struct {
	InspectionID  string
	FacilityID    string
	FiscalYear    int
	Date          Date
	Status        Status
	ItemKey       string
	SectionKey    string
	Comment       string
	Photos        []string // sha256 of the photos recorded for the item
	ReviewComment string
}

// FindingQuery filters findings; empty fields select everything.
type FindingQuery struct {
	FiscalYear int
	FacilityID string
	SectionKey string
	ItemKey    string
}

// FiscalYearLabels shows a fiscal year as both "2026" and "令和8年度".
func FiscalYearLabels(fy int) string {
	return strconv.Itoa(fy) + "（" + FiscalYearLabel(fy) + "）"
}

// PlanRow is one line of next fiscal year's improvement plan: an item a
// facility failed in the results year, with how many years in a row.
type PlanRow struct {
	Priority int
	PersistentProblem
	Comment string // the inspector's comment on the failed answer
}

// Plan lists every item failed in the last of years (sorted by fiscal
// year) as next year's plan, persistent problems first: the ranking of
// PersistentProblems with a run of one year included. comments gives the
// failed answers' comments by facility id and item key.
func Plan(years []*YearData, comments map[string]map[string]string) []PlanRow {
	ps := PersistentProblems(years, 1)
	out := make([]PlanRow, 0, len(ps))
	for _, p := range ps {
		out = append(out, PlanRow{Priority: p.Rank, PersistentProblem: p, Comment: comments[p.Facility.ID][p.ItemKey]})
	}
	return out
}

// PlanPersistent is PersistentProblems(years, minYears) of the years
// plan was made from, read off the plan instead of computed again: the
// plan ranks the same problems by the same total order, with the
// one-year runs among them.
func PlanPersistent(plan []PlanRow, minYears int) []PersistentProblem {
	var out []PersistentProblem
	for _, r := range plan {
		if r.Years >= minYears {
			p := r.PersistentProblem
			p.Rank = len(out) + 1
			out = append(out, p)
		}
	}
	return out
}
