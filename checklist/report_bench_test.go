package checklist

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchYears builds the report data of n facilities over years fiscal
// years, 10 sections × 7 items each, every facility inspected every year
// and failing about one item in eight. It stands for the bigger bureau of
// issue 13 (1,448 facilities) without a database.
func benchYears(n, years int) []*YearData {
	c := &Content{}
	for s := range 10 {
		sec := Section{Key: fmt.Sprintf("s%02d", s)}
		for i := range 7 {
			sec.Items = append(sec.Items, Item{Key: fmt.Sprintf("s%02d.i%d", s, i), Type: TypeYesNo})
		}
		c.Sections = append(c.Sections, sec)
	}
	items := c.Items()
	facilities := make([]Facility, n)
	for i := range facilities {
		facilities[i] = Facility{ID: fmt.Sprintf("f%05d", i), Code: fmt.Sprintf("C-%05d", i)}
	}
	var out []*YearData
	for y := range years {
		d := &YearData{FiscalYear: 2020 + y, Facilities: facilities, Content: c,
			Latest: map[string]ReportInspection{}, Tallies: map[string]map[string]Tally{}}
		for fi, f := range facilities {
			d.Latest[f.ID] = ReportInspection{ID: fmt.Sprintf("%s-%d", f.ID, y), FacilityID: f.ID,
				Date: DateOf(time.Date(2020+y, 6, 1, 0, 0, 0, 0, time.UTC)), Status: StatusSubmitted}
			m := make(map[string]Tally, len(items))
			for ii, it := range items {
				// Keys of their own, as decoded from each report row:
				// a lookup by the content's key compares the bytes.
				k := strings.Clone(it.Key)
				t := Tally{FacilityID: f.ID, ItemKey: k, Answered: 1, Points: 1, MaxPoints: 1}
				if (fi+ii)%8 == 0 {
					t.Failed, t.Points = 1, 0
				}
				m[k] = t
			}
			d.Tallies[f.ID] = m
		}
		out = append(out, d)
	}
	return out
}

// BenchmarkReportsBigBureau computes every report of the last year of
// 1,448 facilities × 6 fiscal years (12 inspections each at two a year):
// each must be linear in facilities.
//
//	go test -run '^$' -bench ReportsBigBureau -benchtime 3x ./checklist/
func BenchmarkReportsBigBureau(b *testing.B) {
	years := benchYears(1448, 6)
	last := years[len(years)-1]
	b.Run("PersistentProblems", func(b *testing.B) {
		for range b.N {
			PersistentProblems(years, MinPersistentYears)
		}
	})
	b.Run("Plan", func(b *testing.B) {
		for range b.N {
			Plan(years, nil)
		}
	})
	b.Run("FacilityResults", func(b *testing.B) {
		for range b.N {
			FacilityResults(last)
		}
	})
	b.Run("ItemResults", func(b *testing.B) {
		for range b.N {
			ItemResults(last)
		}
	})
	b.Run("SectionResults", func(b *testing.B) {
		for range b.N {
			SectionResults(last)
		}
	})
	b.Run("CompareYears", func(b *testing.B) {
		for range b.N {
			CompareYears(years[len(years)-2], last)
		}
	})
}
