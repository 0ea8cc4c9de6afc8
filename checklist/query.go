package checklist

import (
	"slices"
	"time"
)

// Idempotency identifies a client's write so that a retry applies
// nothing twice: Key is the client's idempotency key ("" for none) and
// Fingerprint a digest of the request, so that a key reused for a
// different request is refused.
type Idempotency struct {
	Key         string
	Fingerprint string
}

// InspectionUpdate is a domain function applied to a freshly read
// inspection, with the checklist content the inspection is pinned to, at
// time now. It returns what it changed, for the audit trail; to refuse,
// it returns an error and the inspection is not written.
//
// It must be pure — no I/O, no calls back into the store or the request:
// storage runs it under the inspection's lock and may run it again on a
// fresher copy. Whatever else it needs (the caller, a precondition, the
// request's changes) is resolved before and captured.
type InspectionUpdate func(in *Inspection, content *Content, now time.Time) (InspectionChange, error)

// InspectionWrite is the outcome of an inspection write: the inspection
// as stored, the checklist content it is pinned to (so that the answer is
// rendered without another lookup), and whether the write had already
// been applied (a retry, replayed).
type InspectionWrite struct {
	Inspection *Inspection
	Content    *Content
	Replayed   bool
}

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

// Matches reports whether inspection in belongs in the list q selects,
// position aside: the filter of ListInspections.
func (q InspectionQuery) Matches(in *Inspection) bool {
	switch {
	case q.FacilityIDs != nil && !slices.Contains(q.FacilityIDs, in.FacilityID),
		q.FiscalYear != 0 && in.FiscalYear != q.FiscalYear,
		q.Status != "" && in.Status != q.Status,
		q.Status == "" && !q.IncludeDiscarded && in.Status == StatusDiscarded:
		return false
	}
	return q.AfterID == "" || ListedAfter(in, q.AfterDate, q.AfterID)
}

// ListedAfter reports whether in comes after the position (date, id) in
// the order of lists: newest inspection date first, then by id, highest
// first.
func ListedAfter(in *Inspection, date, id string) bool {
	d := in.Date.String()
	return d < date || d == date && in.ID < id
}

// ChangedAfter reports whether in changed after the sync position
// (at, id): later, or at the same instant with a higher id.
func ChangedAfter(in *Inspection, at time.Time, id string) bool {
	return in.Updated.At.After(at) || in.Updated.At.Equal(at) && in.ID > id
}
