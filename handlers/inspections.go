package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	UpdateInspection(ctx context.Context, id string, by checklist.Actor, req checklist.Idempotency, change checklist.InspectionUpdate) (checklist.InspectionWrite, error)
	ListInspections(ctx context.Context, q checklist.InspectionQuery) (checklist.InspectionPage, error)
	ChangedInspections(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) ([]*checklist.Inspection, bool, error)
	ChangedFacilities(ctx context.Context, within []string, since time.Time) ([]checklist.Facility, error)
	PhotoFacilities(ctx context.Context, sha string) ([]string, error)
	ChecklistVersion(ctx context.Context, id string, number int) (checklist.Version, error)
	ChecklistContent(ctx context.Context, id string, number int) (*checklist.Content, error)
	FindFacility(ctx context.Context, id string) (checklist.Facility, error)
	ListAudit(ctx context.Context, q checklist.AuditQuery) ([]checklist.AuditEntry, bool, error)
}

// actorOf is the caller as the domain sees them.
func actorOf(c *gin.Context) checklist.Actor {
	p := principalOf(c)
	return checklist.Actor{UserID: p.UserID, Name: p.Username, Role: p.Role, Facilities: p.Facilities}
}

// failInspection answers err; a conflict's current copy is rendered as
// the inspection itself, or left out when the caller may not see it.
func (s *Server) failInspection(c *gin.Context, err error) {
	var e *checklist.Error
	if errors.As(err, &e) {
		if in, ok := e.Current.(*checklist.Inspection); ok {
			if in.CheckAccess(actorOf(c)) == nil {
				content, _ := s.store.ChecklistContent(c.Request.Context(), in.ChecklistID, in.Version)
				e.Current = newInspectionJSON(in, content)
			} else {
				e.Current = nil
			}
		}
	}
	respondError(c, err)
}

// respondInspection writes the inspection, rendered with content (the
// checklist version it is pinned to), with its revision as ETag.
func respondInspection(c *gin.Context, status int, in *checklist.Inspection, content *checklist.Content, replayed bool) {
	if prefersMinimal(c) {
		respondMinimal(c, status, in, replayed)
		return
	}
	c.Header("ETag", revisionETag(in.Revision))
	c.Header("Cache-Control", "private, no-cache")
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	respondJSON(c, status, newInspectionJSON(in, content))
}

// respondStored writes an inspection the handler read, looking up the
// content it is pinned to (immutable, so a memory read once read).
func (s *Server) respondStored(c *gin.Context, status int, in *checklist.Inspection, replayed bool) {
	content, err := s.store.ChecklistContent(c.Request.Context(), in.ChecklistID, in.Version)
	if err != nil {
		s.failInspection(c, err)
		return
	}
	respondInspection(c, status, in, content, replayed)
}

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

// createRequest is the body of PUT /v1/inspections/{id}. Answers, when
// given, are saved with the creation (as a save on revision 1 would be):
// a tablet that has them sends one write instead of two.
type createRequest struct {
	FacilityID     string                     `json:"facility_id"`
	ChecklistID    string                     `json:"checklist_id"`
	Version        int                        `json:"version"`
	InspectionDate string                     `json:"inspection_date"`
	Answers        map[string]json.RawMessage `json:"answers"`
}

// createKey is the idempotency key a create with answers records, so that
// its retry is told from another create of the same id. It has a space,
// which no client's key may have, so it never meets one.
const createKey = "create inspection"

// createInspection creates the inspection with the client's id, or, when
// it already exists with the same facility, version and date, returns it:
// a tablet may retry a create any number of times. A create that carries
// answers is answered so on retry only if the inspection was created by
// that same request (the same body); otherwise its answers would be lost
// silently, so it is 409 with the current copy, to be saved with PATCH.
func (s *Server) createInspection(c *gin.Context) {
	ctx := c.Request.Context()
	id := strings.ToLower(c.Param("id"))
	var req createRequest
	body, err := readJSONBody(c, &req, false)
	if err != nil {
		respondError(c, err)
		return
	}
	p := principalOf(c)
	by := actorOf(c)
	date, dateErr := checklist.ParseDate(req.InspectionDate)
	in, err := checklist.NewInspection(id, req.FacilityID, req.ChecklistID, req.Version, date, by, s.cfg.Now())
	if dateErr != nil && req.InspectionDate != "" {
		err = mergeFieldError(err, "inspection_date", "format", dateErr.Error())
	}
	if err != nil {
		respondError(c, err)
		return
	}
	answers, err := decodeAnswers(req.Answers)
	if err != nil {
		respondError(c, err)
		return
	}
	if !p.CanAccessFacility(req.FacilityID) {
		respondError(c, checklist.Errorf(checklist.EForbidden, "you are not assigned to facility %s", req.FacilityID))
		return
	}
	var idem checklist.Idempotency
	if len(answers) > 0 {
		sum := sha256.Sum256(body)
		idem = checklist.Idempotency{Key: p.UserID + "/" + createKey, Fingerprint: hex.EncodeToString(sum[:])}
	}
	// A retry is answered with what exists, even if the version has been
	// retired since the first attempt.
	existing, err := s.store.FindInspection(ctx, in.ID)
	switch {
	case err == nil:
		s.replayCreate(c, existing, in, idem)
		return
	case checklist.ErrorCode(err) != checklist.ENotFound:
		respondError(c, err)
		return
	}
	content, err := s.checkCreatable(ctx, req)
	if err != nil {
		respondError(c, err)
		return
	}
	if len(answers) > 0 {
		if _, err := in.SaveOnCreate(content, answers, by, s.cfg.Now()); err != nil {
			respondError(c, err)
			return
		}
	}
	got, created, err := s.store.CreateInspection(ctx, in, by, idem)
	switch {
	case err != nil:
		s.failInspection(c, err)
	case !created: // a concurrent create of the same id came first
		s.replayCreate(c, got, in, idem)
	default:
		c.Header("Location", "/v1/inspections/"+got.ID)
		respondInspection(c, http.StatusCreated, got, content, false)
	}
}

// replayCreate answers a create of an id that exists: 200 with it when
// the request is a retry of its creation, else 409 with it.
func (s *Server) replayCreate(c *gin.Context, existing, in *checklist.Inspection, idem checklist.Idempotency) {
	msg := "an inspection with this id already exists with a different facility, checklist version or date"
	if existing.SameCreation(in) {
		_, applied, _ := existing.WasApplied(idem)
		if idem.Key == "" || applied {
			s.respondStored(c, http.StatusOK, existing, true)
			return
		}
		msg = "an inspection with this id already exists, created without these answers: save them with PATCH"
	}
	s.failInspection(c, &checklist.Error{Code: checklist.EConflict, Message: msg, Current: existing})
}

// checkCreatable checks that the facility exists and is active and that
// the version is published and not retired, and returns the version's
// content, which the new inspection is pinned to.
func (s *Server) checkCreatable(ctx context.Context, req createRequest) (*checklist.Content, error) {
	var p checklist.Problems
	f, err := s.store.FindFacility(ctx, req.FacilityID)
	switch code := checklist.ErrorCode(err); {
	case code == checklist.ENotFound:
		p.Add("facility_id", "unknown_facility", "there is no facility %s", req.FacilityID)
	case err != nil:
		return nil, err
	case !f.Active:
		p.Add("facility_id", "inactive_facility", "facility %s is inactive", f.Code)
	}
	v, err := s.store.ChecklistVersion(ctx, req.ChecklistID, req.Version)
	switch code := checklist.ErrorCode(err); {
	case code == checklist.ENotFound:
		p.Add("version", "unknown_version", "checklist %s has no published version %d", req.ChecklistID, req.Version)
	case err != nil:
		return nil, err
	case v.Retired:
		p.Add("version", "retired_version", "version %d of checklist %s is retired; use the current version", req.Version, req.ChecklistID)
	}
	if err := p.Err("the inspection cannot be created"); err != nil {
		return nil, err
	}
	return &v.Content, nil
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
	if err := in.CheckAccess(actorOf(c)); err != nil {
		respondError(c, err)
		return
	}
	c.Header("ETag", revisionETag(in.Revision))
	c.Header("Cache-Control", "private, no-cache")
	if notModified(c, revisionETag(in.Revision)) {
		return
	}
	s.respondStored(c, http.StatusOK, in, false)
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

// change is a domain function of a write by the caller, by, with the
// inspection's pinned content.
type change func(in *checklist.Inspection, content *checklist.Content, by checklist.Actor, now time.Time) (checklist.InspectionChange, error)

// update writes inspection id by fn and answers with the result. The
// write goes one way: everything it depends on is resolved here first —
// the caller as a domain Actor, If-Match as a checklist.Precondition —
// and captured in a pure function (checklist.Guard: access, then the
// precondition, then fn); storage runs it under its revision guard with
// the inspection and its pinned content, and hands both back, so the
// answer is rendered without another read. The content is the one input
// not resolved here: which version it is, is known only once the
// inspection is read (see storage's UpdateInspection). A failed
// precondition comes back with the current copy, as a conflict does.
func (s *Server) update(c *gin.Context, id string, idem checklist.Idempotency, fn change) {
	pre, _, err := ifMatchRevisions(c, "")
	if err != nil {
		respondError(c, err)
		return
	}
	by := actorOf(c)
	w, err := s.store.UpdateInspection(c.Request.Context(), id, by, idem, checklist.Guard(by, pre,
		func(in *checklist.Inspection, content *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return fn(in, content, by, now)
		}))
	if err != nil {
		s.failInspection(c, err)
		return
	}
	respondInspection(c, http.StatusOK, w.Inspection, w.Content, w.Replayed)
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
	q.FiscalYear = optionalFiscalYearParam(c, "fiscal_year", &probs)
	if v := c.Query("status"); v != "" {
		if !checklist.Status(v).Valid() {
			probs.Add("status", "enum", "status must be draft, submitted, returned, approved or discarded")
		}
		q.Status = checklist.Status(v)
	}
	q.Limit = limitParam(c, &probs)
	if parts := cursorParam(c, &probs, "cursor", "inspections", 2); parts != nil {
		q.AfterDate, q.AfterID = parts[0], parts[1]
	}
	if refuseQuery(c, probs) {
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
