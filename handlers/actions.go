package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// ActionStore is what the improvement-action handlers need.
type ActionStore interface {
	CreateAction(ctx context.Context, a checklist.Action, by checklist.Actor) (checklist.Action, error)
	FindAction(ctx context.Context, id string) (checklist.Action, error)
	UpdateAction(ctx context.Context, id string, revision int64, by checklist.Actor, change func(*checklist.Action) error) (checklist.Action, error)
	ListActions(ctx context.Context, q checklist.ActionQuery) ([]checklist.Action, error)
}

type progressJSON struct {
	Date string    `json:"date"`
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

func newProgressJSON(r *checklist.ProgressReport) *progressJSON {
	if r == nil {
		return nil
	}
	return &progressJSON{Date: r.Date.String(), Text: r.Text, By: r.By, At: r.At}
}

type goodPracticeJSON struct {
	Note string    `json:"note"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

type actionJSON struct {
	ID                   string            `json:"id"`
	FacilityID           string            `json:"facility_id"`
	ItemKey              string            `json:"item_key"`
	Title                string            `json:"title"`
	Owner                string            `json:"owner"`
	TargetFiscalYear     int               `json:"target_fiscal_year"`
	TargetFiscalYearName string            `json:"target_fiscal_year_label"`
	DueDate              *string           `json:"due_date"`
	Status               string            `json:"status"`
	SourceInspectionID   string            `json:"source_inspection_id,omitempty"`
	Interim              *progressJSON     `json:"interim_report"`
	Final                *progressJSON     `json:"final_report"`
	Flagged              bool              `json:"flagged"`
	FlaggedInspectionID  string            `json:"flagged_inspection_id,omitempty"`
	VerifiedInspectionID string            `json:"verified_inspection_id,omitempty"`
	GoodPractice         *goodPracticeJSON `json:"good_practice"`
	Revision             int64             `json:"revision"`
	CreatedAt            time.Time         `json:"created_at"`
	CreatedBy            string            `json:"created_by"`
	UpdatedAt            time.Time         `json:"updated_at"`
	UpdatedBy            string            `json:"updated_by"`
}

func newActionJSON(a checklist.Action) actionJSON {
	j := actionJSON{ID: a.ID, FacilityID: a.FacilityID, ItemKey: a.ItemKey, Title: a.Title, Owner: a.Owner,
		TargetFiscalYear: a.TargetFiscalYear, TargetFiscalYearName: checklist.FiscalYearLabel(a.TargetFiscalYear),
		Status: string(a.Status), SourceInspectionID: a.SourceInspectionID,
		Interim: newProgressJSON(a.Interim), Final: newProgressJSON(a.Final),
		Flagged: a.Flagged, FlaggedInspectionID: a.FlaggedInspectionID, VerifiedInspectionID: a.VerifiedInspectionID,
		Revision: a.Revision, CreatedAt: a.CreatedAt, CreatedBy: a.CreatedBy, UpdatedAt: a.UpdatedAt, UpdatedBy: a.UpdatedBy}
	if !a.Due.IsZero() {
		d := a.Due.String()
		j.DueDate = &d
	}
	if a.GoodPractice {
		j.GoodPractice = &goodPracticeJSON{Note: a.GoodPracticeNote, By: a.GoodPracticeBy, At: a.GoodPracticeAt}
	}
	return j
}

// respondAction writes the action with its revision as ETag.
func respondAction(c *gin.Context, status int, a checklist.Action) {
	c.Header("ETag", revisionETag(a.Revision))
	c.Header("Cache-Control", "private, no-cache")
	respondJSON(c, status, newActionJSON(a))
}

// failAction answers err, rendering a conflict's current copy.
func failAction(c *gin.Context, err error) {
	var e *checklist.Error
	if errors.As(err, &e) {
		if a, ok := e.Current.(checklist.Action); ok {
			e.Current = newActionJSON(a)
		}
	}
	respondError(c, err)
}

func parseOptionalDateField(p *checklist.Problems, field, s string) checklist.Date {
	if s == "" {
		return checklist.Date{}
	}
	d, err := checklist.ParseDate(s)
	if err != nil {
		p.Add(field, "format", "%s must be a date such as 2027-03-31", field)
	}
	return d
}

type createActionRequest struct {
	Title              string `json:"title"`
	FacilityID         string `json:"facility_id"`
	ItemKey            string `json:"item_key"`
	Owner              string `json:"owner"`
	TargetFiscalYear   int    `json:"target_fiscal_year"`
	DueDate            string `json:"due_date"`
	SourceInspectionID string `json:"source_inspection_id"`
}

func (s *Server) createAction(c *gin.Context) {
	var req createActionRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	a, err := s.newAction(c.Request.Context(), req, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	c.Header("Location", "/v1/actions/"+a.ID)
	respondAction(c, http.StatusCreated, a)
}

// newAction checks and stores the action req describes; the API and the
// console create actions through it.
func (s *Server) newAction(ctx context.Context, req createActionRequest, by checklist.Actor) (checklist.Action, error) {
	var p checklist.Problems
	due := parseOptionalDateField(&p, "due_date", req.DueDate)
	if err := p.Err("the action is not valid"); err != nil {
		return checklist.Action{}, err
	}
	if req.SourceInspectionID != "" {
		// An action made from a finding names the inspection: the item
		// must have failed there, at that facility.
		in, err := s.store.FindInspection(ctx, req.SourceInspectionID)
		if errors.Is(err, checklist.ENotFound) {
			err = checklist.Errorf(checklist.EInvalid, "source_inspection_id names no inspection")
		}
		if err != nil {
			return checklist.Action{}, err
		}
		if in.FacilityID != req.FacilityID || !in.Answers[req.ItemKey].Outcome.Failed {
			return checklist.Action{}, &checklist.Error{Code: checklist.EInvalid, Message: "the action is not valid",
				Fields: checklist.Problems{{Field: "item_key", Code: "not_a_finding",
					Message: "item " + req.ItemKey + " did not fail in inspection " + in.ID + " of this facility"}}}
		}
	}
	a, err := checklist.NewAction(checklist.Action{Title: req.Title, FacilityID: req.FacilityID, ItemKey: req.ItemKey,
		Owner: req.Owner, TargetFiscalYear: req.TargetFiscalYear, Due: due, SourceInspectionID: req.SourceInspectionID},
		by, s.now())
	if err != nil {
		return checklist.Action{}, err
	}
	return s.store.CreateAction(ctx, a, by)
}

// visibleAction reads action id, or ENotFound when the caller may not
// see it (inspectors see their facilities' actions only).
func (s *Server) visibleAction(c *gin.Context) (checklist.Action, bool) {
	id := c.Param("id")
	a, err := s.store.FindAction(c.Request.Context(), id)
	if err == nil && !principalOf(c).CanAccessFacility(a.FacilityID) {
		err = checklist.Errorf(checklist.ENotFound, "no improvement action %s", id)
	}
	if err != nil {
		respondError(c, err)
		return checklist.Action{}, false
	}
	return a, true
}

func (s *Server) getAction(c *gin.Context) {
	a, ok := s.visibleAction(c)
	if !ok {
		return
	}
	c.Header("ETag", revisionETag(a.Revision))
	if notModified(c, revisionETag(a.Revision)) {
		return
	}
	respondAction(c, http.StatusOK, a)
}

func (s *Server) listActions(c *gin.Context) {
	p := principalOf(c)
	q := checklist.ActionQuery{ItemKey: c.Query("item_key")}
	var probs checklist.Problems
	q.TargetFiscalYear = optionalFiscalYearParam(c, "target_fiscal_year", &probs)
	if v := c.Query("status"); v != "" {
		if !checklist.ActionStatus(v).Valid() {
			probs.Add("status", "enum", "status must be planned, in_progress, done, verified or dropped")
		}
		q.Status = checklist.ActionStatus(v)
	}
	after, limit, err := pageParams(c, "actions")
	if err != nil {
		respondError(c, err)
		return
	}
	q.After, q.Limit = after, limit
	if refuseQuery(c, probs) {
		return
	}
	if p.Role == checklist.RoleInspector {
		q.FacilityIDs = append([]string{}, p.Facilities...)
	}
	if f := c.Query("facility_id"); f != "" {
		if p.CanAccessFacility(f) {
			q.FacilityIDs = []string{f}
		} else {
			q.FacilityIDs = []string{}
		}
	}
	s.respondActions(c, q)
}

func (s *Server) respondActions(c *gin.Context, q checklist.ActionQuery) {
	as, next, err := s.actionPage(c.Request.Context(), q)
	if err != nil {
		respondError(c, err)
		return
	}
	out := listJSON[actionJSON]{Items: make([]actionJSON, 0, len(as)), NextCursor: nextCursor("actions", next)}
	for _, a := range as {
		out.Items = append(out.Items, newActionJSON(a))
	}
	c.Header("Cache-Control", "private, no-cache")
	respondJSON(c, http.StatusOK, out)
}

// actionPage lists one page of q (q.Limit > 0) and the id to continue
// after, empty on the last page.
func (s *Server) actionPage(ctx context.Context, q checklist.ActionQuery) ([]checklist.Action, string, error) {
	limit := q.Limit
	q.Limit++ // one more tells whether a next page exists
	as, err := s.store.ListActions(ctx, q)
	if err != nil || len(as) <= limit {
		return as, "", err
	}
	return as[:limit], as[limit-1].ID, nil
}

// goodPracticeViewJSON is the good-practice view: what another facility
// may learn from an action, and no more — not its owner, reports, people
// or inspection ids, which stay with the facility and the bureau.
type goodPracticeViewJSON struct {
	ID          string                  `json:"id"`
	Title       string                  `json:"title"`
	Description string                  `json:"description"`
	ItemKey     string                  `json:"item_key"`
	Facility    facilityNameJSON        `json:"facility_name"`
	Photos      []goodPracticePhotoJSON `json:"photos"`
}

type goodPracticePhotoJSON struct {
	SHA256 string `json:"sha256"`
	URL    string `json:"url"`
}

// goodPracticePhotos returns the photos the action's source inspection
// recorded for its item: what a good practice shows other facilities,
// and the only photos of another facility they may download.
func (s *Server) goodPracticePhotos(ctx context.Context, a checklist.Action) ([]string, error) {
	if a.SourceInspectionID == "" {
		return nil, nil
	}
	in, err := s.store.FindInspection(ctx, a.SourceInspectionID)
	if errors.Is(err, checklist.ENotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var shas []string
	for _, p := range in.Photos {
		if p.ItemKey == a.ItemKey {
			shas = append(shas, p.SHA256)
		}
	}
	return shas, nil
}

// inGoodPractice reports whether photo sha, recorded at facilities, is a
// photo of a good practice of one of them.
func (s *Server) inGoodPractice(ctx context.Context, sha string, facilities []string) (bool, error) {
	if len(facilities) == 0 {
		return false, nil
	}
	as, err := s.store.ListActions(ctx, checklist.ActionQuery{GoodPractice: true, FacilityIDs: facilities})
	if err != nil {
		return false, err
	}
	for _, a := range as {
		shas, err := s.goodPracticePhotos(ctx, a)
		if err != nil {
			return false, err
		}
		if slices.Contains(shas, sha) {
			return true, nil
		}
	}
	return false, nil
}

// listGoodPractices lists the actions reviewers marked as good practices,
// across every facility, in the good-practice view: every signed-in user
// may learn from them.
func (s *Server) listGoodPractices(c *gin.Context) {
	after, limit, err := pageParams(c, "good-practices")
	if err != nil {
		respondError(c, err)
		return
	}
	ctx := c.Request.Context()
	as, next, err := s.actionPage(ctx, checklist.ActionQuery{GoodPractice: true, After: after, Limit: limit})
	if err != nil {
		respondError(c, err)
		return
	}
	names := map[string]facilityNameJSON{}
	out := listJSON[goodPracticeViewJSON]{Items: make([]goodPracticeViewJSON, 0, len(as)), NextCursor: nextCursor("good-practices", next)}
	for _, a := range as {
		name, ok := names[a.FacilityID]
		if !ok {
			f, err := s.store.FindFacility(ctx, a.FacilityID)
			if err != nil && !errors.Is(err, checklist.ENotFound) {
				respondError(c, err)
				return
			}
			name = facilityNameJSON{JA: f.Name.JA, EN: f.Name.EN}
			names[a.FacilityID] = name
		}
		shas, err := s.goodPracticePhotos(ctx, a)
		if err != nil {
			respondError(c, err)
			return
		}
		photos := make([]goodPracticePhotoJSON, len(shas))
		for i, sha := range shas {
			photos[i] = goodPracticePhotoJSON{SHA256: sha, URL: photoURL(sha)}
		}
		out.Items = append(out.Items, goodPracticeViewJSON{ID: a.ID, Title: a.Title, Description: a.GoodPracticeNote,
			ItemKey: a.ItemKey, Facility: name, Photos: photos})
	}
	c.Header("Cache-Control", "private, no-cache")
	respondJSON(c, http.StatusOK, out)
}

type updateActionRequest struct {
	Revision         int64   `json:"revision"`
	Title            *string `json:"title"`
	Owner            *string `json:"owner"`
	TargetFiscalYear *int    `json:"target_fiscal_year"`
	DueDate          *string `json:"due_date"`
	Status           *string `json:"status"`
}

// writeAction runs change on the visible action at the revision the
// client sent.
func (s *Server) writeAction(c *gin.Context, revision int64, change func(*checklist.Action) error) {
	a, ok := s.visibleAction(c)
	if !ok {
		return
	}
	if revision < 1 {
		respondError(c, &checklist.Error{Code: checklist.EBadRequest, Message: "revision is required: the revision of the action you changed",
			Fields: checklist.Problems{{Field: "revision", Code: checklist.CodeRequired, Message: "revision is required"}}})
		return
	}
	a, err := s.store.UpdateAction(c.Request.Context(), a.ID, revision, actorOf(c), change)
	if err != nil {
		failAction(c, err)
		return
	}
	respondAction(c, http.StatusOK, a)
}

func (s *Server) updateAction(c *gin.Context) {
	var req updateActionRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	var p checklist.Problems
	ch := checklist.ActionChange{Title: req.Title, Owner: req.Owner, TargetFiscalYear: req.TargetFiscalYear}
	if req.DueDate != nil {
		d := parseOptionalDateField(&p, "due_date", *req.DueDate)
		ch.Due = &d
	}
	if req.Status != nil {
		st := checklist.ActionStatus(*req.Status)
		ch.Status = &st
	}
	if err := p.Err("the change is not valid"); err != nil {
		respondError(c, err)
		return
	}
	by, now := actorOf(c), s.now()
	s.writeAction(c, req.Revision, func(a *checklist.Action) error { return a.Apply(ch, by, now) })
}

type progressRequest struct {
	Revision int64  `json:"revision"`
	Kind     string `json:"kind"`
	Date     string `json:"date"`
	Text     string `json:"text"`
}

func (s *Server) reportProgress(c *gin.Context) {
	var req progressRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	var p checklist.Problems
	date := parseOptionalDateField(&p, "date", req.Date)
	if err := p.Err("the progress report is not valid"); err != nil {
		respondError(c, err)
		return
	}
	by, now := actorOf(c), s.now()
	s.writeAction(c, req.Revision, func(a *checklist.Action) error { return a.Report(req.Kind, date, req.Text, by, now) })
}

type goodPracticeRequest struct {
	Revision     int64  `json:"revision"`
	GoodPractice bool   `json:"good_practice"`
	Note         string `json:"note"`
}

func (s *Server) markGoodPractice(c *gin.Context) {
	var req goodPracticeRequest
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	by, now := actorOf(c), s.now()
	s.writeAction(c, req.Revision, func(a *checklist.Action) error {
		return a.MarkGoodPractice(req.GoodPractice, req.Note, by, now)
	})
}
