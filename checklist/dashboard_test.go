package checklist_test

import (
	"testing"

	"tenken/checklist"
)

func TestStandingOf(t *testing.T) {
	active := func(code string) checklist.Facility { return checklist.Facility{ID: code, Code: code, Active: true} }
	inspected := func(f checklist.Facility, st checklist.Status, pct float64) checklist.FacilityResult {
		return checklist.FacilityResult{Facility: f, Inspected: true, Inspection: checklist.ReportInspection{Status: st}, Percent: pct}
	}
	closed := checklist.Facility{ID: "z", Code: "Z"}
	t.Run("OK", func(t *testing.T) {
		got := checklist.StandingOf([]checklist.FacilityResult{
			inspected(active("A"), checklist.StatusApproved, 100),
			inspected(active("B"), checklist.StatusSubmitted, 50),
			inspected(closed, checklist.StatusApproved, 75),    // closed after its inspection: counts
			{Facility: active("C")},                            // not yet
			{Facility: checklist.Facility{ID: "y", Code: "Y"}}, // closed, never inspected: left out
		})
		want := checklist.YearStanding{Facilities: 4, Inspected: 3, NotYet: 1, InReview: 1, Approved: 2, Average: 75}
		want.Distribution[9], want.Distribution[5], want.Distribution[7] = 1, 1, 1
		if got != want {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
	})
	t.Run("NoneInspected", func(t *testing.T) {
		got := checklist.StandingOf([]checklist.FacilityResult{{Facility: active("A")}})
		if got.Average != 0 || got.Inspected != 0 || got.NotYet != 1 || got.Distribution != [10]int{} {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if got := checklist.StandingOf(nil); got != (checklist.YearStanding{}) {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestSummarizeComparison(t *testing.T) {
	fc := func(code, change string, delta float64) checklist.FacilityComparison {
		return checklist.FacilityComparison{Facility: checklist.Facility{Code: code}, Change: change, Delta: delta}
	}
	got := checklist.SummarizeComparison(checklist.YearComparison{Facilities: []checklist.FacilityComparison{
		fc("A", checklist.ChangeImproved, 10),
		fc("B", checklist.ChangeRegressed, -20),
		fc("C", checklist.ChangeNotCompared, 0),
		fc("D", checklist.ChangeUnchanged, 0),
		fc("E", checklist.ChangeRegressed, -5),
	}})
	if got.Improved != 1 || got.Regressed != 2 {
		t.Errorf("improved %d, regressed %d; want 1, 2", got.Improved, got.Regressed)
	}
	var order string
	for _, f := range got.Compared {
		order += f.Facility.Code
	}
	if order != "BEDA" {
		t.Errorf("compared order %s, want BEDA (largest drop first, not-compared left out)", order)
	}
}

func TestWeakestSectionsAndMostFailedItems(t *testing.T) {
	secs := []checklist.SectionResult{
		{SectionTally: checklist.SectionTally{Key: "a", MaxPoints: 4}, AveragePercent: 80},
		{SectionTally: checklist.SectionTally{Key: "notes", MaxPoints: 0}},
		{SectionTally: checklist.SectionTally{Key: "b", MaxPoints: 4}, AveragePercent: 40},
		{SectionTally: checklist.SectionTally{Key: "c", MaxPoints: 4}, AveragePercent: 60},
	}
	var got string
	for _, s := range checklist.WeakestSections(secs, 2) {
		got += s.Key
	}
	if got != "bc" {
		t.Errorf("weakest two sections %q, want bc (notes left out)", got)
	}
	if secs[0].Key != "a" {
		t.Error("WeakestSections reordered its argument")
	}
	items := []checklist.ItemResult{
		{Key: "x", Failed: 1, FailureRate: 0.2},
		{Key: "never", Failed: 0},
		{Key: "y", Failed: 3, FailureRate: 0.6},
		{Key: "z", Failed: 1, FailureRate: 0.2},
	}
	got = ""
	for _, it := range checklist.MostFailedItems(items, 5) {
		got += it.Key
	}
	if got != "yxz" {
		t.Errorf("most failed items %q, want yxz", got)
	}
}
