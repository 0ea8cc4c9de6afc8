package checklist

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// CanAccessFacility reports whether a may read or write the data of
// facility id: admins and reviewers work across facilities, an inspector
// only in the facilities bound to them.
func (a Actor) CanAccessFacility(id string) bool {
	return a.Role == RoleAdmin || a.Role == RoleReviewer || slices.Contains(a.Facilities, id)
}

// CheckAccess refuses an actor who may not see in with ENotFound, the
// answer for an inspection that does not exist: an inspector must not
// learn which ids other facilities' inspections have, so outside their
// facilities they never hear "forbidden", "changed" or "locked".
func (in *Inspection) CheckAccess(a Actor) error {
	if a.CanAccessFacility(in.FacilityID) {
		return nil
	}
	return Errorf(ENotFound, "no inspection %s", in.ID)
}

// Precondition is a client's condition on a write: apply it only while
// the inspection is at one of Revisions (what HTTP's If-Match names).
// Nil Revisions is no condition; an empty non-nil list names no revision
// the inspection can be at, so the write is always refused.
type Precondition struct {
	Revisions []int64
}

// Allows reports whether p lets a write apply at revision rev.
func (p Precondition) Allows(rev int64) bool {
	return p.Revisions == nil || slices.Contains(p.Revisions, rev)
}

// Check refuses with EPrecondition, and nothing is done, when in is not
// at a revision p names.
func (p Precondition) Check(in *Inspection) error {
	if p.Allows(in.Revision) {
		return nil
	}
	if len(p.Revisions) == 0 {
		return Errorf(EPrecondition, "the precondition names no revision of the inspection, which is at revision %d; nothing was done", in.Revision)
	}
	named := make([]string, len(p.Revisions))
	for i, r := range p.Revisions {
		named[i] = strconv.FormatInt(r, 10)
	}
	return Errorf(EPrecondition, "the inspection is at revision %d, not %s; nothing was done", in.Revision, strings.Join(named, " or "))
}

// Guard returns update behind the checks every write of an inspection
// passes first, in this order: by may see the inspection (so that an
// outsider is told it does not exist, never that a precondition failed),
// then pre holds. Like update, the result is pure: storage may run it
// more than once, under its lock.
func Guard(by Actor, pre Precondition, update InspectionUpdate) InspectionUpdate {
	return func(in *Inspection, c *Content, now time.Time) (InspectionChange, error) {
		if err := in.CheckAccess(by); err != nil {
			return InspectionChange{}, err
		}
		if err := pre.Check(in); err != nil {
			return InspectionChange{}, err
		}
		return update(in, c, now)
	}
}
