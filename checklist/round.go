package checklist

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// An inspection round is the bureau's yearly cycle (seed items 5 and 9):
// every citizen-use facility is to be inspected in the fiscal year, by
// its inspectors, by a due date; an interim report in September and a
// final report in December say how far the round has come. The round and
// its assignments are stored; their status and coverage are never
// stored: they are computed here from the inspections.

// RoundStatus says whether a round's assignments may still change.
type RoundStatus string

// Round statuses.
const (
	RoundOpen   RoundStatus = "open"   // assignments change; facilities join and leave
	RoundClosed RoundStatus = "closed" // frozen: the final report is the record
)

// Valid reports whether s is a known round status.
func (s RoundStatus) Valid() bool { return s == RoundOpen || s == RoundClosed }

// Milestone names a report date of a round.
type Milestone string

// Milestones.
const (
	MilestoneInterim Milestone = "interim" // 中間報告, 30 September by default
	MilestoneFinal   Milestone = "final"   // 最終報告, 31 December by default
)

// Round is the inspection round of one fiscal year; there is at most one
// per fiscal year.
type Round struct {
	FiscalYear int
	Interim    Date // the interim milestone, inside the fiscal year
	Final      Date // the final milestone, on or after Interim
	// DefaultDue is the due date an assignment gets unless told
	// otherwise, and the one a facility that joins later gets.
	DefaultDue Date
	Status     RoundStatus
	Revision   int64
	OpenedAt   time.Time
	OpenedBy   string
	UpdatedAt  time.Time
	UpdatedBy  string
}

// DefaultInterim is 30 September of fiscal year fy; DefaultFinal is 31
// December. The default due date is the interim milestone, so that the
// interim report already shows who is late.
func DefaultInterim(fy int) Date { return Date{fy, time.September, 30} }

// DefaultFinal is 31 December of fiscal year fy.
func DefaultFinal(fy int) Date { return Date{fy, time.December, 31} }

// MilestoneDate returns the date of milestone m, and false for an
// unknown milestone.
func (r Round) MilestoneDate(m Milestone) (Date, bool) {
	switch m {
	case MilestoneInterim:
		return r.Interim, true
	case MilestoneFinal:
		return r.Final, true
	}
	return Date{}, false
}

// EndOf returns the first instant after date d in Tokyo: what was true
// "on d" is what was true just before it.
func EndOf(d Date) time.Time { return d.Time().AddDate(0, 0, 1) }

// InFiscalYear reports whether date d falls in fiscal year fy.
func InFiscalYear(d Date, fy int) bool { return !d.IsZero() && FiscalYearOfDate(d) == fy }

// NewRound returns the round of fiscal year fy with the given milestones
// and default due date, each zero one taking its default, validated.
func NewRound(fy int, interim, final, due Date, by Actor, now time.Time) (Round, error) {
	if interim.IsZero() {
		interim = DefaultInterim(fy)
	}
	if final.IsZero() {
		final = DefaultFinal(fy)
	}
	if due.IsZero() {
		due = interim
	}
	now = now.UTC()
	r := Round{FiscalYear: fy, Interim: interim, Final: final, DefaultDue: due, Status: RoundOpen,
		Revision: 1, OpenedAt: now, OpenedBy: by.UserID, UpdatedAt: now, UpdatedBy: by.UserID}
	return r, r.Validate()
}

// Validate checks the round's fiscal year, milestones and default due
// date: every date inside the fiscal year, the interim not after the
// final.
func (r Round) Validate() error {
	var p Problems
	if !ValidFiscalYear(r.FiscalYear) {
		p.Add("fiscal_year", "range", "fiscal_year must be a fiscal year such as 2026")
		return p.Err("the round is not valid")
	}
	inYear := func(field string, d Date) {
		if !InFiscalYear(d, r.FiscalYear) {
			p.Add(field, "fiscal_year", "%s %s is outside fiscal year %d (%s to %d-03-31)", field, d, r.FiscalYear,
				FiscalYearStart(r.FiscalYear).Format(time.DateOnly), r.FiscalYear+1)
		}
	}
	inYear("interim_date", r.Interim)
	inYear("final_date", r.Final)
	inYear("default_due_date", r.DefaultDue)
	if len(p) == 0 && r.Final.Time().Before(r.Interim.Time()) {
		p.Add("final_date", "order", "final_date %s is before interim_date %s", r.Final, r.Interim)
	}
	if !r.Status.Valid() {
		p.Add("status", "enum", "status must be open or closed")
	}
	return p.Err("the round is not valid")
}

// RoundChange is a partial update of a round: nil fields stay.
type RoundChange struct {
	Interim    *Date
	Final      *Date
	DefaultDue *Date
	Status     *RoundStatus
}

// Apply returns r with ch applied and validated, stamped by by at now.
func (ch RoundChange) Apply(r Round, by Actor, now time.Time) (Round, error) {
	next := r
	if ch.Interim != nil {
		next.Interim = *ch.Interim
	}
	if ch.Final != nil {
		next.Final = *ch.Final
	}
	if ch.DefaultDue != nil {
		next.DefaultDue = *ch.DefaultDue
	}
	if ch.Status != nil {
		next.Status = *ch.Status
	}
	if err := next.Validate(); err != nil {
		return r, err
	}
	next.Revision++
	next.UpdatedAt, next.UpdatedBy = now.UTC(), by.UserID
	return next, nil
}

// AssignmentOrigin says how a facility came into a round.
type AssignmentOrigin string

// Origins.
const (
	OriginOpening AssignmentOrigin = "opening" // assigned when the round was opened
	OriginAdded   AssignmentOrigin = "added"   // joined later: new or reactivated facility, or added by an admin
)

// Why an assignment left its round.
const (
	WithdrawnDeactivated = "facility_deactivated" // the facility was deactivated; it rejoins when reactivated
	WithdrawnByAdmin     = "excluded"             // an admin took it out of the round
)

// Assignment is one facility's place in a round: which checklist version
// applies to it, who inspects it and by when. Withdrawn assignments stay,
// so that a facility leaving the round is visible, not silent.
type Assignment struct {
	FiscalYear  int
	FacilityID  string
	ChecklistID string // the checklist that applies to the facility ("" if none)
	Version     int    // its current version when assigned (0 if none published)
	// Inspectors are the ids of the inspectors bound to the facility
	// when it was assigned, or as an admin set them.
	Inspectors []string
	Due        Date
	Origin     AssignmentOrigin
	AddedAt    time.Time // when the facility joined the round
	// Withdrawn is the reason the facility left the round ("" while it is
	// in), WithdrawnAt when.
	Withdrawn   string
	WithdrawnAt time.Time
	Revision    int64
	UpdatedAt   time.Time
	UpdatedBy   string
}

// AssignmentID is the stored key of facility's assignment in fiscal
// year fy: one per round and facility.
func AssignmentID(fy int, facilityID string) string { return fmt.Sprintf("%d:%s", fy, facilityID) }

// ID is a's stored key.
func (a Assignment) ID() string { return AssignmentID(a.FiscalYear, a.FacilityID) }

// Active reports whether a is in its round (not withdrawn).
func (a Assignment) Active() bool { return a.Withdrawn == "" }

// NewAssignment assigns facility f to round r with the checklist version
// that applies to it (nil: none published), the inspectors bound to it
// and r's default due date.
func NewAssignment(r Round, f Facility, v *ApplicableVersion, inspectors []string, origin AssignmentOrigin, by Actor, at time.Time) Assignment {
	a := Assignment{FiscalYear: r.FiscalYear, FacilityID: f.ID, Inspectors: normalizeIDs(inspectors), Due: r.DefaultDue,
		Origin: origin, AddedAt: at.UTC(), Revision: 1, UpdatedAt: at.UTC(), UpdatedBy: by.UserID}
	if a.Inspectors == nil {
		a.Inspectors = []string{}
	}
	if v != nil {
		a.ChecklistID, a.Version = v.ChecklistID, v.Number
	}
	return a
}

// InspectorsOf returns, by facility id, the ids of the enabled
// inspectors bound to each facility.
func InspectorsOf(users []User) map[string][]string {
	m := map[string][]string{}
	for _, u := range users {
		if u.Role != RoleInspector || u.Disabled {
			continue
		}
		for _, f := range u.FacilityIDs {
			m[f] = append(m[f], u.ID)
		}
	}
	return m
}

// OpenRound assigns every active facility to round r: the opening's
// assignments, in facility code order. versions are the current version
// of each checklist (CurrentVersions); inspectors come from InspectorsOf.
func OpenRound(r Round, facilities []Facility, a Applicability, versions map[string]ApplicableVersion, inspectors map[string][]string, by Actor) []Assignment {
	fs := slices.Clone(facilities)
	slices.SortFunc(fs, func(x, y Facility) int { return cmp.Compare(x.Code, y.Code) })
	var out []Assignment
	for _, f := range fs {
		if !f.Active {
			continue
		}
		out = append(out, NewAssignment(r, f, applicable(f, a, versions), inspectors[f.ID], OriginOpening, by, r.OpenedAt))
	}
	return out
}

func applicable(f Facility, a Applicability, versions map[string]ApplicableVersion) *ApplicableVersion {
	if v, ok := versions[a.ChecklistFor(f.Kind)]; ok {
		return &v
	}
	return nil
}

// Reconciliation is what Reconcile decided: facilities that join the
// round, and assignments that leave or come back.
type Reconciliation struct {
	Join     []Assignment // new assignments of facilities that were not in the round
	Withdraw []Assignment // assignments whose facility was deactivated, now withdrawn
	Rejoin   []Assignment // assignments withdrawn by deactivation whose facility is active again
}

// Empty reports whether nothing changes.
func (rc Reconciliation) Empty() bool { return len(rc.Join)+len(rc.Withdraw)+len(rc.Rejoin) == 0 }

// Reconcile brings an open round's membership up to date with the
// facilities: an active facility with no assignment joins (origin
// "added", at the facility's creation or last change, whichever is
// later than the opening); an assignment whose facility is inactive is
// withdrawn as of the facility's last change; one withdrawn that way
// whose facility is active again rejoins. An admin's exclusion is left
// alone. A closed round does not change.
func Reconcile(r Round, as []Assignment, facilities []Facility, a Applicability, versions map[string]ApplicableVersion, inspectors map[string][]string, by Actor) Reconciliation {
	var rc Reconciliation
	if r.Status != RoundOpen {
		return rc
	}
	byFacility := make(map[string]Assignment, len(as))
	for _, x := range as {
		byFacility[x.FacilityID] = x
	}
	fs := slices.Clone(facilities)
	slices.SortFunc(fs, func(x, y Facility) int { return cmp.Compare(x.Code, y.Code) })
	for _, f := range fs {
		x, ok := byFacility[f.ID]
		at := f.UpdatedAt
		if at.Before(r.OpenedAt) {
			at = r.OpenedAt
		}
		switch {
		case !ok && f.Active:
			rc.Join = append(rc.Join, NewAssignment(r, f, applicable(f, a, versions), inspectors[f.ID], OriginAdded, by, at))
		case ok && x.Active() && !f.Active:
			x.Withdrawn, x.WithdrawnAt = WithdrawnDeactivated, at.UTC()
			x.Revision++
			x.UpdatedAt, x.UpdatedBy = at.UTC(), by.UserID
			rc.Withdraw = append(rc.Withdraw, x)
		case ok && x.Withdrawn == WithdrawnDeactivated && f.Active:
			x.Withdrawn, x.WithdrawnAt = "", time.Time{}
			x.Revision++
			x.UpdatedAt, x.UpdatedBy = at.UTC(), by.UserID
			rc.Rejoin = append(rc.Rejoin, x)
		}
	}
	return rc
}

// AssignmentChange is an admin's change of one assignment: nil fields
// stay. Exclude takes the facility out of the round (Include puts an
// excluded one back). Version overrides the checklist version the
// facility is to be inspected with (checked by AssignableVersion).
type AssignmentChange struct {
	Due        *Date
	Inspectors *[]string
	Exclude    *bool
	Version    *ApplicableVersion
}

// Empty reports whether ch changes nothing.
func (ch AssignmentChange) Empty() bool {
	return ch.Due == nil && ch.Inspectors == nil && ch.Exclude == nil && ch.Version == nil
}

// AssignableVersion returns version number of checklist id (id "" means
// the checklist that applies to facility f) if an assignment of f may
// name it: the checklist applies to f (a.ChecklistFor its kind), and the
// version is published and not retired — one an inspection can still be
// created with. Otherwise it returns the problem, under field "version"
// or "checklist_id".
func AssignableVersion(f Facility, a Applicability, versions []Version, id string, number int) (ApplicableVersion, error) {
	var p Problems
	applies := a.ChecklistFor(f.Kind)
	switch {
	case applies == "":
		p.Add("version", "no_checklist", "no checklist applies to facility %s", f.Code)
	case id != "" && id != applies:
		p.Add("checklist_id", "not_applicable", "checklist %s does not apply to facility %s (%s does)", id, f.Code, applies)
	}
	if err := p.Err("the checklist version cannot be assigned"); err != nil {
		return ApplicableVersion{}, err
	}
	for _, v := range versions {
		if v.ChecklistID != applies || v.Number != number {
			continue
		}
		if v.Retired {
			p.Add("version", "retired_version", "version %d of checklist %s is retired", number, applies)
			return ApplicableVersion{}, p.Err("the checklist version cannot be assigned")
		}
		return ApplicableVersion{ChecklistID: v.ChecklistID, Number: v.Number, ContentHash: v.ContentHash}, nil
	}
	p.Add("version", "unknown_version", "checklist %s has no published version %d", applies, number)
	return ApplicableVersion{}, p.Err("the checklist version cannot be assigned")
}

// Validate checks ch against round r: a due date inside the fiscal year.
// Whether the inspectors exist is for the caller, which holds the users.
func (ch AssignmentChange) Validate(r Round) error {
	var p Problems
	if ch.Due != nil && !InFiscalYear(*ch.Due, r.FiscalYear) {
		p.Add("due_date", "fiscal_year", "due_date %s is outside fiscal year %d (%s to %d-03-31)", *ch.Due, r.FiscalYear,
			FiscalYearStart(r.FiscalYear).Format(time.DateOnly), r.FiscalYear+1)
	}
	if ch.Inspectors != nil && len(*ch.Inspectors) > MaxUserFacilities {
		p.Add("inspector_ids", "too_many", "at most %d inspectors", MaxUserFacilities)
	}
	if ch.Empty() {
		p.Add("body", CodeRequired, "name at least one of due_date, inspector_ids, excluded, version")
	}
	return p.Err("the assignment change is not valid")
}

// Apply returns a with ch applied (ch validated against r), stamped by
// by at now, and whether anything changed. A closed round refuses every
// change.
func (ch AssignmentChange) Apply(r Round, a Assignment, by Actor, now time.Time) (Assignment, bool, error) {
	if r.Status != RoundOpen {
		return a, false, Errorf(EConflict, "the round of fiscal year %d is closed; reopen it to change assignments", r.FiscalYear)
	}
	if err := ch.Validate(r); err != nil {
		return a, false, err
	}
	next := a
	next.Inspectors = slices.Clone(a.Inspectors)
	if ch.Due != nil {
		next.Due = *ch.Due
	}
	if ch.Inspectors != nil {
		next.Inspectors = normalizeIDs(*ch.Inspectors)
		if next.Inspectors == nil {
			next.Inspectors = []string{}
		}
	}
	if ch.Version != nil {
		next.ChecklistID, next.Version = ch.Version.ChecklistID, ch.Version.Number
	}
	if ch.Exclude != nil {
		switch {
		case *ch.Exclude && a.Active():
			next.Withdrawn, next.WithdrawnAt = WithdrawnByAdmin, now.UTC()
		case !*ch.Exclude && a.Withdrawn == WithdrawnByAdmin:
			next.Withdrawn, next.WithdrawnAt = "", time.Time{}
		}
	}
	if next.Due == a.Due && slices.Equal(next.Inspectors, a.Inspectors) && next.Withdrawn == a.Withdrawn &&
		next.ChecklistID == a.ChecklistID && next.Version == a.Version {
		return a, false, nil
	}
	next.Revision++
	next.UpdatedAt, next.UpdatedBy = now.UTC(), by.UserID
	return next, true, nil
}

// AssignmentSelector picks the assignments a bulk change applies to: by
// facility ids, department and kind (each empty one matches all; all
// given must match). An empty selector matches nothing, so that a bulk
// change never touches the whole round by accident.
type AssignmentSelector struct {
	FacilityIDs []string
	Department  string
	Kind        FacilityKind
	All         bool // explicitly every assignment
}

// Validate checks the selector.
func (s AssignmentSelector) Validate() error {
	var p Problems
	if s.Kind != "" && !s.Kind.Valid() {
		p.Add("select.kind", "enum", "kind must be one of %s", joinKinds())
	}
	if !s.All && len(s.FacilityIDs) == 0 && s.Department == "" && s.Kind == "" {
		p.Add("select", CodeRequired, "select facility_ids, a department, a kind, or all: true")
	}
	return p.Err("the selection is not valid")
}

// Matches reports whether the selector picks facility f.
func (s AssignmentSelector) Matches(f Facility) bool {
	if len(s.FacilityIDs) > 0 && !slices.Contains(s.FacilityIDs, f.ID) {
		return false
	}
	if s.Department != "" && strings.TrimSpace(s.Department) != f.Department {
		return false
	}
	return s.Kind == "" || s.Kind == f.Kind
}

// RoundAuditEntry describes the write that made round after out of
// before (nil when it was opened).
func RoundAuditEntry(before *Round, after Round, by Actor, assignments int) AuditEntry {
	id := fmt.Sprint(after.FiscalYear)
	if before == nil {
		changes := []string{fmt.Sprintf("opened with %d facilities", assignments), "interim: " + after.Interim.String(),
			"final: " + after.Final.String(), "default_due: " + after.DefaultDue.String()}
		return entry(EntityRound, id, after.Revision, after.UpdatedAt, by, ActionCreate, changes)
	}
	var changes []string
	changes = fieldChange(changes, "interim", before.Interim.String(), after.Interim.String())
	changes = fieldChange(changes, "final", before.Final.String(), after.Final.String())
	changes = fieldChange(changes, "default_due", before.DefaultDue.String(), after.DefaultDue.String())
	changes = fieldChange(changes, "status", string(before.Status), string(after.Status))
	return entry(EntityRound, id, after.Revision, after.UpdatedAt, by, AuditUpdate, changes)
}

// AssignmentAuditEntry describes the write that made assignment after
// out of before (nil for a new one): who moved a due date, changed the
// inspectors, or took a facility out of the round or back in.
func AssignmentAuditEntry(before *Assignment, after Assignment, by Actor) AuditEntry {
	var e AuditEntry
	if before == nil {
		changes := []string{"origin: " + string(after.Origin), "due: " + after.Due.String()}
		changes = idsChange(changes, "inspectors", nil, after.Inspectors)
		e = entry(EntityAssignment, after.ID(), after.Revision, after.UpdatedAt, by, ActionCreate, changes)
	} else {
		var changes []string
		changes = fieldChange(changes, "due", before.Due.String(), after.Due.String())
		changes = idsChange(changes, "inspectors", before.Inspectors, after.Inspectors)
		changes = fieldChange(changes, "version", before.versionName(), after.versionName())
		changes = fieldChange(changes, "withdrawn", before.Withdrawn, after.Withdrawn)
		action := AuditUpdate
		switch {
		case before.Active() && !after.Active():
			action = AuditWithdraw
		case !before.Active() && after.Active():
			action = AuditRejoin
		case before.Due != after.Due:
			action = AuditMoveDue
		}
		e = entry(EntityAssignment, after.ID(), after.Revision, after.UpdatedAt, by, action, changes)
	}
	e.FacilityID = after.FacilityID
	return e
}

// versionName is "checklist@version", or "" when none applies.
func (a Assignment) versionName() string {
	if a.ChecklistID == "" {
		return ""
	}
	return fmt.Sprintf("%s@%d", a.ChecklistID, a.Version)
}

// Audit entities and actions of rounds.
const (
	EntityRound      = "round"
	EntityAssignment = "round_assignment"
	AuditMoveDue     = "move_due"
	AuditWithdraw    = "withdraw"
	AuditRejoin      = "rejoin"
)

// AssignmentStatus is where an assignment stands, computed from the
// inspections of its facility in its fiscal year.
type AssignmentStatus string

// Assignment statuses. Overdue is past the due date and not approved;
// the inspection's own progress is kept beside it (AssignmentState.Progress).
const (
	AssignNotStarted AssignmentStatus = "not_started"
	AssignDraft      AssignmentStatus = "draft"
	AssignSubmitted  AssignmentStatus = "submitted"
	AssignReturned   AssignmentStatus = "returned"
	AssignApproved   AssignmentStatus = "approved"
	AssignOverdue    AssignmentStatus = "overdue"
	AssignWithdrawn  AssignmentStatus = "withdrawn"
)

// AssignmentStatuses lists the statuses a filter may name.
var AssignmentStatuses = []AssignmentStatus{AssignNotStarted, AssignDraft, AssignSubmitted, AssignReturned,
	AssignApproved, AssignOverdue, AssignWithdrawn}

// progressRank orders how far an inspection has come: the furthest of a
// facility's inspections in the year is its assignment's progress. A
// returned inspection has been looked at, so it ranks above a draft.
var progressRank = map[Status]int{StatusDraft: 1, StatusReturned: 2, StatusSubmitted: 3, StatusApproved: 4}

// Covered reports whether progress p counts as inspected: submitted or
// approved, the inspections reports count.
func (p AssignmentStatus) Covered() bool { return p == AssignSubmitted || p == AssignApproved }

// InspectionState is an inspection as rounds see it: its facility and
// year, and its status at the moment coverage is computed for.
type InspectionState struct {
	ID         string
	FacilityID string
	FiscalYear int
	Status     Status // "" when it did not exist yet
	// SubmittedAt and ApprovedAt are the first submission and the last
	// approval up to that moment, when known.
	SubmittedAt time.Time
	ApprovedAt  time.Time
}

// StatusChange is one lifecycle step of an inspection, as the audit
// trail records it.
type StatusChange struct {
	At time.Time
	To Status
}

// InspectionAt reconstructs inspection in (a summary: status, creation
// and last change) as it was at instant t, from changes, its lifecycle
// steps (any order). It is exact: an inspection not changed since t is
// as it is now; one changed since was, at t, in the status of its last
// step before t, or a draft if it had none (every inspection starts as a
// draft). One created after t did not exist: Status "".
func InspectionAt(in *Inspection, changes []StatusChange, t time.Time) InspectionState {
	s := InspectionState{ID: in.ID, FacilityID: in.FacilityID, FiscalYear: in.FiscalYear}
	if in.Created.At.After(t) {
		return s
	}
	s.Status = StatusDraft
	if !in.Updated.At.After(t) {
		s.Status = in.Status
	}
	steps := slices.Clone(changes)
	slices.SortFunc(steps, func(a, b StatusChange) int { return a.At.Compare(b.At) })
	for _, c := range steps {
		if c.At.After(t) {
			break
		}
		if in.Updated.At.After(t) {
			s.Status = c.To
		}
		if c.To == StatusSubmitted && s.SubmittedAt.IsZero() {
			s.SubmittedAt = c.At
		}
		if c.To == StatusApproved {
			s.ApprovedAt = c.At
		}
	}
	if s.Status != StatusApproved {
		s.ApprovedAt = time.Time{}
	}
	return s
}

// InspectionNow is InspectionAt for the present: the summary as it is.
func InspectionNow(in *Inspection) InspectionState {
	return InspectionState{ID: in.ID, FacilityID: in.FacilityID, FiscalYear: in.FiscalYear, Status: in.Status}
}

// AssignmentState is an assignment with its computed status.
type AssignmentState struct {
	Assignment
	Facility Facility
	// Status is what the round shows: Progress, or overdue when past due
	// and not approved, or withdrawn.
	Status AssignmentStatus
	// Progress is how far the facility's furthest inspection of the year
	// has come (not_started when there is none).
	Progress     AssignmentStatus
	InspectionID string // the inspection Progress comes from
	Overdue      bool
}

// StateOf computes the status of assignment a of facility f at instant
// at, from the states of the inspections of its facility in its year
// (others are ignored; discarded ones and ones that did not exist yet
// count for nothing). Overdue means the due date has ended in Tokyo and
// no inspection is approved.
func StateOf(a Assignment, f Facility, ins []InspectionState, at time.Time) AssignmentState {
	st := AssignmentState{Assignment: a, Facility: f, Progress: AssignNotStarted}
	best := 0
	for _, in := range ins {
		if in.FacilityID != a.FacilityID || in.FiscalYear != a.FiscalYear {
			continue
		}
		r := progressRank[in.Status]
		if r > best || r == best && r > 0 && in.ID > st.InspectionID {
			best, st.Progress, st.InspectionID = r, AssignmentStatus(in.Status), in.ID
		}
	}
	if !a.Active() {
		st.Status = AssignWithdrawn
		return st
	}
	st.Overdue = st.Progress != AssignApproved && !at.Before(EndOf(a.Due))
	st.Status = st.Progress
	if st.Overdue {
		st.Status = AssignOverdue
	}
	return st
}

// Counts are the coverage of a set of assignments.
type Counts struct {
	Assigned   int // in the round (withdrawn ones not counted)
	NotStarted int
	Draft      int
	Returned   int
	Submitted  int
	Approved   int
	Overdue    int // past due and not approved (each also counted by its progress)
	Withdrawn  int
	Added      int // joined after the opening (counted in Assigned)
}

// Covered is submitted plus approved: inspected, counting in reports.
func (c Counts) Covered() int { return c.Submitted + c.Approved }

// CoveredPercent is Covered / Assigned in percent.
func (c Counts) CoveredPercent() float64 { return 100 * Rate(c.Covered(), c.Assigned) }

// ApprovedPercent is Approved / Assigned in percent.
func (c Counts) ApprovedPercent() float64 { return 100 * Rate(c.Approved, c.Assigned) }

func (c *Counts) add(s AssignmentState) {
	if s.Status == AssignWithdrawn {
		c.Withdrawn++
		return
	}
	c.Assigned++
	if s.Origin == OriginAdded {
		c.Added++
	}
	switch s.Progress {
	case AssignNotStarted:
		c.NotStarted++
	case AssignDraft:
		c.Draft++
	case AssignReturned:
		c.Returned++
	case AssignSubmitted:
		c.Submitted++
	case AssignApproved:
		c.Approved++
	}
	if s.Overdue {
		c.Overdue++
	}
}

// DepartmentCounts is the coverage of one department.
type DepartmentCounts struct {
	Department string
	Counts
}

// Coverage is a round at one instant: every assignment's state, and the
// counts for the round and per department.
type Coverage struct {
	Round       Round
	At          time.Time
	States      []AssignmentState // by facility code
	Total       Counts
	Departments []DepartmentCounts // by department name
}

// ComputeCoverage computes round r's coverage at instant at from its
// assignments, the facilities (by id; an assignment whose facility is
// missing is skipped) and the inspection states at that instant. An
// assignment that joined after at, or was withdrawn by then, is left out
// or counted as withdrawn, so that the coverage "as of" a milestone is
// what the round held then.
func ComputeCoverage(r Round, as []Assignment, facilities map[string]Facility, ins []InspectionState, at time.Time) Coverage {
	byFacility := map[string][]InspectionState{}
	for _, in := range ins {
		if in.FiscalYear == r.FiscalYear {
			byFacility[in.FacilityID] = append(byFacility[in.FacilityID], in)
		}
	}
	cov := Coverage{Round: r, At: at.UTC(), States: []AssignmentState{}}
	depts := map[string]*Counts{}
	for _, a := range as {
		f, ok := facilities[a.FacilityID]
		if !ok || a.FiscalYear != r.FiscalYear || a.AddedAt.After(at) {
			continue
		}
		if !a.Active() && a.WithdrawnAt.After(at) {
			a.Withdrawn, a.WithdrawnAt = "", time.Time{} // still in the round then
		}
		st := StateOf(a, f, byFacility[a.FacilityID], at)
		cov.States = append(cov.States, st)
		cov.Total.add(st)
		if depts[f.Department] == nil {
			depts[f.Department] = &Counts{}
		}
		depts[f.Department].add(st)
	}
	slices.SortFunc(cov.States, func(x, y AssignmentState) int { return cmp.Compare(x.Facility.Code, y.Facility.Code) })
	for d, c := range depts {
		cov.Departments = append(cov.Departments, DepartmentCounts{Department: d, Counts: *c})
	}
	slices.SortFunc(cov.Departments, func(x, y DepartmentCounts) int { return cmp.Compare(x.Department, y.Department) })
	return cov
}

// Filter returns the states with status s ("" for all).
func (c Coverage) Filter(s AssignmentStatus) []AssignmentState {
	out := []AssignmentState{}
	for _, st := range c.States {
		if s == "" || st.Status == s || s == AssignOverdue && st.Overdue {
			out = append(out, st)
		}
	}
	return out
}

// NotInspected returns the assignments in the round with no submitted or
// approved inspection.
func (c Coverage) NotInspected() []AssignmentState {
	out := []AssignmentState{}
	for _, st := range c.States {
		if st.Status != AssignWithdrawn && !st.Progress.Covered() {
			out = append(out, st)
		}
	}
	return out
}

// CarryOver returns the assignments in the round not approved: what the
// final report hands on to next year's plan (the not inspected, and the
// inspected but not yet approved), by facility code.
func (c Coverage) CarryOver() []AssignmentState {
	out := []AssignmentState{}
	for _, st := range c.States {
		if st.Status != AssignWithdrawn && st.Progress != AssignApproved {
			out = append(out, st)
		}
	}
	return out
}

// SortByDue orders states by due date, then facility code: the tablet's
// "to do this year" list.
func SortByDue(states []AssignmentState) {
	slices.SortFunc(states, func(x, y AssignmentState) int {
		return cmp.Or(cmp.Compare(x.Due.String(), y.Due.String()), cmp.Compare(x.Facility.Code, y.Facility.Code))
	})
}

// RoundReport is a milestone report of a round: its coverage as of the
// end of the milestone's day, what was not inspected or overdue then,
// the findings of the inspections that counted then, and the improvement
// actions opened from those findings by then.
type RoundReport struct {
	Milestone    Milestone
	Date         Date
	Coverage     Coverage
	NotInspected []AssignmentState
	Overdue      []AssignmentState
	Findings     []Finding
	Actions      []Action
	// CarryOver is, in the final report only, the assignments not
	// approved by the final milestone (Coverage.CarryOver): the
	// facilities next year's plan starts with. Empty in the interim one.
	CarryOver []AssignmentState
}

// BuildRoundReport assembles the report of milestone m (dated d) from
// the coverage at the end of d, the inspection states it was computed
// from, the findings of the year (Finding, from the latest counted
// inspection per facility) and the actions of the round's facilities.
// A finding is kept when its inspection counted (submitted or approved)
// at the end of d; an action when it was created by then and answers a
// kept finding (the same inspection, or the same facility and item).
// The final report also carries over what was not approved by then.
func BuildRoundReport(m Milestone, d Date, cov Coverage, ins []InspectionState, findings []Finding, actions []Action) RoundReport {
	rep := RoundReport{Milestone: m, Date: d, Coverage: cov, NotInspected: cov.NotInspected(), Overdue: cov.Filter(AssignOverdue),
		Findings: []Finding{}, Actions: []Action{}, CarryOver: []AssignmentState{}}
	if m == MilestoneFinal {
		rep.CarryOver = cov.CarryOver()
	}
	counted := map[string]bool{}
	for _, in := range ins {
		if in.Status.CountsInReports() {
			counted[in.ID] = true
		}
	}
	inRound := map[string]bool{}
	for _, st := range cov.States {
		if st.Status != AssignWithdrawn {
			inRound[st.FacilityID] = true
		}
	}
	kept := map[string]bool{}
	for _, f := range findings {
		if counted[f.InspectionID] && inRound[f.FacilityID] {
			rep.Findings = append(rep.Findings, f)
			kept[f.InspectionID] = true
			kept[f.FacilityID+"/"+f.ItemKey] = true
		}
	}
	end := EndOf(d)
	for _, a := range actions {
		if a.CreatedAt.Before(end) && (a.SourceInspectionID != "" && kept[a.SourceInspectionID] || kept[a.FacilityID+"/"+a.ItemKey]) {
			rep.Actions = append(rep.Actions, a)
		}
	}
	slices.SortFunc(rep.Actions, func(x, y Action) int { return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(x.ID, y.ID)) })
	return rep
}
