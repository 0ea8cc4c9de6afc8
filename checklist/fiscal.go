package checklist

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tokyo is Japan Standard Time. Japan has kept UTC+9 without daylight
// saving since 1951, so a fixed zone is exact and needs no tzdata on the
// machine.
var Tokyo = time.FixedZone("Asia/Tokyo", 9*60*60)

// FiscalYear returns the Japanese public-sector fiscal year that t falls
// in: April to March, counted in Asia/Tokyo. 2026 is 1 April 2026 00:00
// JST up to 31 March 2027 24:00 JST, so 2026-03-31T15:00:00Z (midnight
// in Tokyo) is already fiscal 2026.
func FiscalYear(t time.Time) int {
	t = t.In(Tokyo)
	if t.Month() >= time.April {
		return t.Year()
	}
	return t.Year() - 1
}

// The fiscal years tenken accepts anywhere — in queries, rounds, action
// targets: wide enough for every record and plan, narrow enough that a
// typo (226, 20266) is refused rather than stored.
const (
	MinFiscalYear = 2000
	MaxFiscalYear = 2200
)

// ValidFiscalYear reports whether fy is within MinFiscalYear..MaxFiscalYear.
func ValidFiscalYear(fy int) bool { return fy >= MinFiscalYear && fy <= MaxFiscalYear }

// ParseFiscalYear reads a fiscal year written in digits ("2026"); false
// when s is not a valid one.
func ParseFiscalYear(s string) (int, bool) {
	fy, err := strconv.Atoi(s)
	return fy, err == nil && ValidFiscalYear(fy)
}

// FiscalYearOfDate returns the fiscal year of a calendar date in Japan.
func FiscalYearOfDate(d Date) int {
	if d.Month >= time.April {
		return d.Year
	}
	return d.Year - 1
}

// FiscalYearStart returns the first instant of fiscal year fy (1 April,
// 00:00 in Tokyo).
func FiscalYearStart(fy int) time.Time {
	return time.Date(fy, time.April, 1, 0, 0, 0, 0, Tokyo)
}

// era is a Japanese era by the first fiscal year it names. Fiscal years
// take the era of their April: FY2019 (April 2019 – March 2020) is
// 令和元年度 in the bureau's documents although Reiwa began on 1 May 2019.
var eras = []struct {
	name      string
	firstYear int
}{
	{"令和", 2019},
	{"平成", 1989},
	{"昭和", 1926},
}

// FiscalYearLabel returns the label reports use for fiscal year fy, such
// as "令和8年度" for 2026 and "令和元年度" for 2019. Years before the
// Shōwa era fall back to "1925年度".
func FiscalYearLabel(fy int) string {
	for _, e := range eras {
		if fy >= e.firstYear {
			n := fy - e.firstYear + 1
			if n == 1 {
				return e.name + "元年度"
			}
			return fmt.Sprintf("%s%d年度", e.name, n)
		}
	}
	return fmt.Sprintf("%d年度", fy)
}

// Date is a calendar date in Japan, with no time of day: the day an
// inspection took place.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date in Tokyo of instant t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Tokyo).Date()
	return Date{y, m, d}
}

// ParseDate reads "2026-04-01" as a calendar date, or an RFC 3339 instant
// such as "2026-03-31T15:00:00Z" as the date it is in Tokyo.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return Date{t.Year(), t.Month(), t.Day()}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return DateOf(t), nil
	}
	return Date{}, Errorf(EInvalid, "%q is not a date (YYYY-MM-DD)", s)
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight at the start of d in Tokyo.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Tokyo) }
