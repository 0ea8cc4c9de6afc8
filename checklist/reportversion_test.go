package checklist_test

import (
	"testing"

	"tenken/checklist"
)

// Report version keys are distinct for every kind of data and year: a
// collision would let one write leave another report's cache stale.
func TestReportVersionKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range []string{checklist.ReportVersionFacilities, checklist.ReportVersionActions,
		checklist.ReportVersionYear(2025), checklist.ReportVersionYear(2026),
		checklist.ReportVersionRound(2025), checklist.ReportVersionRound(2026)} {
		if seen[k] {
			t.Errorf("key %q names two kinds of data", k)
		}
		seen[k] = true
	}
	// Stored keys outlive a release: their spelling is part of the data.
	if got := checklist.ReportVersionYear(2026); got != "fy:2026" {
		t.Errorf("ReportVersionYear(2026) = %q, want fy:2026", got)
	}
	if got := checklist.ReportVersionRound(2026); got != "round:2026" {
		t.Errorf("ReportVersionRound(2026) = %q, want round:2026", got)
	}
}
