package checklist

import "time"

// Idempotency identifies a client's write so that a retry applies
// nothing twice: Key is the client's idempotency key ("" for none) and
// Fingerprint a digest of the request, so that a key reused for a
// different request is refused.
type Idempotency struct {
	Key         string
	Fingerprint string
}

// InspectionUpdate is a domain function applied to a freshly read
// inspection at time now. It returns what it changed, for the audit
// trail; to refuse, it returns an error and the inspection is not
// written.
type InspectionUpdate func(in *Inspection, now time.Time) (InspectionChange, error)

// InspectionQuery selects inspections for a list. A nil FacilityIDs means
// every facility; an empty non-nil one means none (an inspector with no
// facility).
type InspectionQuery struct {
	FacilityIDs      []string
	FiscalYear       int    // 0 for any
	Status           Status // "" for any but discarded
	IncludeDiscarded bool
	// AfterDate and AfterID continue a list after that position.
	AfterDate string
	AfterID   string
	Limit     int
}

// InspectionPage is a page of a list: inspections without their answers
// and history, whether more follow, and the position of the last one.
type InspectionPage struct {
	Inspections []*Inspection
	More        bool
	LastDate    string
	LastID      string
}

// AuditQuery selects audit entries; empty fields select everything.
type AuditQuery struct {
	Entity   string
	EntityID string
	ActorID  string
	Since    time.Time // entries at or after
	// BeforeAt and BeforeID continue a list: entries older than that.
	BeforeAt time.Time
	BeforeID string
	Limit    int
}
