package checklist_test

import (
	"testing"
	"time"

	"tenken/checklist"
)

// TestCheckAccess: an inspector sees the inspections of their own
// facilities only, and an outsider is told the inspection does not
// exist — not that it is forbidden.
func TestCheckAccess(t *testing.T) {
	in := inStatus(t, &checklist.Content{}, checklist.StatusDraft) // of fac-1
	tests := []struct {
		name string
		by   checklist.Actor
		want checklist.Code // error code, "" for access
	}{
		{"OKOwnFacility", checklist.Actor{UserID: "i", Role: checklist.RoleInspector, Facilities: []string{"fac-2", "fac-1"}}, ""},
		{"OKReviewer", reviewer, ""},
		{"OKAdmin", admin, ""},
		{"ErrNotFoundOtherFacility", checklist.Actor{UserID: "i", Role: checklist.RoleInspector, Facilities: []string{"fac-2"}}, checklist.ENotFound},
		{"ErrNotFoundNoFacility", inspector, checklist.ENotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checklist.ErrorCode(in.CheckAccess(tt.by)); got != tt.want {
				t.Fatalf("CheckAccess = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPrecondition: a write conditional on revisions applies only at one
// of them; none named, or an empty list, is refused.
func TestPrecondition(t *testing.T) {
	in := inStatus(t, &checklist.Content{}, checklist.StatusDraft)
	in.Revision = 3
	tests := []struct {
		name string
		pre  checklist.Precondition
		want checklist.Code
	}{
		{"OKNone", checklist.Precondition{}, ""},
		{"OKSame", checklist.Precondition{Revisions: []int64{3}}, ""},
		{"OKInList", checklist.Precondition{Revisions: []int64{2, 3}}, ""},
		{"ErrStale", checklist.Precondition{Revisions: []int64{2}}, checklist.EPrecondition},
		{"ErrNewer", checklist.Precondition{Revisions: []int64{4, 5}}, checklist.EPrecondition},
		{"ErrNamesNothing", checklist.Precondition{Revisions: []int64{}}, checklist.EPrecondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checklist.ErrorCode(tt.pre.Check(in)); got != tt.want {
				t.Fatalf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestGuard: the update runs only for an actor who may see the inspection
// and a precondition that holds, and access is decided first, so an
// outsider with a stale precondition still hears "not found".
func TestGuard(t *testing.T) {
	in := inStatus(t, &checklist.Content{}, checklist.StatusDraft) // of fac-1, revision 1
	own := checklist.Actor{UserID: "i", Role: checklist.RoleInspector, Facilities: []string{"fac-1"}}
	tests := []struct {
		name string
		by   checklist.Actor
		pre  checklist.Precondition
		want checklist.Code
	}{
		{"OK", own, checklist.Precondition{Revisions: []int64{1}}, ""},
		{"ErrPrecondition", own, checklist.Precondition{Revisions: []int64{7}}, checklist.EPrecondition},
		{"ErrNotFoundBeforePrecondition", inspector, checklist.Precondition{Revisions: []int64{7}}, checklist.ENotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			update := checklist.Guard(tt.by, tt.pre, func(*checklist.Inspection, *checklist.Content, time.Time) (checklist.InspectionChange, error) {
				ran = true
				return checklist.InspectionChange{}, nil
			})
			_, err := update(in, &checklist.Content{}, t0)
			if got := checklist.ErrorCode(err); got != tt.want || ran != (tt.want == "") {
				t.Fatalf("error %q, update ran %v; want %q", got, ran, tt.want)
			}
		})
	}
}
