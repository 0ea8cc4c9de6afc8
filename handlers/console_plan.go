package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// The improvement plan (PDCA): actions by status, one action with its
// progress reports, actions created from a finding, and the gallery of
// good practices. Writes go through the same domain functions as
// /v1/actions.

var actionStatuses = []checklist.ActionStatus{checklist.ActionPlanned, checklist.ActionInProgress, checklist.ActionDone, checklist.ActionVerified, checklist.ActionDropped}

type planGroup struct {
	Status  checklist.ActionStatus
	Actions []checklist.Action
}

type planView struct {
	FY       int // target fiscal year; 0 for all
	Years    []int
	Status   string
	Groups   []planGroup
	Facility map[string]checklist.Facility
	ItemText map[string]checklist.Text
	Total    int
}

// consoleItemTexts returns the item texts of the newest fiscal year with
// data, for naming items by their text.
func (s *Server) consoleItemTexts(c *gin.Context) (map[string]checklist.Text, error) {
	vers, err := s.store.ReportVersions(c.Request.Context())
	if err != nil {
		return nil, err
	}
	d, err := s.yearData(c.Request.Context(), checklist.FiscalYear(s.now()), vers)
	if err != nil {
		return nil, err
	}
	return itemTexts(d), nil
}

func (s *Server) facilityMap(c *gin.Context) (map[string]checklist.Facility, error) {
	facs, err := s.allFacilities(c.Request.Context())
	if err != nil {
		return nil, err
	}
	m := make(map[string]checklist.Facility, len(facs))
	for _, f := range facs {
		m[f.ID] = f
	}
	return m, nil
}

// consolePlan lists improvement actions grouped by status, filtered by
// target fiscal year and status.
func (s *Server) consolePlan(c *gin.Context) {
	v := planView{Status: c.Query("status")}
	if fy, ok := checklist.ParseFiscalYear(c.Query("fy")); ok {
		v.FY = fy
	}
	now := checklist.FiscalYear(s.now())
	for y := now + 1; y >= now-3; y-- {
		v.Years = append(v.Years, y)
	}
	q := checklist.ActionQuery{TargetFiscalYear: v.FY}
	if st := checklist.ActionStatus(v.Status); st.Valid() {
		q.Status = st
	}
	actions, err := s.store.ListActions(c.Request.Context(), q)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Total = len(actions)
	for _, st := range actionStatuses {
		g := planGroup{Status: st}
		for _, a := range actions {
			if a.Status == st {
				g.Actions = append(g.Actions, a)
			}
		}
		if len(g.Actions) > 0 {
			v.Groups = append(v.Groups, g)
		}
	}
	if v.Facility, err = s.facilityMap(c); err != nil {
		s.consoleError(c, err)
		return
	}
	if v.ItemText, err = s.consoleItemTexts(c); err != nil {
		s.consoleError(c, err)
		return
	}
	s.render(c, http.StatusOK, "plan.html", "plan.title", v)
}

type actionView struct {
	A        checklist.Action
	Facility checklist.Facility
	ItemText checklist.Text
	Statuses []checklist.ActionStatus
	Today    string
	Done     string
	Problem  string
	Conflict string
}

func (s *Server) loadAction(c *gin.Context) (*actionView, error) {
	a, err := s.store.FindAction(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	f, err := s.store.FindFacility(c.Request.Context(), a.FacilityID)
	if err != nil && !errors.Is(err, checklist.ENotFound) {
		return nil, err
	}
	texts, err := s.consoleItemTexts(c)
	if err != nil {
		return nil, err
	}
	return &actionView{A: a, Facility: f, ItemText: texts[a.ItemKey], Statuses: actionStatuses,
		Today: checklist.DateOf(s.now()).String()}, nil
}

// consoleAction shows one improvement action with its forms.
func (s *Server) consoleAction(c *gin.Context) {
	v, err := s.loadAction(c)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Done = doneOf(c, "create", "status", "progress", "good-practice")
	s.render(c, http.StatusOK, "action.html", "action.title", v)
}

// consoleActionWrite runs one of the action forms (status, progress, good
// practice) at the revision the form was shown at.
func (s *Server) consoleActionWrite(c *gin.Context) {
	id, what := c.Param("id"), c.Param("what")
	rev, err := strconv.ParseInt(c.PostForm("revision"), 10, 64)
	if err != nil || rev < 1 {
		s.consoleError(c, checklist.Errorf(checklist.EBadRequest, "the form names no revision"))
		return
	}
	by, now := actorOf(c), s.now()
	var change func(*checklist.Action) error
	switch what {
	case "status":
		st := checklist.ActionStatus(c.PostForm("status"))
		change = func(a *checklist.Action) error { return a.Apply(checklist.ActionChange{Status: &st}, by, now) }
	case "progress":
		var p checklist.Problems
		date := parseOptionalDateField(&p, "date", c.PostForm("date"))
		if err := p.Err("the progress report is not valid"); err != nil {
			s.actionProblem(c, err)
			return
		}
		kind, text := c.PostForm("kind"), c.PostForm("text")
		change = func(a *checklist.Action) error { return a.Report(kind, date, text, by, now) }
	case "good-practice":
		good, note := c.PostForm("good") == "on", c.PostForm("note")
		change = func(a *checklist.Action) error { return a.MarkGoodPractice(good, note, by, now) }
	default:
		s.consoleError(c, checklist.Errorf(checklist.ENotFound, "no such form %s", what))
		return
	}
	if _, err := s.store.UpdateAction(c.Request.Context(), id, rev, by, change); err != nil {
		s.actionProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/actions/"+id+"?done="+what)
}

// actionProblem shows the action again with why the form did nothing.
func (s *Server) actionProblem(c *gin.Context, err error) {
	code := checklist.ErrorCode(err)
	if code != checklist.EInvalid && code != checklist.EConflict && code != checklist.ERevision && code != checklist.EForbidden {
		s.consoleError(c, err)
		return
	}
	v, lerr := s.loadAction(c)
	if lerr != nil {
		s.consoleError(c, lerr)
		return
	}
	if code == checklist.ERevision {
		v.Conflict = problemText(err)
	} else {
		v.Problem = problemText(err)
	}
	s.render(c, statusOf[code], "action.html", "action.title", v)
}

// problemText is a domain error's message and field messages.
func problemText(err error) string {
	var e *checklist.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	parts := []string{e.Message}
	for _, f := range e.Fields {
		parts = append(parts, f.Message)
	}
	return strings.Join(parts, " / ")
}

// consoleCreateAction creates an action from a finding of an inspection
// (the form on the inspection page) and opens it.
func (s *Server) consoleCreateAction(c *gin.Context) {
	fy, _ := strconv.Atoi(c.PostForm("target_fiscal_year"))
	req := createActionRequest{Title: c.PostForm("title"), FacilityID: c.PostForm("facility_id"), ItemKey: c.PostForm("item_key"),
		Owner: c.PostForm("owner"), TargetFiscalYear: fy, DueDate: c.PostForm("due_date"), SourceInspectionID: c.PostForm("source_inspection_id")}
	a, err := s.newAction(c.Request.Context(), req, actorOf(c))
	if err != nil {
		if errors.Is(err, checklist.EInvalid) && req.SourceInspectionID != "" {
			v, lerr := s.loadInspection(c, req.SourceInspectionID)
			if lerr != nil {
				s.consoleError(c, lerr)
				return
			}
			v.Problem = problemText(err)
			s.render(c, http.StatusUnprocessableEntity, "inspection.html", "inspection.title", v)
			return
		}
		s.consoleError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/actions/"+a.ID+"?done=create")
}

type galleryItem struct {
	A        checklist.Action
	Facility checklist.Facility
	ItemText checklist.Text
	Before   []checklist.Photo // of the finding the action answered
	After    []checklist.Photo // of the inspection that verified it
}

// consoleGallery shows the good practices with their photos, for every
// facility to learn from.
func (s *Server) consoleGallery(c *gin.Context) {
	ctx := c.Request.Context()
	actions, err := s.store.ListActions(ctx, checklist.ActionQuery{GoodPractice: true})
	if err != nil {
		s.consoleError(c, err)
		return
	}
	facs, err := s.facilityMap(c)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	texts, err := s.consoleItemTexts(c)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	photosOf := func(inspectionID, item string) []checklist.Photo {
		if inspectionID == "" {
			return nil
		}
		in, err := s.store.FindInspection(ctx, inspectionID)
		if err != nil {
			return nil // gone or unreadable: the practice stands without photos
		}
		return slices.DeleteFunc(slices.Clone(in.Photos), func(p checklist.Photo) bool { return p.ItemKey != item })
	}
	var items []galleryItem
	for _, a := range actions {
		items = append(items, galleryItem{A: a, Facility: facs[a.FacilityID], ItemText: texts[a.ItemKey],
			Before: photosOf(a.SourceInspectionID, a.ItemKey), After: photosOf(a.VerifiedInspectionID, a.ItemKey)})
	}
	s.render(c, http.StatusOK, "gallery.html", "gallery.title", items)
}
