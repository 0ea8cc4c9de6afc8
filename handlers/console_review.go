package handlers

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// The review pages: the queue, one inspection with its review actions,
// and its printable report.

type queueRow struct {
	In          *checklist.Inspection
	Facility    checklist.Facility
	Resubmitted bool
	Since       time.Time // entered review
}

type queueView struct {
	Rows        []queueRow
	Facilities  []checklist.Facility
	Departments []string
	Facility    string
	Department  string
	Status      string // "", "submitted" (first time) or "resubmitted"
}

// consoleQueue lists the inspections waiting for review, oldest first,
// filtered by facility, department and first submission or resubmission.
func (s *Server) consoleQueue(c *gin.Context) {
	ctx := c.Request.Context()
	v := queueView{Facility: c.Query("facility"), Department: c.Query("department"), Status: c.Query("status")}
	facs, err := s.allFacilities(ctx)
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Facilities = facs
	byID := map[string]checklist.Facility{}
	for _, f := range facs {
		byID[f.ID] = f
		if f.Department != "" && !slices.Contains(v.Departments, f.Department) {
			v.Departments = append(v.Departments, f.Department)
		}
	}
	slices.Sort(v.Departments)
	q := checklist.InspectionQuery{Status: checklist.StatusSubmitted, Limit: 200}
	if v.Facility != "" {
		q.FacilityIDs = []string{v.Facility}
	}
	for {
		pg, err := s.store.ListInspections(ctx, q)
		if err != nil {
			s.consoleError(c, err)
			return
		}
		for _, listed := range pg.Inspections {
			f := byID[listed.FacilityID]
			if v.Department != "" && f.Department != v.Department {
				continue
			}
			// The list leaves out history; the full copy says whether
			// it is a resubmission and since when it waits.
			in, err := s.store.FindInspection(ctx, listed.ID)
			if err != nil {
				s.consoleError(c, err)
				return
			}
			_, re := in.InReview()
			if v.Status == "submitted" && re || v.Status == "resubmitted" && !re {
				continue
			}
			v.Rows = append(v.Rows, queueRow{In: in, Facility: f, Resubmitted: re, Since: in.SubmittedAt()})
		}
		if !pg.More {
			break
		}
		q.AfterDate, q.AfterID = pg.LastDate, pg.LastID
	}
	slices.SortFunc(v.Rows, func(a, b queueRow) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.In.ID, b.In.ID))
	})
	s.render(c, http.StatusOK, "queue.html", "queue.title", v)
}

type inspectionView struct {
	In        *checklist.Inspection
	Facility  checklist.Facility
	Content   *checklist.Content
	Sections  []checklist.ReviewSection
	Failed    []checklist.ReviewItem
	Photos    map[string][]checklist.Photo // by item key ("" for the whole inspection)
	Audit     []checklist.AuditEntry
	Waiting   bool
	Resub     bool
	Conflict  string // why the last action did nothing, when it conflicted
	Problem   string // why the last action was refused
	Done      string // the action just done
	Inspector string
	Reviewer  string
}

// loadInspection reads inspection id with everything its pages show.
func (s *Server) loadInspection(c *gin.Context, id string) (*inspectionView, error) {
	ctx := c.Request.Context()
	in, err := s.store.FindInspection(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := in.CheckAccess(actorOf(c)); err != nil {
		return nil, err
	}
	content, err := s.store.ChecklistContent(ctx, in.ChecklistID, in.Version)
	if err != nil {
		return nil, err
	}
	f, err := s.store.FindFacility(ctx, in.FacilityID)
	if err != nil && !errors.Is(err, checklist.ENotFound) {
		return nil, err
	}
	v := &inspectionView{In: in, Facility: f, Content: content, Sections: checklist.ReviewSections(in, content),
		Failed: checklist.FailedItems(in, content), Photos: map[string][]checklist.Photo{}}
	v.Waiting, v.Resub = in.InReview()
	for _, p := range in.Photos {
		v.Photos[p.ItemKey] = append(v.Photos[p.ItemKey], p)
	}
	for _, t := range in.History {
		switch {
		case t.To == checklist.StatusSubmitted:
			v.Inspector = t.ByName
		case t.To == checklist.StatusApproved || t.To == checklist.StatusReturned:
			v.Reviewer = t.ByName
		}
	}
	v.Audit, _, err = s.store.ListAudit(ctx, checklist.AuditQuery{Entity: checklist.EntityInspection, EntityID: id, Limit: 100})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// consoleInspection shows one inspection for review.
func (s *Server) consoleInspection(c *gin.Context) {
	v, err := s.loadInspection(c, strings.ToLower(c.Param("id")))
	if err != nil {
		s.consoleError(c, err)
		return
	}
	v.Done = doneOf(c, checklist.ActionReturn, checklist.ActionApprove, checklist.ActionReopen)
	s.render(c, http.StatusOK, "inspection.html", "inspection.title", v)
}

// consolePrint is the inspection as the A4 document a bureau files.
func (s *Server) consolePrint(c *gin.Context) {
	v, err := s.loadInspection(c, strings.ToLower(c.Param("id")))
	if err != nil {
		s.consoleError(c, err)
		return
	}
	s.render(c, http.StatusOK, "print.html", "print.title", v)
}

// consoleTransition runs a review action (return, approve, reopen) from
// the inspection page's forms through the same domain function as the
// API. The form names the revision it was shown at: if someone acted
// first, nothing is done and the page says so with the current state.
func (s *Server) consoleTransition(c *gin.Context) {
	id, action := strings.ToLower(c.Param("id")), c.Param("action")
	if action != checklist.ActionReturn && action != checklist.ActionApprove && action != checklist.ActionReopen {
		s.consoleError(c, checklist.Errorf(checklist.ENotFound, "no such action %s", action))
		return
	}
	rev, err := strconv.ParseInt(c.PostForm("revision"), 10, 64)
	if err != nil {
		s.consoleError(c, checklist.Errorf(checklist.EBadRequest, "the form names no revision"))
		return
	}
	req := transitionRequest{Revision: &rev}
	switch action {
	case checklist.ActionReturn:
		req.Comment = strings.TrimSpace(c.PostForm("comment"))
		for key, vals := range c.Request.PostForm {
			if k, ok := strings.CutPrefix(key, "item."); ok && len(vals) > 0 && strings.TrimSpace(vals[0]) != "" {
				if req.ItemComments == nil {
					req.ItemComments = map[string]string{}
				}
				req.ItemComments[k] = strings.TrimSpace(vals[0])
			}
		}
	case checklist.ActionReopen:
		req.Reason = strings.TrimSpace(c.PostForm("reason"))
	}
	by := actorOf(c)
	_, err = s.store.UpdateInspection(c.Request.Context(), id, by, checklist.Idempotency{}, checklist.Guard(by, checklist.Precondition{},
		func(in *checklist.Inspection, content *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return applyTransition(action, req, in, content, by, now)
		}))
	switch code := checklist.ErrorCode(err); code {
	case "":
		c.Redirect(http.StatusSeeOther, "/console/inspections/"+id+"?done="+action)
		return
	case checklist.ERevision, checklist.EConflict, checklist.EPrecondition, checklist.EInvalid, checklist.EForbidden:
		v, lerr := s.loadInspection(c, id)
		if lerr != nil {
			s.consoleError(c, lerr)
			return
		}
		if code == checklist.ERevision || code == checklist.EConflict || code == checklist.EPrecondition {
			v.Conflict = problemText(err)
		} else {
			v.Problem = problemText(err)
		}
		s.render(c, statusOf[code], "inspection.html", "inspection.title", v)
	default:
		s.consoleError(c, err)
	}
}
