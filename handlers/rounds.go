package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/auth"
	"tenken/checklist"
)

// RoundStore is what the inspection-round handlers need beyond the
// facilities, users, checklists and actions the other features read.
type RoundStore interface {
	OpenRound(ctx context.Context, r checklist.Round, as []checklist.Assignment, by checklist.Actor) error
	FindRound(ctx context.Context, fy int) (checklist.Round, error)
	ListRounds(ctx context.Context) ([]checklist.Round, error)
	UpdateRound(ctx context.Context, fy int, revision int64, by checklist.Actor, change func(checklist.Round) (checklist.Round, error)) (checklist.Round, error)
	RoundAssignments(ctx context.Context, fy int) ([]checklist.Assignment, error)
	ChangeAssignments(ctx context.Context, fy int, by checklist.Actor, change func(r checklist.Round, current []checklist.Assignment) ([]checklist.Assignment, error)) ([]checklist.Assignment, error)
	RoundInspections(ctx context.Context, fy int) ([]*checklist.Inspection, error)
	InspectionSteps(ctx context.Context, ids []string) (map[string][]checklist.StatusChange, error)
}

// roundsChanged runs after every write of a round or its assignments:
// what tablets hold about their assignments (the manifest and the sync
// feed) may have changed. A cache of manifests invalidates here.
func (s *Server) roundsChanged(fy int) {}

// Wire forms.

type roundJSON struct {
	FiscalYear      int       `json:"fiscal_year"`
	FiscalYearLabel string    `json:"fiscal_year_label"`
	InterimDate     string    `json:"interim_date"`
	FinalDate       string    `json:"final_date"`
	DefaultDueDate  string    `json:"default_due_date"`
	Status          string    `json:"status"`
	Revision        int64     `json:"revision"`
	OpenedAt        time.Time `json:"opened_at"`
	OpenedBy        string    `json:"opened_by"`
	UpdatedAt       time.Time `json:"updated_at"`
	UpdatedBy       string    `json:"updated_by"`
}

func newRoundJSON(r checklist.Round) roundJSON {
	return roundJSON{FiscalYear: r.FiscalYear, FiscalYearLabel: checklist.FiscalYearLabel(r.FiscalYear),
		InterimDate: r.Interim.String(), FinalDate: r.Final.String(), DefaultDueDate: r.DefaultDue.String(),
		Status: string(r.Status), Revision: r.Revision, OpenedAt: r.OpenedAt, OpenedBy: r.OpenedBy,
		UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
}

type countsJSON struct {
	Assigned        int     `json:"assigned"`
	NotStarted      int     `json:"not_started"`
	Draft           int     `json:"draft"`
	Returned        int     `json:"returned"`
	Submitted       int     `json:"submitted"`
	Approved        int     `json:"approved"`
	Overdue         int     `json:"overdue"`
	Withdrawn       int     `json:"withdrawn"`
	Added           int     `json:"added_after_opening"`
	Covered         int     `json:"covered"`
	CoveredPercent  float64 `json:"covered_percent"`
	ApprovedPercent float64 `json:"approved_percent"`
}

func newCountsJSON(c checklist.Counts) countsJSON {
	return countsJSON{Assigned: c.Assigned, NotStarted: c.NotStarted, Draft: c.Draft, Returned: c.Returned,
		Submitted: c.Submitted, Approved: c.Approved, Overdue: c.Overdue, Withdrawn: c.Withdrawn, Added: c.Added,
		Covered: c.Covered(), CoveredPercent: round1(c.CoveredPercent()), ApprovedPercent: round1(c.ApprovedPercent())}
}

type departmentCountsJSON struct {
	Department string `json:"department"`
	countsJSON
}

type coverageJSON struct {
	At          time.Time              `json:"at"`
	Total       countsJSON             `json:"total"`
	Departments []departmentCountsJSON `json:"departments"`
}

func newCoverageJSON(cov checklist.Coverage) coverageJSON {
	j := coverageJSON{At: cov.At, Total: newCountsJSON(cov.Total), Departments: make([]departmentCountsJSON, 0, len(cov.Departments))}
	for _, d := range cov.Departments {
		j.Departments = append(j.Departments, departmentCountsJSON{Department: d.Department, countsJSON: newCountsJSON(d.Counts)})
	}
	return j
}

type roundDetailJSON struct {
	roundJSON
	Coverage coverageJSON `json:"coverage"`
}

type assignmentJSON struct {
	FiscalYear        int             `json:"fiscal_year"`
	Facility          facilityRefJSON `json:"facility"`
	Department        string          `json:"department"`
	Kind              string          `json:"kind"`
	ChecklistID       *string         `json:"checklist_id"`
	Version           *int            `json:"version"`
	InspectorIDs      []string        `json:"inspector_ids"`
	DueDate           string          `json:"due_date"`
	Status            string          `json:"status"`
	Progress          string          `json:"progress"`
	InspectionID      *string         `json:"inspection_id"`
	Overdue           bool            `json:"overdue"`
	AddedAfterOpening bool            `json:"added_after_opening"`
	AddedAt           time.Time       `json:"added_at"`
	Withdrawn         *string         `json:"withdrawn"`
	WithdrawnAt       *time.Time      `json:"withdrawn_at"`
	Revision          int64           `json:"revision"`
	UpdatedAt         time.Time       `json:"updated_at"`
	UpdatedBy         string          `json:"updated_by"`
}

func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func newAssignmentJSON(st checklist.AssignmentState) assignmentJSON {
	j := assignmentJSON{FiscalYear: st.FiscalYear, Facility: facilityRef(st.Facility), Department: st.Facility.Department,
		Kind: string(st.Facility.Kind), ChecklistID: optional(st.ChecklistID), Version: optional(st.Version),
		InspectorIDs: st.Inspectors, DueDate: st.Due.String(), Status: string(st.Status), Progress: string(st.Progress),
		InspectionID: optional(st.InspectionID), Overdue: st.Overdue, AddedAfterOpening: st.Origin == checklist.OriginAdded,
		AddedAt: st.AddedAt, Withdrawn: optional(st.Withdrawn), WithdrawnAt: optional(st.WithdrawnAt),
		Revision: st.Revision, UpdatedAt: st.UpdatedAt, UpdatedBy: st.UpdatedBy}
	if j.InspectorIDs == nil {
		j.InspectorIDs = []string{}
	}
	return j
}

type assignmentListJSON struct {
	FiscalYear int              `json:"fiscal_year"`
	At         time.Time        `json:"at"`
	Items      []assignmentJSON `json:"items"`
}

// Parameters.

func roundYear(c *gin.Context) (int, bool) {
	fy, ok := checklist.ParseFiscalYear(c.Param("fy"))
	if !ok {
		respondError(c, badQuery("fy", "range", "the fiscal year in the path must be a year such as 2026"))
		return 0, false
	}
	return fy, true
}

// coverageInstant reads ?at=YYYY-MM-DD (coverage at the end of that day)
// or ?as_of=interim|final (at the end of the milestone's day); neither
// means now.
func (s *Server) coverageInstant(c *gin.Context, r checklist.Round) (time.Time, bool) {
	at, asOf := c.Query("at"), c.Query("as_of")
	switch {
	case at != "" && asOf != "":
		respondError(c, badQuery("as_of", "exclusive", "give at or as_of, not both"))
		return time.Time{}, false
	case at != "":
		d, err := checklist.ParseDate(at)
		if err != nil {
			respondError(c, badQuery("at", "format", "at must be a date such as 2026-09-30"))
			return time.Time{}, false
		}
		return checklist.EndOf(d), true
	case asOf != "":
		d, ok := r.MilestoneDate(checklist.Milestone(asOf))
		if !ok {
			respondError(c, badQuery("as_of", "enum", "as_of must be interim or final"))
			return time.Time{}, false
		}
		return checklist.EndOf(d), true
	}
	return s.now(), true
}

// Reading.

// roundState is a round with its coverage at one instant and the
// inspection states it was computed from.
type roundState struct {
	round    checklist.Round
	coverage checklist.Coverage
	states   []checklist.InspectionState
}

// reconcileRound brings the round's membership up to date with the
// facilities (checklist.Reconcile): facilities created or reactivated
// since join it, deactivated ones leave it, each with an audit entry in
// the system's name. It writes only when something changed.
func (s *Server) reconcileRound(ctx context.Context, r checklist.Round, as []checklist.Assignment, facilities []checklist.Facility) ([]checklist.Assignment, error) {
	if r.Status != checklist.RoundOpen {
		return as, nil
	}
	a, versions, inspectors, err := s.assignmentDefaults(ctx)
	if err != nil {
		return nil, err
	}
	if checklist.Reconcile(r, as, facilities, a, versions, inspectors, checklist.SystemActor).Empty() {
		return as, nil
	}
	written, err := s.store.ChangeAssignments(ctx, r.FiscalYear, checklist.SystemActor, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
		rc := checklist.Reconcile(r, cur, facilities, a, versions, inspectors, checklist.SystemActor)
		return append(append(rc.Join, rc.Withdraw...), rc.Rejoin...), nil
	})
	if len(written) > 0 {
		s.roundsChanged(r.FiscalYear)
	}
	if err != nil {
		return nil, err
	}
	return s.store.RoundAssignments(ctx, r.FiscalYear)
}

// assignmentDefaults reads what a new assignment takes: the
// applicability, each checklist's current version, and the inspectors
// bound to each facility.
func (s *Server) assignmentDefaults(ctx context.Context) (checklist.Applicability, map[string]checklist.ApplicableVersion, map[string][]string, error) {
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		return a, nil, nil, err
	}
	vs, err := s.store.AllVersions(ctx)
	if err != nil {
		return a, nil, nil, err
	}
	users, err := s.allUsers(ctx, checklist.RoleInspector)
	if err != nil {
		return a, nil, nil, err
	}
	return a, checklist.CurrentVersions(vs), checklist.InspectorsOf(users), nil
}

func (s *Server) allUsers(ctx context.Context, role checklist.Role) ([]checklist.User, error) {
	var out []checklist.User
	q := checklist.UserQuery{Role: role, Limit: 1000}
	for {
		page, err := s.store.ListUsers(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

// facilityListCache holds every facility under the facility list's data
// version: a round reads them all on every request, and the embedded
// server takes ~0.5 s to list 1,000 (measured). Every facility write
// changes the version (checklist.ReportVersionFacilities), so a list kept
// under the current version is current.
type facilityListCache struct {
	mu    sync.Mutex
	token string
	list  []checklist.Facility
}

// allFacilities returns every facility, active or not, by code.
func (s *Server) allFacilities(ctx context.Context) ([]checklist.Facility, error) {
	vers, err := s.store.ReportVersions(ctx)
	if err != nil {
		return nil, err
	}
	tok := vers[checklist.ReportVersionFacilities]
	s.facilities.mu.Lock()
	if tok != "" && s.facilities.token == tok {
		list := slices.Clone(s.facilities.list)
		s.facilities.mu.Unlock()
		return list, nil
	}
	s.facilities.mu.Unlock()
	var out []checklist.Facility
	q := checklist.FacilityQuery{Limit: 5000}
	for {
		page, err := s.store.ListFacilities(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if tok != "" {
		s.facilities.mu.Lock()
		s.facilities.token, s.facilities.list = tok, slices.Clone(out)
		s.facilities.mu.Unlock()
	}
	return out, nil
}

// roundAt reads round fy, reconciles it, and computes its coverage at
// instant at. For a past instant the inspections changed since are put
// back as they were from their lifecycle steps in the audit trail
// (checklist.InspectionAt); see docs/rounds.md for what that can and
// cannot reconstruct.
func (s *Server) roundAt(ctx context.Context, r checklist.Round, at time.Time) (*roundState, error) {
	facilities, err := s.allFacilities(ctx)
	if err != nil {
		return nil, err
	}
	as, err := s.store.RoundAssignments(ctx, r.FiscalYear)
	if err != nil {
		return nil, err
	}
	if as, err = s.reconcileRound(ctx, r, as, facilities); err != nil {
		return nil, err
	}
	ins, err := s.store.RoundInspections(ctx, r.FiscalYear)
	if err != nil {
		return nil, err
	}
	now := s.now()
	states := make([]checklist.InspectionState, 0, len(ins))
	if at.Before(now) {
		var changed []string
		for _, in := range ins {
			if !in.Created.At.After(at) && in.Updated.At.After(at) {
				changed = append(changed, in.ID)
			}
		}
		steps, err := s.store.InspectionSteps(ctx, changed)
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			states = append(states, checklist.InspectionAt(in, steps[in.ID], at))
		}
	} else {
		for _, in := range ins {
			states = append(states, checklist.InspectionNow(in))
		}
	}
	byID := make(map[string]checklist.Facility, len(facilities))
	for _, f := range facilities {
		byID[f.ID] = f
	}
	return &roundState{round: r, coverage: checklist.ComputeCoverage(r, as, byID, states, at), states: states}, nil
}

func (s *Server) findRound(c *gin.Context) (checklist.Round, bool) {
	fy, ok := roundYear(c)
	if !ok {
		return checklist.Round{}, false
	}
	r, err := s.store.FindRound(c.Request.Context(), fy)
	if err != nil {
		respondError(c, err)
		return r, false
	}
	return r, true
}

func (s *Server) listRounds(c *gin.Context) {
	rs, err := s.store.ListRounds(c.Request.Context())
	if err != nil {
		respondError(c, err)
		return
	}
	out := listJSON[roundJSON]{Items: make([]roundJSON, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, newRoundJSON(r))
	}
	respondJSON(c, http.StatusOK, out)
}

// roundAtInstant answers the path's round and its coverage at ?at (or
// now), in the order every round read checks them: the round exists,
// ?at is valid, the rest of the query is (queryOK, when given). It has
// answered the request when ok is false.
func (s *Server) roundAtInstant(c *gin.Context, queryOK func() bool) (checklist.Round, *roundState, bool) {
	r, ok := s.findRound(c)
	if !ok {
		return r, nil, false
	}
	at, ok := s.coverageInstant(c, r)
	if !ok || queryOK != nil && !queryOK() {
		return r, nil, false
	}
	st, err := s.roundAt(c.Request.Context(), r, at)
	if err != nil {
		respondError(c, err)
		return r, nil, false
	}
	return r, st, true
}

func (s *Server) getRound(c *gin.Context) {
	r, st, ok := s.roundAtInstant(c, nil)
	if !ok {
		return
	}
	c.Header("Cache-Control", "private, no-cache")
	respondJSON(c, http.StatusOK, roundDetailJSON{roundJSON: newRoundJSON(r), Coverage: newCoverageJSON(st.coverage)})
}

// listAssignments: every assignment of the round with its status
// (inspectors: only their facilities'), filtered by status, department
// or kind. Not paged: a round has one row per facility, and the coverage
// it is read beside covers them all.
func (s *Server) listAssignments(c *gin.Context) {
	status := checklist.AssignmentStatus(c.Query("status"))
	kind := checklist.FacilityKind(c.Query("kind"))
	dept := c.Query("department")
	r, st, ok := s.roundAtInstant(c, func() bool {
		var probs checklist.Problems
		if status != "" && !validAssignmentStatus(status) {
			probs.Add("status", "enum", "status must be one of not_started, draft, submitted, returned, approved, overdue, withdrawn")
		}
		if kind != "" && !kind.Valid() {
			probs.Add("kind", "enum", "kind is not a facility kind")
		}
		return !refuseQuery(c, probs)
	})
	if !ok {
		return
	}
	p := principalOf(c)
	out := assignmentListJSON{FiscalYear: r.FiscalYear, At: st.coverage.At, Items: []assignmentJSON{}}
	for _, a := range st.coverage.Filter(status) {
		if !p.CanAccessFacility(a.FacilityID) || dept != "" && a.Facility.Department != dept || kind != "" && a.Facility.Kind != kind {
			continue
		}
		out.Items = append(out.Items, newAssignmentJSON(a))
	}
	c.Header("Cache-Control", "private, no-cache")
	respondJSON(c, http.StatusOK, out)
}

func validAssignmentStatus(s checklist.AssignmentStatus) bool {
	for _, x := range checklist.AssignmentStatuses {
		if s == x {
			return true
		}
	}
	return false
}

// noAssignment is the answer for an assignment that does not exist or
// the caller may not see: the same, so other facilities cannot be probed.
func noAssignment(fy int, facilityID string) error {
	return checklist.Errorf(checklist.ENotFound, "no assignment of facility %s in the round of fiscal year %d", facilityID, fy)
}

func (s *Server) getAssignment(c *gin.Context) {
	fy, ok := roundYear(c)
	if !ok {
		return
	}
	id := c.Param("facility_id")
	if !principalOf(c).CanAccessFacility(id) {
		respondError(c, noAssignment(fy, id))
		return
	}
	_, st, ok := s.roundAtInstant(c, nil)
	if !ok {
		return
	}
	for _, a := range st.coverage.States {
		if a.FacilityID == id {
			c.Header("Cache-Control", "private, no-cache")
			c.Header("ETag", revisionETag(a.Revision))
			respondJSON(c, http.StatusOK, newAssignmentJSON(a))
			return
		}
	}
	respondError(c, noAssignment(fy, id))
}

// Writing.

type assignmentOverrideJSON struct {
	FacilityID   string    `json:"facility_id"`
	DueDate      string    `json:"due_date"`
	InspectorIDs *[]string `json:"inspector_ids"`
	Excluded     *bool     `json:"excluded"`
}

type openRoundRequest struct {
	FiscalYear     int                      `json:"fiscal_year"`
	InterimDate    string                   `json:"interim_date"`
	FinalDate      string                   `json:"final_date"`
	DefaultDueDate string                   `json:"default_due_date"`
	Assignments    []assignmentOverrideJSON `json:"assignments"`
}

// openRound: POST /v1/rounds. Every active facility gets an assignment
// with the round's defaults; assignments[] change them per facility. Any
// problem (a date outside the fiscal year, an unknown facility or
// inspector, a round of that year already open) is refused whole.
func (s *Server) openRound(c *gin.Context) {
	var req openRoundRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	ctx := c.Request.Context()
	r, as, known, err := s.doOpenRound(ctx, req, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	// The coverage of what was just written: the facilities and
	// assignments are in hand, so only the inspections are read.
	ins, err := s.store.RoundInspections(ctx, r.FiscalYear)
	if err != nil {
		respondError(c, err)
		return
	}
	states := make([]checklist.InspectionState, 0, len(ins))
	for _, in := range ins {
		states = append(states, checklist.InspectionNow(in))
	}
	cov := checklist.ComputeCoverage(r, as, known, states, s.now())
	c.Header("Location", "/v1/rounds/"+strconv.Itoa(r.FiscalYear))
	respondJSON(c, http.StatusCreated, roundDetailJSON{roundJSON: newRoundJSON(r), Coverage: newCoverageJSON(cov)})
}

// doOpenRound opens the round req asks for (the API's and the console's
// one way): it returns the round, its assignments and every facility by
// id, or the problems, with nothing written.
func (s *Server) doOpenRound(ctx context.Context, req openRoundRequest, by checklist.Actor) (checklist.Round, []checklist.Assignment, map[string]checklist.Facility, error) {
	var p checklist.Problems
	interim := parseOptionalDateField(&p, "interim_date", req.InterimDate)
	final := parseOptionalDateField(&p, "final_date", req.FinalDate)
	due := parseOptionalDateField(&p, "default_due_date", req.DefaultDueDate)
	if err := p.Err("the round is not valid"); err != nil {
		return checklist.Round{}, nil, nil, err
	}
	r, err := checklist.NewRound(req.FiscalYear, interim, final, due, by, s.now())
	if err != nil {
		return r, nil, nil, err
	}
	facilities, err := s.allFacilities(ctx)
	if err != nil {
		return r, nil, nil, err
	}
	a, versions, inspectors, err := s.assignmentDefaults(ctx)
	if err != nil {
		return r, nil, nil, err
	}
	as := checklist.OpenRound(r, facilities, a, versions, inspectors, by)
	index := make(map[string]int, len(as))
	for i, x := range as {
		index[x.FacilityID] = i
	}
	known := make(map[string]checklist.Facility, len(facilities))
	for _, f := range facilities {
		known[f.ID] = f
	}
	for i, o := range req.Assignments {
		field := fmt.Sprintf("assignments[%d]", i)
		j, ok := index[o.FacilityID]
		if !ok {
			if _, exists := known[o.FacilityID]; exists {
				p.Add(field+".facility_id", "inactive", "facility %s is not active, so it is not in the round", o.FacilityID)
			} else {
				p.Add(field+".facility_id", "unknown", "no facility %q", o.FacilityID)
			}
			continue
		}
		ch := assignmentChange(&p, field, o.DueDate, o.InspectorIDs, o.Excluded, known[o.FacilityID], inspectors)
		if ch.Empty() {
			continue
		}
		if err := ch.Validate(r); err != nil {
			addProblems(&p, field, err)
			continue
		}
		next, changed, err := ch.Apply(r, as[j], by, r.OpenedAt)
		if err != nil {
			addProblems(&p, field, err)
			continue
		}
		if changed {
			next.Revision = 1 // still the first write
			as[j] = next
		}
	}
	if err := p.Err("the round cannot be opened"); err != nil {
		return r, nil, nil, err
	}
	if err := s.store.OpenRound(ctx, r, as, by); err != nil {
		return r, nil, nil, err
	}
	s.roundsChanged(r.FiscalYear)
	return r, as, known, nil
}

// addProblems adds err's field problems under prefix.
func addProblems(p *checklist.Problems, prefix string, err error) {
	var e *checklist.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		p.Add(prefix, "invalid", "%s", err.Error())
		return
	}
	for _, f := range e.Fields {
		field := prefix
		if f.Field != "" {
			field += "." + f.Field
		}
		*p = append(*p, checklist.FieldError{Field: field, Code: f.Code, Message: f.Message})
	}
}

// assignmentChange builds the change of one facility's assignment from
// the request's fields; inspectors must be inspectors bound to the
// facility (bound: by facility id, from checklist.InspectorsOf).
func assignmentChange(p *checklist.Problems, field, due string, inspectorIDs *[]string, excluded *bool, f checklist.Facility, bound map[string][]string) checklist.AssignmentChange {
	var ch checklist.AssignmentChange
	if due != "" {
		d := parseOptionalDateField(p, field+".due_date", due)
		if !d.IsZero() {
			ch.Due = &d
		}
	}
	if inspectorIDs != nil {
		for i, id := range *inspectorIDs {
			ok := false
			for _, b := range bound[f.ID] {
				ok = ok || b == id
			}
			if !ok {
				p.Add(fmt.Sprintf("%s.inspector_ids[%d]", field, i), "not_bound", "%q is not an enabled inspector bound to facility %s", id, f.Code)
			}
		}
		ch.Inspectors = inspectorIDs
	}
	ch.Exclude = excluded
	return ch
}

type updateRoundRequest struct {
	Revision       int64   `json:"revision"`
	InterimDate    *string `json:"interim_date"`
	FinalDate      *string `json:"final_date"`
	DefaultDueDate *string `json:"default_due_date"`
	Status         *string `json:"status"`
}

func (s *Server) updateRound(c *gin.Context) {
	fy, ok := roundYear(c)
	if !ok {
		return
	}
	var req updateRoundRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	r, err := s.doUpdateRound(c.Request.Context(), fy, req, actorOf(c))
	if err != nil {
		var e *checklist.Error
		if errors.As(err, &e) {
			if cur, ok := e.Current.(checklist.Round); ok {
				e.Current = newRoundJSON(cur)
			}
		}
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newRoundJSON(r))
}

// doUpdateRound changes round fy as req says, based on req.Revision (the
// API's and the console's one way); a stale revision's error carries the
// current round.
func (s *Server) doUpdateRound(ctx context.Context, fy int, req updateRoundRequest, by checklist.Actor) (checklist.Round, error) {
	var p checklist.Problems
	var ch checklist.RoundChange
	date := func(field string, v *string) *checklist.Date {
		if v == nil {
			return nil
		}
		d, err := checklist.ParseDate(*v)
		if err != nil {
			p.Add(field, "format", "%s must be a date such as 2026-09-30", field)
			return nil
		}
		return &d
	}
	ch.Interim, ch.Final, ch.DefaultDue = date("interim_date", req.InterimDate), date("final_date", req.FinalDate), date("default_due_date", req.DefaultDueDate)
	if req.Status != nil {
		st := checklist.RoundStatus(*req.Status)
		if !st.Valid() {
			p.Add("status", "enum", "status must be open or closed")
		}
		ch.Status = &st
	}
	if req.Revision < 1 {
		p.Add("revision", checklist.CodeRequired, "revision is required: the revision the change is based on")
	}
	if err := p.Err("the round change is not valid"); err != nil {
		return checklist.Round{}, err
	}
	r, err := s.store.UpdateRound(ctx, fy, req.Revision, by, func(r checklist.Round) (checklist.Round, error) {
		return ch.Apply(r, by, s.now())
	})
	if err != nil {
		return r, err
	}
	s.roundsChanged(fy)
	return r, nil
}

type changeAssignmentRequest struct {
	Revision     int64     `json:"revision"`
	DueDate      string    `json:"due_date"`
	InspectorIDs *[]string `json:"inspector_ids"`
	Excluded     *bool     `json:"excluded"`
	ChecklistID  *string   `json:"checklist_id"`
	Version      *int      `json:"version"`
}

// changeAssignment: PATCH one facility's assignment (due date,
// inspectors, excluded, checklist version), based on its revision;
// audited.
func (s *Server) changeAssignment(c *gin.Context) {
	fy, ok := roundYear(c)
	if !ok {
		return
	}
	var req changeAssignmentRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	id := c.Param("facility_id")
	if err := s.doChangeAssignment(c.Request.Context(), fy, id, req, actorOf(c)); err != nil {
		respondError(c, err)
		return
	}
	s.respondAssignment(c, fy, id)
}

// doChangeAssignment changes facility id's assignment in round fy as req
// says, based on req.Revision (the API's and the console's one way).
func (s *Server) doChangeAssignment(ctx context.Context, fy int, id string, req changeAssignmentRequest, by checklist.Actor) error {
	f, err := s.store.FindFacility(ctx, id)
	if errors.Is(err, checklist.ENotFound) {
		err = noAssignment(fy, id)
	}
	if err != nil {
		return err
	}
	var p checklist.Problems
	if req.Revision < 1 {
		p.Add("revision", checklist.CodeRequired, "revision is required: the revision the change is based on")
	}
	_, _, inspectors, err := s.assignmentDefaults(ctx)
	if err != nil {
		return err
	}
	ch := assignmentChange(&p, "", req.DueDate, req.InspectorIDs, req.Excluded, f, inspectors)
	if req.Version != nil || req.ChecklistID != nil {
		v, err := s.assignableVersion(ctx, f, req.ChecklistID, req.Version)
		switch {
		case checklist.ErrorCode(err) == checklist.EInvalid:
			addProblems(&p, "", err)
		case err != nil:
			return err
		}
		ch.Version = v
	}
	for i := range p { // top-level fields of this body
		if len(p[i].Field) > 0 && p[i].Field[0] == '.' {
			p[i].Field = p[i].Field[1:]
		}
	}
	if err := p.Err("the assignment change is not valid"); err != nil {
		return err
	}
	found := false
	_, err = s.store.ChangeAssignments(ctx, fy, by, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
		for _, a := range cur {
			if a.FacilityID != id {
				continue
			}
			found = true
			if a.Revision != req.Revision {
				return nil, &checklist.Error{Code: checklist.ERevision, Message: fmt.Sprintf("the assignment is at revision %d, not %d: reload and retry", a.Revision, req.Revision)}
			}
			next, changed, err := ch.Apply(r, a, by, s.now())
			if err != nil || !changed {
				return nil, err
			}
			return []checklist.Assignment{next}, nil
		}
		return nil, nil
	})
	if err == nil && !found {
		err = noAssignment(fy, id)
	}
	if err != nil {
		return err
	}
	s.roundsChanged(fy)
	return nil
}

// assignableVersion checks the checklist version a PATCH asks facility
// f's assignment to name (checklist.AssignableVersion): nil and the
// problem when it may not.
func (s *Server) assignableVersion(ctx context.Context, f checklist.Facility, id *string, number *int) (*checklist.ApplicableVersion, error) {
	if number == nil {
		var p checklist.Problems
		p.Add("version", checklist.CodeRequired, "version is required with checklist_id")
		return nil, p.Err("the checklist version cannot be assigned")
	}
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.AllVersions(ctx)
	if err != nil {
		return nil, err
	}
	v, err := checklist.AssignableVersion(f, a, vs, deref(id), *number)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// respondAssignment answers with facility id's assignment as it is now.
func (s *Server) respondAssignment(c *gin.Context, fy int, id string) {
	r, err := s.store.FindRound(c.Request.Context(), fy)
	if err != nil {
		respondError(c, err)
		return
	}
	st, err := s.roundAt(c.Request.Context(), r, s.now())
	if err != nil {
		respondError(c, err)
		return
	}
	for _, a := range st.coverage.States {
		if a.FacilityID == id {
			c.Header("ETag", revisionETag(a.Revision))
			respondJSON(c, http.StatusOK, newAssignmentJSON(a))
			return
		}
	}
	respondError(c, noAssignment(fy, id))
}

type selectorJSON struct {
	FacilityIDs []string `json:"facility_ids"`
	Department  string   `json:"department"`
	Kind        string   `json:"kind"`
	All         bool     `json:"all"`
}

type bulkChangeRequest struct {
	Select       selectorJSON `json:"select"`
	DueDate      string       `json:"due_date"`
	InspectorIDs *[]string    `json:"inspector_ids"`
	Excluded     *bool        `json:"excluded"`
}

type bulkChangeJSON struct {
	Changed     int              `json:"changed"`
	Assignments []assignmentJSON `json:"assignments"`
}

// bulkChangeAssignments: POST /v1/rounds/{fy}/assignments/bulk. One
// change (a due date, exclusion, or the inspectors) for every assignment
// the selector picks — by department, kind or facility ids. All are
// checked before any is written.
func (s *Server) bulkChangeAssignments(c *gin.Context) {
	fy, ok := roundYear(c)
	if !ok {
		return
	}
	var req bulkChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	ctx := c.Request.Context()
	now := s.now()
	written, err := s.doBulkChange(ctx, fy, req, actorOf(c), now)
	if err != nil {
		respondError(c, err)
		return
	}
	out := bulkChangeJSON{Changed: len(written), Assignments: make([]assignmentJSON, 0, len(written))}
	r, err := s.store.FindRound(ctx, fy)
	if err != nil {
		respondError(c, err)
		return
	}
	st, err := s.roundAt(ctx, r, now)
	if err != nil {
		respondError(c, err)
		return
	}
	changed := map[string]bool{}
	for _, a := range written {
		changed[a.FacilityID] = true
	}
	for _, a := range st.coverage.States {
		if changed[a.FacilityID] {
			out.Assignments = append(out.Assignments, newAssignmentJSON(a))
		}
	}
	respondJSON(c, http.StatusOK, out)
}

// doBulkChange applies one change to every assignment of round fy that
// req's selector picks (the API's and the console's one way): all are
// checked before any is written.
func (s *Server) doBulkChange(ctx context.Context, fy int, req bulkChangeRequest, by checklist.Actor, now time.Time) ([]checklist.Assignment, error) {
	sel := checklist.AssignmentSelector{FacilityIDs: req.Select.FacilityIDs, Department: req.Select.Department,
		Kind: checklist.FacilityKind(req.Select.Kind), All: req.Select.All}
	var p checklist.Problems
	if err := sel.Validate(); err != nil {
		addProblems(&p, "", err)
	}
	facilities, err := s.allFacilities(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]checklist.Facility, len(facilities))
	for _, f := range facilities {
		byID[f.ID] = f
	}
	for i, id := range sel.FacilityIDs {
		if _, ok := byID[id]; !ok {
			p.Add(fmt.Sprintf("select.facility_ids[%d]", i), "unknown", "no facility %q", id)
		}
	}
	var ch checklist.AssignmentChange
	if req.DueDate != "" {
		if d := parseOptionalDateField(&p, "due_date", req.DueDate); !d.IsZero() {
			ch.Due = &d
		}
	}
	var bound map[string][]string // inspectors by facility, when some are set
	if req.InspectorIDs != nil {
		ch.Inspectors = req.InspectorIDs
		if len(*req.InspectorIDs) > 0 {
			if _, _, bound, err = s.assignmentDefaults(ctx); err != nil {
				return nil, err
			}
		}
	}
	ch.Exclude = req.Excluded
	for i := range p {
		if len(p[i].Field) > 0 && p[i].Field[0] == '.' {
			p[i].Field = p[i].Field[1:]
		}
	}
	if err := p.Err("the bulk change is not valid"); err != nil {
		return nil, err
	}
	written, err := s.store.ChangeAssignments(ctx, fy, by, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
		if err := ch.Validate(r); err != nil {
			return nil, err
		}
		var picked []checklist.Assignment
		for _, a := range cur {
			if f, ok := byID[a.FacilityID]; ok && sel.Matches(f) {
				picked = append(picked, a)
			}
		}
		if bound != nil {
			if err := boundEverywhere(*ch.Inspectors, picked, byID, bound); err != nil {
				return nil, err
			}
		}
		var out []checklist.Assignment
		for _, a := range picked {
			next, changed, err := ch.Apply(r, a, by, now)
			if err != nil {
				return nil, err
			}
			if changed {
				out = append(out, next)
			}
		}
		return out, nil
	})
	if len(written) > 0 {
		s.roundsChanged(fy)
	}
	return written, err
}

// boundEverywhere checks the PATCH rule for inspectors across a bulk
// change: each must be an enabled inspector bound to every facility
// picked. A problem names the inspector, the first facility they are not
// bound to, and how many more.
func boundEverywhere(ids []string, picked []checklist.Assignment, facilities map[string]checklist.Facility, bound map[string][]string) error {
	var p checklist.Problems
	for i, id := range ids {
		var missing []string
		for _, a := range picked {
			if !slices.Contains(bound[a.FacilityID], id) {
				missing = append(missing, facilities[a.FacilityID].Code)
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			p.Add(fmt.Sprintf("inspector_ids[%d]", i), "not_bound", "%q is not an enabled inspector bound to facility %s", id, missing[0])
		default:
			p.Add(fmt.Sprintf("inspector_ids[%d]", i), "not_bound", "%q is not an enabled inspector bound to facility %s and %d more of the selection",
				id, missing[0], len(missing)-1)
		}
	}
	return p.Err("the bulk change is not valid")
}

// tabletAssignmentJSON is one line of a tablet's "to do this year" list.
type tabletAssignmentJSON struct {
	FiscalYear  int             `json:"fiscal_year"`
	Facility    facilityRefJSON `json:"facility"`
	DueDate     string          `json:"due_date"`
	Status      string          `json:"status"`
	Progress    string          `json:"progress"`
	Overdue     bool            `json:"overdue"`
	ChecklistID *string         `json:"checklist_id"`
	Version     *int            `json:"version"`
}

// tabletAssignments returns an inspector's assignments in the round of
// the current fiscal year, earliest due date first: their facilities
// only (t.Facilities, as the manifest read them), nil for staff, empty
// when no round is open. It writes nothing: facilities that joined or
// left the round since it was last reconciled are shown as
// checklist.Reconcile would make them.
func (s *Server) tabletAssignments(ctx context.Context, p auth.Principal, t checklist.TabletChecklists) ([]tabletAssignmentJSON, error) {
	if t.Staff {
		return nil, nil
	}
	out := []tabletAssignmentJSON{}
	now := s.now()
	r, err := s.store.FindRound(ctx, checklist.FiscalYear(now))
	if errors.Is(err, checklist.ENotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	all, err := s.store.RoundAssignments(ctx, r.FiscalYear)
	if err != nil {
		return nil, err
	}
	mine := map[string]checklist.Facility{}
	for _, f := range t.Facilities {
		if p.CanAccessFacility(f.ID) {
			mine[f.ID] = f
		}
	}
	var as []checklist.Assignment
	for _, a := range all {
		if _, ok := mine[a.FacilityID]; ok {
			as = append(as, a)
		}
	}
	rc := checklist.Reconcile(r, as, t.Facilities, t.Applicability, checklist.CurrentVersions(t.Versions), nil, checklist.SystemActor)
	as = append(as, rc.Join...)
	for _, x := range append(rc.Withdraw, rc.Rejoin...) {
		for i := range as {
			if as[i].FacilityID == x.FacilityID {
				as[i] = x
			}
		}
	}
	ins, err := s.store.RoundInspections(ctx, r.FiscalYear)
	if err != nil {
		return nil, err
	}
	var states []checklist.InspectionState
	for _, in := range ins {
		if _, ok := mine[in.FacilityID]; ok {
			states = append(states, checklist.InspectionNow(in))
		}
	}
	cov := checklist.ComputeCoverage(r, as, mine, states, now)
	list := cov.States[:0]
	for _, st := range cov.States {
		if st.Status != checklist.AssignWithdrawn {
			list = append(list, st)
		}
	}
	checklist.SortByDue(list)
	for _, st := range list {
		out = append(out, tabletAssignmentJSON{FiscalYear: st.FiscalYear, Facility: facilityRef(st.Facility), DueDate: st.Due.String(),
			Status: string(st.Status), Progress: string(st.Progress), Overdue: st.Overdue,
			ChecklistID: optional(st.ChecklistID), Version: optional(st.Version)})
	}
	return out, nil
}
