package checklist

import (
	"fmt"
	"time"
)

// AuditEntry is one line of the append-only audit trail: who changed
// what, when. ID is chosen by the writer so that a retried or repeated
// write of the same change cannot add a second line: for an inspection it
// is "inspection:<id>:<revision>", as exactly one write produces each
// revision.
type AuditEntry struct {
	ID         string
	At         time.Time
	ActorID    string
	ActorName  string
	Role       Role
	Entity     string // "inspection", "user", "facility", ...
	EntityID   string
	FacilityID string
	Action     string
	Revision   int64
	Items      []string // item keys touched, for inspections
	From       Status
	To         Status
	Reason     string
	RequestKey string // the client's idempotency key, when it sent one
}

// Audit entity names.
const EntityInspection = "inspection"

// InspectionAuditEntry describes change ch, which produced the current
// revision of in, for the audit trail.
func InspectionAuditEntry(in *Inspection, ch InspectionChange, by Actor, requestKey string) AuditEntry {
	return AuditEntry{
		ID:         fmt.Sprintf("%s:%s:%d", EntityInspection, in.ID, in.Revision),
		At:         in.Updated.At,
		ActorID:    by.UserID,
		ActorName:  by.Name,
		Role:       by.Role,
		Entity:     EntityInspection,
		EntityID:   in.ID,
		FacilityID: in.FacilityID,
		Action:     ch.Action,
		Revision:   in.Revision,
		Items:      ch.Items,
		From:       ch.From,
		To:         ch.To,
		Reason:     ch.Reason,
		RequestKey: requestKey,
	}
}
