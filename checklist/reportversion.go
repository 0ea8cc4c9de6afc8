package checklist

import "strconv"

// Report data versions. Storage keeps a version token per key and changes
// it with every write of the data the key names; report caches and ETags
// are keyed on the tokens of the keys a report reads, so a write anywhere
// makes them stale everywhere. Storage writes the keys and handlers read
// them: both spell them with these.
const (
	ReportVersionFacilities = "facilities" // the facility list
	ReportVersionActions    = "actions"    // the improvement actions (the plan export)
)

// ReportVersionYear is the key of fiscal year fy's inspections.
func ReportVersionYear(fy int) string { return "fy:" + strconv.Itoa(fy) }

// ReportVersionRound is the key of the round of fiscal year fy and its
// assignments (the milestone reports).
func ReportVersionRound(fy int) string { return "round:" + strconv.Itoa(fy) }
