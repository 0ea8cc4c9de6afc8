package checklist_test

import (
	"testing"
	"time"

	"tenken/checklist"
)

func TestFiscalYear(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		at   time.Time
		want int
	}{
		{"31 March in Tokyo", utc("2026-03-31T23:59:59+09:00"), 2025},
		{"1 April in Tokyo", utc("2026-04-01T00:00:00+09:00"), 2026},
		{"UTC midnight of 31 March is still March in Tokyo", utc("2026-03-31T00:00:00Z"), 2025},
		{"UTC 15:00 on 31 March is 1 April in Tokyo", utc("2026-03-31T15:00:00Z"), 2026},
		{"UTC 14:59:59 on 31 March is 31 March in Tokyo", utc("2026-03-31T14:59:59Z"), 2025},
		{"UTC midnight of 1 April", utc("2026-04-01T00:00:00Z"), 2026},
		{"1 January", utc("2027-01-01T00:00:00+09:00"), 2026},
		{"UTC 31 December 15:00 is 1 January in Tokyo", utc("2026-12-31T15:00:00Z"), 2026},
		{"31 March of the next year", utc("2027-03-31T12:00:00+09:00"), 2026},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checklist.FiscalYear(tt.at); got != tt.want {
				t.Errorf("FiscalYear(%s) = %d, want %d", tt.at.Format(time.RFC3339), got, tt.want)
			}
			if got := checklist.FiscalYearOfDate(checklist.DateOf(tt.at)); got != tt.want {
				t.Errorf("FiscalYearOfDate(DateOf(%s)) = %d, want %d", tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}
	if got := checklist.FiscalYearStart(2026); !got.Equal(utc("2026-03-31T15:00:00Z")) {
		t.Errorf("FiscalYearStart(2026) = %s", got.UTC())
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"2026-04-01", "2026-04-01", false},
		{"2026-03-31T15:00:00Z", "2026-04-01", false},
		{"2026-03-31T14:59:59Z", "2026-03-31", false},
		{"2026-03-31T23:30:00+09:00", "2026-03-31", false},
		{"2026-02-30", "", true},
		{"31/03/2026", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		d, err := checklist.ParseDate(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseDate(%q) = %s, want an error", tt.in, d)
			}
			continue
		}
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDate(%q) = %s, %v; want %s", tt.in, d, err, tt.want)
		}
	}
}

func TestFiscalYearLabel(t *testing.T) {
	tests := map[int]string{
		2026: "令和8年度",
		2020: "令和2年度",
		2019: "令和元年度",
		2018: "平成30年度",
		1989: "平成元年度",
		1988: "昭和63年度",
	}
	for fy, want := range tests {
		if got := checklist.FiscalYearLabel(fy); got != want {
			t.Errorf("FiscalYearLabel(%d) = %q, want %q", fy, got, want)
		}
	}
}

func TestParseFiscalYear(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"2026", 2026, true},
		{"2000", checklist.MinFiscalYear, true},
		{"2200", checklist.MaxFiscalYear, true},
		{"1999", 1999, false},
		{"2201", 2201, false},
		{"226", 226, false},
		{"", 0, false},
		{"2026.0", 0, false},
		{"FY2026", 0, false},
	}
	for _, tt := range tests {
		got, ok := checklist.ParseFiscalYear(tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("ParseFiscalYear(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && !checklist.ValidFiscalYear(got) {
			t.Errorf("ValidFiscalYear(%d) disagrees with ParseFiscalYear", got)
		}
	}
}
