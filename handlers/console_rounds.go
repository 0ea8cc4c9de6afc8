package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// The round page: the fiscal year's inspection round (docs/rounds.md)
// with its coverage by department, overdue list and assignments.
// Reviewers read it; admins open the round, close or reopen it, move due
// dates and set inspectors in bulk, and change one assignment's due date
// or checklist version. Every write goes through the same
// functions as the /v1/rounds handlers (doOpenRound, doUpdateRound,
// doChangeAssignment, doBulkChange).

// roundRowsPerPage bounds the assignment table and the overdue list: a
// round of the whole bureau has ~1,000 facilities, and a row with its
// due-date form is ~0.7 KB.
const roundRowsPerPage = 100

// roundViews are the instants the coverage can be shown at.
var roundViews = []string{"now", "interim", "final"}

type roundsView struct {
	FY     int
	Years  []int
	Exists bool
	R      checklist.Round
	View   string // now, interim or final
	AtDate string // the day the coverage is at (its end, in Tokyo)
	// BeforeOpening: the view's instant precedes the opening, so the
	// round held no assignment then.
	BeforeOpening bool
	Views         []string
	Cov           checklist.Coverage
	Chart         barChart
	Overdue       []checklist.AssignmentState
	Rows          []checklist.AssignmentState // the assignment table, filtered, this page
	// OverdueMore is how many overdue facilities the list leaves out.
	OverdueMore int
	// Paging of the assignment table (1-based); Matching counts the
	// filtered rows of every page.
	Page, Pages, Matching int
	PageNums              []int
	PageQ                 string // the page's query without page, for the links
	// Filters of the assignment table.
	Department  string
	Status      string
	Departments []string
	Statuses    []checklist.AssignmentStatus
	Kinds       []checklist.FacilityKind
	Inspector   map[string]string // user id → display name
	// Inspectors are the bureau's enabled inspectors, the bulk form's
	// choices.
	Inspectors []checklist.User
	// Assignable is, by facility id (this page's rows), the version
	// numbers of its checklist an admin may assign
	// (checklist.AssignableVersion: published, not retired).
	Assignable map[string][]int
	Admin      bool
	// The open form's values (defaults, or what was typed).
	OpenInterim, OpenFinal, OpenDue string
	BulkDepartment, BulkKind        string
	BulkDue                         string
	BulkInspectors                  string          // keep, set or clear
	BulkPicked                      map[string]bool // the inspectors chosen
	Done                            string
	Problem                         string
	Conflict                        string
}

// loadRounds reads the page for fiscal year fy at the view the query
// names; a missing round is a page with the open form, not an error.
func (s *Server) loadRounds(c *gin.Context, fy int) (*roundsView, error) {
	ctx := c.Request.Context()
	now := checklist.FiscalYear(s.now())
	v := &roundsView{FY: fy, View: "now", Views: roundViews, Department: c.Query("department"), Status: c.Query("status"),
		Statuses: checklist.AssignmentStatuses, Kinds: checklist.FacilityKinds,
		Admin:       principalOf(c).Role == checklist.RoleAdmin,
		OpenInterim: checklist.DefaultInterim(fy).String(), OpenFinal: checklist.DefaultFinal(fy).String(),
		BulkInspectors: "keep"}
	v.OpenDue = v.OpenInterim
	years := []int{now + 1, now, now - 1}
	rs, err := s.store.ListRounds(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		years = append(years, r.FiscalYear)
	}
	years = append(years, fy)
	slices.Sort(years)
	slices.Reverse(years)
	v.Years = slices.Compact(years)

	r, err := s.store.FindRound(ctx, fy)
	if errors.Is(err, checklist.ENotFound) {
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	v.Exists, v.R = true, r
	at := s.now()
	if m := c.Query("view"); m == "interim" || m == "final" {
		d, _ := r.MilestoneDate(checklist.Milestone(m))
		v.View, at = m, checklist.EndOf(d)
	}
	st, err := s.roundAt(ctx, r, at)
	if err != nil {
		return nil, err
	}
	v.Cov = st.coverage
	v.BeforeOpening = at.Before(r.OpenedAt)
	v.AtDate = checklist.DateOf(at.Add(-1)).String()
	users, err := s.allUsers(ctx, checklist.RoleInspector)
	if err != nil {
		return nil, err
	}
	v.Inspector = make(map[string]string, len(users))
	for _, u := range users {
		v.Inspector[u.ID] = u.DisplayName
		if !u.Disabled {
			v.Inspectors = append(v.Inspectors, u)
		}
	}
	lang := s.consoleLang(c)
	var labels, texts []string
	var values []float64
	for _, d := range v.Cov.Departments {
		label := d.Department
		if label == "" {
			label = message(lang, "rounds.no_dept")
		} else {
			v.Departments = append(v.Departments, d.Department) // "" is the filters' "all"
		}
		labels = append(labels, label)
		values = append(values, d.CoveredPercent())
		texts = append(texts, fmtFloat(d.CoveredPercent(), 0)+"%")
	}
	v.Chart = newBarChart(message(lang, "rounds.chart"), labels, values, texts)
	status := checklist.AssignmentStatus(v.Status)
	if !slices.Contains(checklist.AssignmentStatuses, status) {
		status, v.Status = "", ""
	}
	var rows []checklist.AssignmentState
	for _, a := range v.Cov.Filter(status) {
		if v.Department == "" || a.Facility.Department == v.Department {
			rows = append(rows, a)
		}
	}
	v.Matching = len(rows)
	v.Pages = max(1, (len(rows)+roundRowsPerPage-1)/roundRowsPerPage)
	v.Page, _ = strconv.Atoi(c.Query("page"))
	v.Page = min(max(v.Page, 1), v.Pages)
	for p := 1; p <= v.Pages; p++ {
		v.PageNums = append(v.PageNums, p)
	}
	v.Rows = rows[(v.Page-1)*roundRowsPerPage : min(len(rows), v.Page*roundRowsPerPage)]
	if v.Admin {
		if v.Assignable, err = s.assignableVersions(ctx, v.Rows); err != nil {
			return nil, err
		}
	}
	q := url.Values{"fy": {strconv.Itoa(fy)}, "view": {v.View}, "department": {v.Department}, "status": {v.Status}}
	v.PageQ = q.Encode()
	for _, a := range v.Cov.States {
		if a.Overdue {
			if len(v.Overdue) < roundRowsPerPage {
				v.Overdue = append(v.Overdue, a)
			} else {
				v.OverdueMore++
			}
		}
	}
	return v, nil
}

// assignableVersions returns, by facility id, the versions of the
// checklist applying to each row's facility that checklist.AssignableVersion
// accepts: published and not retired, in order.
func (s *Server) assignableVersions(ctx context.Context, rows []checklist.AssignmentState) (map[string][]int, error) {
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.AllVersions(ctx)
	if err != nil {
		return nil, err
	}
	byChecklist := map[string][]int{}
	for _, v := range vs {
		if !v.Retired {
			byChecklist[v.ChecklistID] = append(byChecklist[v.ChecklistID], v.Number)
		}
	}
	for _, ns := range byChecklist {
		slices.Sort(ns)
	}
	out := make(map[string][]int, len(rows))
	for _, r := range rows {
		if id := a.ChecklistFor(r.Facility.Kind); id != "" {
			out[r.FacilityID] = byChecklist[id]
		}
	}
	return out, nil
}

// roundFY is a console page's fiscal year: param (?fy=) when it is a
// valid one, else this one. A page does not refuse a bad ?fy=: it shows
// the current year.
func (s *Server) roundFY(param string) int {
	if fy, ok := checklist.ParseFiscalYear(param); ok {
		return fy
	}
	return checklist.FiscalYear(s.now())
}

// consoleRounds shows the round of ?fy= (this fiscal year by default).
func (s *Server) consoleRounds(c *gin.Context) {
	v, err := s.loadRounds(c, s.roundFY(c.Query("fy")))
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Done = doneOf(c, "open", "status", "due", "exclude", "include", "bulk")
	s.render(c, http.StatusOK, "rounds.html", "rounds.title", v)
}

// consoleRoundWrite runs one of the admin's forms of the round page.
func (s *Server) consoleRoundWrite(c *gin.Context) {
	fy, err := strconv.Atoi(c.Param("fy"))
	if err != nil {
		s.consoleError(c, checklist.Errorf(checklist.ENotFound, "no round %q", c.Param("fy")))
		return
	}
	ctx, by, what := c.Request.Context(), actorOf(c), c.Param("what")
	rev, _ := strconv.ParseInt(c.PostForm("revision"), 10, 64)
	switch what {
	case "open":
		_, _, _, err = s.doOpenRound(ctx, openRoundRequest{FiscalYear: fy, InterimDate: c.PostForm("interim_date"),
			FinalDate: c.PostForm("final_date"), DefaultDueDate: c.PostForm("default_due_date")}, by)
	case "status":
		st := c.PostForm("status")
		_, err = s.doUpdateRound(ctx, fy, updateRoundRequest{Revision: rev, Status: &st}, by)
	case "due": // the row's form: its due date and version, or its exclude/include button
		req := changeAssignmentRequest{Revision: rev, DueDate: c.PostForm("due_date")}
		// The version only when the admin picked another: a due date
		// change does not re-check the version shown.
		if n := c.PostForm("version"); n != "" && n != c.PostForm("version_was") {
			number, perr := strconv.Atoi(n)
			if perr != nil {
				s.roundProblem(c, fy, what, checklist.Errorf(checklist.EInvalid, "version %q is not a number", n))
				return
			}
			req.Version = &number
		}
		if ex := c.PostForm("excluded"); ex != "" {
			b := ex == "true"
			req.DueDate, req.Excluded, req.Version, what = "", &b, nil, "exclude"
			if !b {
				what = "include"
			}
		}
		err = s.doChangeAssignment(ctx, fy, c.PostForm("facility_id"), req, by)
	case "bulk":
		req := bulkChangeRequest{DueDate: c.PostForm("due_date"),
			Select: selectorJSON{Department: c.PostForm("department"), Kind: c.PostForm("kind")}}
		switch c.PostForm("inspectors") {
		case "set":
			ids := c.PostFormArray("inspector_ids")
			if len(ids) == 0 {
				s.roundProblem(c, fy, what, checklist.Errorf(checklist.EInvalid, "choose at least one inspector to set, or choose to clear them"))
				return
			}
			req.InspectorIDs = &ids
		case "clear":
			req.InspectorIDs = &[]string{}
		}
		_, err = s.doBulkChange(ctx, fy, req, by, s.now())
	default:
		s.consoleError(c, checklist.Errorf(checklist.ENotFound, "no such form %s", what))
		return
	}
	if err != nil {
		s.roundProblem(c, fy, what, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/rounds?fy="+strconv.Itoa(fy)+"&done="+what)
}

// roundProblem shows the round page again, as it is now, with why the
// form wrote nothing and what was typed.
func (s *Server) roundProblem(c *gin.Context, fy int, what string, err error) {
	code := checklist.ErrorCode(err)
	if code != checklist.EInvalid && code != checklist.EConflict && code != checklist.ERevision {
		s.consoleError(c, err)
		return
	}
	v, lerr := s.loadRounds(c, fy)
	if lerr != nil {
		s.consoleError(c, lerr)
		return
	}
	switch what {
	case "open":
		v.OpenInterim, v.OpenFinal, v.OpenDue = c.PostForm("interim_date"), c.PostForm("final_date"), c.PostForm("default_due_date")
	case "bulk":
		v.BulkDepartment, v.BulkKind, v.BulkDue = c.PostForm("department"), c.PostForm("kind"), c.PostForm("due_date")
		if m := c.PostForm("inspectors"); m == "set" || m == "clear" {
			v.BulkInspectors = m
		}
		v.BulkPicked = map[string]bool{}
		for _, id := range c.PostFormArray("inspector_ids") {
			v.BulkPicked[id] = true
		}
	}
	if code == checklist.ERevision {
		v.Conflict = problemText(err)
	} else {
		v.Problem = problemText(err)
	}
	s.render(c, statusOf[code], "rounds.html", "rounds.title", v)
}
