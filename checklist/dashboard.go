package checklist

import (
	"cmp"
	"slices"
)

// YearStanding is where a fiscal year stands, as the dashboard's cards
// and score distribution show it.
type YearStanding struct {
	// Facilities counts the active facilities and the inactive ones
	// inspected this year (a facility closed mid-year still counts once
	// inspected).
	Facilities int
	Inspected  int // facilities with a counted inspection
	NotYet     int // Facilities − Inspected
	InReview   int // inspected, not yet approved
	Approved   int
	// Average is the mean score (%) of the inspected facilities; 0 when
	// none was inspected.
	Average      float64
	Distribution [10]int // ScoreBuckets of the inspected facilities' scores
}

// StandingOf summarises a year's facility results (FacilityResults).
// Only a facility's latest counted inspection is in results, so each
// facility is counted once.
func StandingOf(results []FacilityResult) YearStanding {
	var s YearStanding
	var percents []float64
	var sum float64
	for _, r := range results {
		if !r.Facility.Active && !r.Inspected {
			continue
		}
		s.Facilities++
		if !r.Inspected {
			s.NotYet++
			continue
		}
		s.Inspected++
		if r.Inspection.Status == StatusApproved {
			s.Approved++
		} else {
			s.InReview++
		}
		percents = append(percents, r.Percent)
		sum += r.Percent
	}
	if s.Inspected > 0 {
		s.Average = sum / float64(s.Inspected)
	}
	s.Distribution = ScoreBuckets(percents)
	return s
}

// ComparisonSummary is a year-over-year comparison as the dashboard
// shows it.
type ComparisonSummary struct {
	Improved  int
	Regressed int
	// Compared are the facilities inspected in both years, the largest
	// drop first (ties keep code order).
	Compared []FacilityComparison
}

// SummarizeComparison counts c's improved and regressed facilities and
// orders the compared ones by change.
func SummarizeComparison(c YearComparison) ComparisonSummary {
	var s ComparisonSummary
	for _, f := range c.Facilities {
		switch f.Change {
		case ChangeImproved:
			s.Improved++
		case ChangeRegressed:
			s.Regressed++
		}
		if f.Change != ChangeNotCompared {
			s.Compared = append(s.Compared, f)
		}
	}
	slices.SortStableFunc(s.Compared, func(a, b FacilityComparison) int { return cmp.Compare(a.Delta, b.Delta) })
	return s
}

// WeakestSections returns at most n of rs, lowest average score first
// (ties keep rs's order). Sections that score nothing (free-text notes)
// cannot be weak and are left out.
func WeakestSections(rs []SectionResult, n int) []SectionResult {
	out := slices.DeleteFunc(slices.Clone(rs), func(r SectionResult) bool { return r.MaxPoints <= 0 })
	slices.SortStableFunc(out, func(a, b SectionResult) int { return cmp.Compare(a.AveragePercent, b.AveragePercent) })
	return out[:min(n, len(out))]
}

// MostFailedItems returns at most n of the items of rs that failed
// somewhere, highest failure rate first (ties keep rs's order).
func MostFailedItems(rs []ItemResult, n int) []ItemResult {
	out := slices.DeleteFunc(slices.Clone(rs), func(r ItemResult) bool { return r.Failed == 0 })
	slices.SortStableFunc(out, func(a, b ItemResult) int { return cmp.Compare(b.FailureRate, a.FailureRate) })
	return out[:min(n, len(out))]
}
