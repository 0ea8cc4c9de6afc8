package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// InspectionStore is what the inspection, photo, sync and audit handlers
// need from the database.
type InspectionStore interface {
	CreateInspection(ctx context.Context, in *checklist.Inspection, by checklist.Actor, req checklist.Idempotency) (*checklist.Inspection, bool, error)
	FindInspection(ctx context.Context, id string) (*checklist.Inspection, error)
	UpdateInspection(ctx context.Context, id string, by checklist.Actor, req checklist.Idempotency, change checklist.InspectionUpdate) (*checklist.Inspection, bool, error)
	ListInspections(ctx context.Context, q checklist.InspectionQuery) (checklist.InspectionPage, error)
	ChangedInspections(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) ([]*checklist.Inspection, bool, error)
	ChangedFacilities(ctx context.Context, within []string, since time.Time) ([]checklist.Facility, error)
	PhotoFacilities(ctx context.Context, sha string) ([]string, error)
	ChecklistVersion(ctx context.Context, id string, number int) (checklist.Version, error)
	ChecklistContent(ctx context.Context, id string, number int) (*checklist.Content, error)
	FindFacility(ctx context.Context, id string) (checklist.Facility, error)
	ListAudit(ctx context.Context, q checklist.AuditQuery) ([]checklist.AuditEntry, bool, error)
}

// inspectionRoutes registers the inspection API on authed, the group of
// routes that require an access token.
func (s *Server) inspectionRoutes(authed *gin.RouterGroup) {
	authed.GET("/inspections", s.listInspections)
	authed.PUT("/inspections/:id", s.createInspection)
	authed.GET("/inspections/:id", s.getInspection)
	authed.PATCH("/inspections/:id", s.saveAnswers)
	authed.POST("/inspections/:id/submit", s.transitionHandler(checklist.ActionSubmit))
	authed.POST("/inspections/:id/resubmit", s.transitionHandler(checklist.ActionResubmit))
	authed.POST("/inspections/:id/return", s.transitionHandler(checklist.ActionReturn))
	authed.POST("/inspections/:id/approve", s.transitionHandler(checklist.ActionApprove))
	authed.POST("/inspections/:id/reopen", s.transitionHandler(checklist.ActionReopen))
	authed.POST("/inspections/:id/discard", s.transitionHandler(checklist.ActionDiscard))
	authed.POST("/inspections/:id/photos", s.uploadPhoto)
	authed.GET("/photos/:sha256", s.downloadPhoto)
	authed.GET("/sync", s.sync)
	authed.GET("/audit", requireRole(checklist.RoleAdmin), s.listAudit)
}

// actorOf is the caller as the domain sees them.
func actorOf(c *gin.Context) checklist.Actor {
	p := principalOf(c)
	return checklist.Actor{UserID: p.UserID, Name: p.Username, Role: p.Role}
}

// notVisible is the answer for an inspection the caller may not see: the
// same as for one that does not exist, so ids of other facilities'
// inspections cannot be probed.
func notVisible(id string) error {
	return checklist.Errorf(checklist.ENotFound, "no inspection %s", id)
}

// failInspection answers err; a conflict's current copy is rendered as
// the inspection itself, or left out when the caller may not see it.
func (s *Server) failInspection(c *gin.Context, err error) {
	var e *checklist.Error
	if errors.As(err, &e) {
		if in, ok := e.Current.(*checklist.Inspection); ok {
			if principalOf(c).CanAccessFacility(in.FacilityID) {
				content, _ := s.store.ChecklistContent(c.Request.Context(), in.ChecklistID, in.Version)
				e.Current = newInspectionJSON(in, content)
			} else {
				e.Current = nil
			}
		}
	}
	respondError(c, err)
}

// respondInspection writes the inspection with its revision as ETag.
func (s *Server) respondInspection(c *gin.Context, status int, in *checklist.Inspection, replayed bool) {
	if prefersMinimal(c) {
		respondMinimal(c, status, in, replayed)
		return
	}
	content, err := s.store.ChecklistContent(c.Request.Context(), in.ChecklistID, in.Version)
	if err != nil {
		s.failInspection(c, err)
		return
	}
	c.Header("ETag", revisionETag(in.Revision))
	c.Header("Cache-Control", "private, no-cache")
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	respondJSON(c, status, newInspectionJSON(in, content))
}

// revisionETag is the entity tag of an inspection at revision: it changes
// with every write.
func revisionETag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// idempotency reads the client's idempotency key (the Idempotency-Key
// header, or saveID from the body) and fingerprints the request. Keys
// are scoped to the caller, so nobody can replay another user's write.
func idempotency(c *gin.Context, body []byte, saveID string) (checklist.Idempotency, error) {
	key := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if saveID != "" {
		if key != "" && key != saveID {
			return checklist.Idempotency{}, checklist.Errorf(checklist.EBadRequest, "the Idempotency-Key header and save_id differ")
		}
		key = saveID
	}
	if key == "" {
		return checklist.Idempotency{}, nil
	}
	if len(key) > checklist.MaxIdempotencyKeyLen {
		return checklist.Idempotency{}, &checklist.Error{Code: checklist.EBadRequest, Message: "the idempotency key is too long",
			Fields: []checklist.FieldError{{Field: "Idempotency-Key", Code: checklist.CodeTooLong,
				Message: "at most " + strconv.Itoa(checklist.MaxIdempotencyKeyLen) + " characters"}}}
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return checklist.Idempotency{}, &checklist.Error{Code: checklist.EBadRequest, Message: "the idempotency key must be printable ASCII",
				Fields: []checklist.FieldError{{Field: "Idempotency-Key", Code: checklist.CodeBadText, Message: "printable ASCII only"}}}
		}
	}
	h := sha256.New()
	h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
	h.Write(body)
	return checklist.Idempotency{Key: principalOf(c).UserID + "/" + key, Fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

// readJSONBody reads and strictly decodes a JSON body into v, returning
// the raw bytes for the fingerprint. An empty body decodes as {} when
// optional.
func readJSONBody(c *gin.Context, v any, optional bool) ([]byte, error) {
	if optional && c.Request.ContentLength == 0 && c.GetHeader("Content-Type") == "" {
		return nil, nil
	}
	var raw json.RawMessage
	if err := decodeJSON(c, &raw); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, jsonProblem(err)
	}
	return raw, nil
}

// checkIfMatch refuses a write when the client sent If-Match with an
// entity tag other than the inspection's current revision.
func checkIfMatch(c *gin.Context, in *checklist.Inspection) error {
	im := strings.TrimSpace(c.GetHeader("If-Match"))
	if im == "" || im == "*" {
		return nil
	}
	for _, tag := range strings.Split(im, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == revisionETag(in.Revision) {
			return nil
		}
	}
	return checklist.Errorf(checklist.EPrecondition, "If-Match %s does not match the inspection's revision %d", im, in.Revision)
}

// createRequest is the body of PUT /v1/inspections/{id}.
type createRequest struct {
	FacilityID     string `json:"facility_id"`
	ChecklistID    string `json:"checklist_id"`
	Version        int    `json:"version"`
	InspectionDate string `json:"inspection_date"`
}

// createInspection creates the inspection with the client's id, or, when
// it already exists with the same facility, version and date, returns it:
// a tablet may retry a create any number of times.
func (s *Server) createInspection(c *gin.Context) {
	ctx := c.Request.Context()
	id := strings.ToLower(c.Param("id"))
	var req createRequest
	if _, err := readJSONBody(c, &req, false); err != nil {
		respondError(c, err)
		return
	}
	p := principalOf(c)
	date, dateErr := checklist.ParseDate(req.InspectionDate)
	in, err := checklist.NewInspection(id, req.FacilityID, req.ChecklistID, req.Version, date, actorOf(c), s.cfg.Now())
	if dateErr != nil && req.InspectionDate != "" {
		err = mergeFieldError(err, "inspection_date", "format", dateErr.Error())
	}
	if err != nil {
		respondError(c, err)
		return
	}
	if !p.CanAccessFacility(req.FacilityID) {
		respondError(c, checklist.Errorf(checklist.EForbidden, "you are not assigned to facility %s", req.FacilityID))
		return
	}
	// A retry is answered with what exists, even if the version has been
	// retired since the first attempt.
	existing, err := s.store.FindInspection(ctx, in.ID)
	switch {
	case err == nil && existing.SameCreation(in):
		s.respondInspection(c, http.StatusOK, existing, true)
		return
	case err == nil:
		s.failInspection(c, &checklist.Error{Code: checklist.EConflict,
			Message: "an inspection with this id already exists with a different facility, checklist version or date",
			Current: existing})
		return
	case checklist.ErrorCode(err) != checklist.ENotFound:
		respondError(c, err)
		return
	}
	if err := s.checkCreatable(ctx, req); err != nil {
		respondError(c, err)
		return
	}
	got, created, err := s.store.CreateInspection(ctx, in, actorOf(c), checklist.Idempotency{})
	if err != nil {
		s.failInspection(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/inspections/"+got.ID)
	}
	s.respondInspection(c, status, got, !created)
}

// checkCreatable checks that the facility exists and is active and that
// the version is published and not retired.
func (s *Server) checkCreatable(ctx context.Context, req createRequest) error {
	var p checklist.Problems
	f, err := s.store.FindFacility(ctx, req.FacilityID)
	switch code := checklist.ErrorCode(err); {
	case code == checklist.ENotFound:
		p.Add("facility_id", "unknown_facility", "there is no facility %s", req.FacilityID)
	case err != nil:
		return err
	case !f.Active:
		p.Add("facility_id", "inactive_facility", "facility %s is inactive", f.Code)
	}
	v, err := s.store.ChecklistVersion(ctx, req.ChecklistID, req.Version)
	switch code := checklist.ErrorCode(err); {
	case code == checklist.ENotFound:
		p.Add("version", "unknown_version", "checklist %s has no published version %d", req.ChecklistID, req.Version)
	case err != nil:
		return err
	case v.Retired:
		p.Add("version", "retired_version", "version %d of checklist %s is retired; use the current version", req.Version, req.ChecklistID)
	}
	return p.Err("the inspection cannot be created")
}

// mergeFieldError adds one field problem to err (an EInvalid error or nil).
func mergeFieldError(err error, field, code, msg string) error {
	var e *checklist.Error
	if errors.As(err, &e) && e.Code == checklist.EInvalid {
		for i, f := range e.Fields {
			if f.Field == field {
				e.Fields[i] = checklist.FieldError{Field: field, Code: code, Message: msg}
				return e
			}
		}
		e.Fields = append(e.Fields, checklist.FieldError{Field: field, Code: code, Message: msg})
		return e
	}
	return &checklist.Error{Code: checklist.EInvalid, Message: "the inspection cannot be created",
		Fields: []checklist.FieldError{{Field: field, Code: code, Message: msg}}}
}

// getInspection returns one inspection with its score and findings; 304
// when If-None-Match names its current revision.
func (s *Server) getInspection(c *gin.Context) {
	id := strings.ToLower(c.Param("id"))
	in, err := s.store.FindInspection(c.Request.Context(), id)
	if err != nil {
		s.failInspection(c, err)
		return
	}
	if !principalOf(c).CanAccessFacility(in.FacilityID) {
		respondError(c, notVisible(id))
		return
	}
	etag := revisionETag(in.Revision)
	for _, tag := range strings.Split(c.GetHeader("If-None-Match"), ",") {
		if t := strings.TrimPrefix(strings.TrimSpace(tag), "W/"); t == etag || t == "*" {
			c.Header("ETag", etag)
			c.Header("Cache-Control", "private, no-cache")
			c.Status(http.StatusNotModified)
			return
		}
	}
	s.respondInspection(c, http.StatusOK, in, false)
}

// saveRequest is the body of PATCH /v1/inspections/{id}: the revision
// the tablet edited and the items it changed (null clears an item).
type saveRequest struct {
	BaseRevision *int64                     `json:"base_revision"`
	Answers      map[string]json.RawMessage `json:"answers"`
	SaveID       string                     `json:"save_id"`
}

// decodeAnswers decodes each answer on its own so that an error names
// its item.
func decodeAnswers(raw map[string]json.RawMessage) (map[string]*checklist.Answer, error) {
	out := make(map[string]*checklist.Answer, len(raw))
	var p checklist.Problems
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		b := bytes.TrimSpace(raw[k])
		if string(b) == "null" {
			out[k] = nil
			continue
		}
		var a checklist.Answer
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			msg := "the answer must be an object with value, comment and photos"
			var e *checklist.Error
			if errors.As(jsonProblem(err), &e) && len(e.Fields) > 0 {
				msg = e.Fields[0].Message
			} else if strings.Contains(err.Error(), "answer value") {
				msg = "value must be null, a boolean, a string, a number or an array of strings"
			}
			p.Add("answers["+k+"]", "type", "%s", msg)
			continue
		}
		out[k] = &a
	}
	if len(p) > 0 {
		return nil, &checklist.Error{Code: checklist.EBadRequest, Message: "some answers are malformed; nothing was saved", Fields: p}
	}
	return out, nil
}

// saveAnswers merges a tablet's changes into the inspection under the
// offline rule (see checklist.Inspection.ApplySave): different items from
// different devices merge, a stale change to the same item is 409 with
// the current copy, and a retry (same Idempotency-Key) applies nothing
// twice.
func (s *Server) saveAnswers(c *gin.Context) {
	id := strings.ToLower(c.Param("id"))
	var req saveRequest
	body, err := readJSONBody(c, &req, false)
	if err != nil {
		respondError(c, err)
		return
	}
	if req.BaseRevision == nil {
		respondError(c, &checklist.Error{Code: checklist.EInvalid, Message: "the save names no base revision",
			Fields: []checklist.FieldError{{Field: "base_revision", Code: checklist.CodeRequired,
				Message: "base_revision, the revision the changes were made on, is required"}}})
		return
	}
	answers, err := decodeAnswers(req.Answers)
	if err != nil {
		respondError(c, err)
		return
	}
	idem, err := idempotency(c, body, req.SaveID)
	if err != nil {
		respondError(c, err)
		return
	}
	save := checklist.Save{BaseRevision: *req.BaseRevision, Answers: answers}
	s.update(c, id, idem, func(in *checklist.Inspection, content *checklist.Content, by checklist.Actor, now time.Time) (checklist.InspectionChange, error) {
		return in.ApplySave(content, save, by, now)
	})
}

// change is a domain function with the inspection's pinned content.
type change func(in *checklist.Inspection, content *checklist.Content, by checklist.Actor, now time.Time) (checklist.InspectionChange, error)

// update runs fn on inspection id through the store's revision-guarded
// read-modify-write, after checking the caller may see the inspection
// and any If-Match, and answers with the result.
func (s *Server) update(c *gin.Context, id string, idem checklist.Idempotency, fn change) {
	ctx := c.Request.Context()
	p := principalOf(c)
	by := actorOf(c)
	in, replayed, err := s.store.UpdateInspection(ctx, id, by, idem, func(in *checklist.Inspection, now time.Time) (checklist.InspectionChange, error) {
		if !p.CanAccessFacility(in.FacilityID) {
			return checklist.InspectionChange{}, notVisible(id)
		}
		if err := checkIfMatch(c, in); err != nil {
			return checklist.InspectionChange{}, err
		}
		content, err := s.store.ChecklistContent(ctx, in.ChecklistID, in.Version)
		if err != nil {
			return checklist.InspectionChange{}, err
		}
		return fn(in, content, by, now)
	})
	if err != nil {
		if checklist.ErrorCode(err) == checklist.EPrecondition {
			err = withCurrent(err, ctx, s, id)
		}
		s.failInspection(c, err)
		return
	}
	s.respondInspection(c, http.StatusOK, in, replayed)
}

// withCurrent attaches the current inspection to a precondition failure.
func withCurrent(err error, ctx context.Context, s *Server, id string) error {
	var e *checklist.Error
	if errors.As(err, &e) && e.Current == nil {
		if in, ferr := s.store.FindInspection(ctx, id); ferr == nil {
			e.Current = in
		}
	}
	return err
}

// transitionRequest is the body of the lifecycle actions; every field is
// optional except where the action needs it (a return's comment, a
// reopen's reason).
type transitionRequest struct {
	Revision     *int64            `json:"revision"`
	Comment      string            `json:"comment"`
	ItemComments map[string]string `json:"item_comments"`
	Reason       string            `json:"reason"`
}

// transitionHandler serves one lifecycle action. A revision in the body
// (or If-Match) makes the action conditional: it is refused with 409 and
// the current copy if the inspection changed since.
func (s *Server) transitionHandler(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := strings.ToLower(c.Param("id"))
		var req transitionRequest
		body, err := readJSONBody(c, &req, true)
		if err != nil {
			respondError(c, err)
			return
		}
		var p checklist.Problems
		if req.Comment != "" && action != checklist.ActionReturn {
			p.Add("comment", "not_for_action", "only a return takes a comment; use reason")
		}
		if len(req.ItemComments) > 0 && action != checklist.ActionReturn {
			p.Add("item_comments", "not_for_action", "only a return takes item comments")
		}
		if req.Reason != "" && action != checklist.ActionReopen && action != checklist.ActionDiscard {
			p.Add("reason", "not_for_action", "only reopen and discard take a reason")
		}
		if err := p.Err("the request does not fit the action"); err != nil {
			respondError(c, err)
			return
		}
		idem, err := idempotency(c, append([]byte(action+"\n"), body...), "")
		if err != nil {
			respondError(c, err)
			return
		}
		s.update(c, id, idem, func(in *checklist.Inspection, content *checklist.Content, by checklist.Actor, now time.Time) (checklist.InspectionChange, error) {
			return applyTransition(action, req, in, content, by, now)
		})
	}
}

// applyTransition runs lifecycle action on in, refused when req names a
// revision other than in's. The API and the console both act through it.
func applyTransition(action string, req transitionRequest, in *checklist.Inspection, content *checklist.Content, by checklist.Actor, now time.Time) (checklist.InspectionChange, error) {
	if req.Revision != nil && *req.Revision != in.Revision {
		return checklist.InspectionChange{}, checklist.Errorf(checklist.ERevision,
			"the inspection is at revision %d, not %d; nothing was done", in.Revision, *req.Revision)
	}
	switch action {
	case checklist.ActionSubmit:
		return in.Submit(content, by, now)
	case checklist.ActionResubmit:
		return in.Resubmit(content, by, now)
	case checklist.ActionReturn:
		return in.Return(content, req.Comment, req.ItemComments, by, now)
	case checklist.ActionApprove:
		return in.Approve(by, now)
	case checklist.ActionReopen:
		return in.Reopen(req.Reason, by, now)
	case checklist.ActionDiscard:
		return in.Discard(req.Reason, by, now)
	}
	return checklist.InspectionChange{}, checklist.Errorf(checklist.EBadRequest, "unknown action %s", action)
}

// listInspections lists inspections for reviewers (every facility) and
// inspectors (their own facilities), filtered by fiscal year, facility
// and status, newest inspection date first, paged by an opaque cursor.
func (s *Server) listInspections(c *gin.Context) {
	p := principalOf(c)
	q := checklist.InspectionQuery{}
	var probs checklist.Problems
	if v := c.Query("fiscal_year"); v != "" {
		fy, err := strconv.Atoi(v)
		if err != nil || fy < 2000 || fy > 2200 {
			probs.Add("fiscal_year", "range", "fiscal_year must be a year such as 2026")
		}
		q.FiscalYear = fy
	}
	if v := c.Query("status"); v != "" {
		if !checklist.Status(v).Valid() {
			probs.Add("status", "enum", "status must be draft, submitted, returned, approved or discarded")
		}
		q.Status = checklist.Status(v)
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			probs.Add("limit", "range", "limit must be an integer from 1 to 200")
		}
		q.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		parts, ok := decodeCursor("inspections", v, 2)
		if !ok {
			probs.Add("cursor", "invalid", "cursor is not one this list returned")
		} else {
			q.AfterDate, q.AfterID = parts[0], parts[1]
		}
	}
	if len(probs) > 0 {
		respondError(c, &checklist.Error{Code: checklist.EBadRequest, Message: "the query is not valid", Fields: probs})
		return
	}
	if p.Role == checklist.RoleInspector {
		q.FacilityIDs = append([]string{}, p.Facilities...)
	}
	if f := c.Query("facility_id"); f != "" {
		if !p.CanAccessFacility(f) {
			q.FacilityIDs = []string{} // nothing: the facility is not theirs
		} else {
			q.FacilityIDs = []string{f}
		}
	}
	page, err := s.store.ListInspections(c.Request.Context(), q)
	if err != nil {
		respondError(c, err)
		return
	}
	out := struct {
		Items      []inspectionSummaryJSON `json:"items"`
		NextCursor *string                 `json:"next_cursor"`
	}{Items: make([]inspectionSummaryJSON, 0, len(page.Inspections))}
	for _, in := range page.Inspections {
		out.Items = append(out.Items, newInspectionSummaryJSON(in))
	}
	if page.More {
		cur := encodeCursor("inspections", page.LastDate, page.LastID)
		out.NextCursor = &cur
	}
	c.Header("Cache-Control", "private, no-cache")
	respondJSON(c, http.StatusOK, out)
}

// Cursors are opaque to clients: a list name and a position, base64url.
func encodeCursor(list string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + "|" + strings.Join(parts, "|")))
}

func decodeCursor(list, s string, n int) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != n+1 || parts[0] != list {
		return nil, false
	}
	return parts[1:], true
}
