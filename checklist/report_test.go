package checklist_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"tenken/checklist"
)

// TestPlanPersistent: the persistent problems read off a plan are those
// PersistentProblems computes from the same years, ranks included, over
// years with gaps, facilities not inspected every year and items failed
// by many or few.
func TestPlanPersistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1448))
	c := &checklist.Content{}
	for s := range 4 {
		sec := checklist.Section{Key: fmt.Sprintf("s%d", s)}
		for i := range 5 {
			sec.Items = append(sec.Items, checklist.Item{Key: fmt.Sprintf("s%d.i%d", s, i), Type: checklist.TypeYesNo})
		}
		c.Sections = append(c.Sections, sec)
	}
	facilities := make([]checklist.Facility, 40)
	for i := range facilities {
		facilities[i] = checklist.Facility{ID: fmt.Sprintf("f%02d", i), Code: fmt.Sprintf("C-%02d", (i*7)%40)}
	}
	var years []*checklist.YearData
	for _, fy := range []int{2020, 2022, 2023, 2024, 2025, 2026} { // 2021 missing
		d := &checklist.YearData{FiscalYear: fy, Facilities: facilities, Content: c,
			Latest: map[string]checklist.ReportInspection{}, Tallies: map[string]map[string]checklist.Tally{}}
		for _, f := range facilities {
			if rng.IntN(6) == 0 {
				continue // not inspected this year
			}
			d.Latest[f.ID] = checklist.ReportInspection{ID: fmt.Sprintf("%s-%d", f.ID, fy), FacilityID: f.ID}
			m := map[string]checklist.Tally{}
			for ii, it := range c.Items() {
				tl := checklist.Tally{FacilityID: f.ID, ItemKey: it.Key, Answered: 1}
				if rng.IntN(2+ii/2) == 0 { // early items fail more often
					tl.Failed = 1
				}
				m[it.Key] = tl
			}
			d.Tallies[f.ID] = m
		}
		years = append(years, d)
	}
	plan := checklist.Plan(years, nil)
	for minYears := 1; minYears <= 6; minYears++ {
		want := checklist.PersistentProblems(years, minYears)
		if got := checklist.PlanPersistent(plan, minYears); (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
			t.Errorf("min %d years: got %d problems, want %d\ngot  %+v\nwant %+v", minYears, len(got), len(want), got, want)
		}
		if minYears == 2 && len(want) < 10 {
			t.Errorf("the data has only %d persistent problems", len(want))
		}
	}
}
