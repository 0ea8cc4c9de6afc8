package handlers

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// ChecklistStore keeps checklists, their drafts and published versions,
// and which checklist applies to which facilities.
type ChecklistStore interface {
	CreateChecklist(ctx context.Context, id string, draft checklist.Content, by checklist.Actor) (checklist.ChecklistRecord, error)
	FindChecklist(ctx context.Context, id string) (checklist.ChecklistRecord, error)
	ListChecklists(ctx context.Context) ([]checklist.ChecklistRecord, error)
	ReplaceDraft(ctx context.Context, id string, revision int, draft checklist.Content, by checklist.Actor) (checklist.ChecklistRecord, error)
	Publish(ctx context.Context, id string, revision, number int, by checklist.Actor) (checklist.Version, error)
	ChecklistVersion(ctx context.Context, id string, number int) (checklist.Version, error)
	ListVersions(ctx context.Context, id string) ([]checklist.Version, error)
	RetireVersion(ctx context.Context, id string, number int, by checklist.Actor) (checklist.Version, error)
	FindApplicability(ctx context.Context) (checklist.Applicability, error)
	SetApplicability(ctx context.Context, a checklist.Applicability, revision int, by checklist.Actor) (checklist.Applicability, error)
	AllVersions(ctx context.Context) ([]checklist.Version, error)
	FindFacility(ctx context.Context, id string) (checklist.Facility, error)
}

// maxChecklistBody bounds a checklist in a request body, JSON or YAML: the
// largest valid checklist (500 items of long bilingual texts) fits.
const maxChecklistBody = 8 << 20

// checklistJSON is a checklist on the wire, without its draft content.
type checklistJSON struct {
	ID            string         `json:"id"`
	Title         checklist.Text `json:"title"`
	Revision      int            `json:"revision"`
	LatestVersion int            `json:"latest_version"`
	AppliesTo     appliesToJSON  `json:"applies_to"`
	CreatedAt     time.Time      `json:"created_at"`
	CreatedBy     string         `json:"created_by"`
	UpdatedAt     time.Time      `json:"updated_at"`
	UpdatedBy     string         `json:"updated_by"`
}

// appliesToJSON says where a checklist applies: as the default, and for
// the facility kinds assigned to it.
type appliesToJSON struct {
	Default bool                     `json:"default"`
	Kinds   []checklist.FacilityKind `json:"kinds"`
}

func newChecklistJSON(r checklist.ChecklistRecord, a checklist.Applicability) checklistJSON {
	at := appliesToJSON{Default: a.Default == r.ID, Kinds: []checklist.FacilityKind{}}
	for _, k := range checklist.FacilityKinds {
		if a.Kinds[k] == r.ID {
			at.Kinds = append(at.Kinds, k)
		}
	}
	return checklistJSON{
		ID: r.ID, Title: r.Title, Revision: r.Revision, LatestVersion: r.LatestVersion, AppliesTo: at,
		CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
	}
}

// draftJSON is a checklist's draft on the wire. Problems lists what
// publishing would refuse, empty when the draft is ready.
type draftJSON struct {
	ChecklistID string                 `json:"checklist_id"`
	Revision    int                    `json:"revision"`
	Content     checklist.Content      `json:"content"`
	Problems    []checklist.FieldError `json:"problems"`
	UpdatedAt   time.Time              `json:"updated_at"`
	UpdatedBy   string                 `json:"updated_by"`
}

func newDraftJSON(r checklist.ChecklistRecord) draftJSON {
	d := draftJSON{ChecklistID: r.ID, Revision: r.Revision, Content: r.Draft, Problems: problemsOf(r.Draft),
		UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
	if d.Content.Sections == nil {
		d.Content.Sections = []checklist.Section{}
	}
	return d
}

// problemsOf returns every problem Validate finds with c, never nil.
func problemsOf(c checklist.Content) []checklist.FieldError {
	if e, ok := c.Validate().(*checklist.Error); ok && len(e.Fields) > 0 {
		return e.Fields
	}
	return []checklist.FieldError{}
}

// draftETag is the entity tag of a draft at revision: the revision, with
// a suffix for the YAML representation (a strong tag names exact bytes).
func draftETag(revision int, yaml bool) string {
	if yaml {
		return `"` + strconv.Itoa(revision) + `.yaml"`
	}
	return `"` + strconv.Itoa(revision) + `"`
}

// versionJSON is a published version on the wire without its content: what
// lists, publish and retire answer.
type versionJSON struct {
	ChecklistID string     `json:"checklist_id"`
	Number      int        `json:"number"`
	ContentHash string     `json:"content_hash"`
	PublishedAt time.Time  `json:"published_at"`
	PublishedBy string     `json:"published_by"`
	Retired     bool       `json:"retired"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	RetiredBy   string     `json:"retired_by,omitempty"`
	URL         string     `json:"url"`
}

func newVersionJSON(v checklist.Version) versionJSON {
	j := versionJSON{ChecklistID: v.ChecklistID, Number: v.Number, ContentHash: v.ContentHash,
		PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy, Retired: v.Retired, RetiredBy: v.RetiredBy,
		URL: versionURL(v.ChecklistID, v.Number)}
	if !v.RetiredAt.IsZero() {
		at := v.RetiredAt
		j.RetiredAt = &at
	}
	return j
}

func versionURL(id string, number int) string {
	return "/v1/checklists/" + id + "/versions/" + strconv.Itoa(number)
}

// applicabilityJSON is which checklist applies to which facilities.
type applicabilityJSON struct {
	DefaultChecklistID string                            `json:"default_checklist_id"`
	Kinds              map[checklist.FacilityKind]string `json:"kinds"`
	Revision           int                               `json:"revision"`
	UpdatedAt          *time.Time                        `json:"updated_at,omitempty"`
	UpdatedBy          string                            `json:"updated_by,omitempty"`
}

func newApplicabilityJSON(a checklist.Applicability) applicabilityJSON {
	j := applicabilityJSON{DefaultChecklistID: a.Default, Kinds: map[checklist.FacilityKind]string{},
		Revision: a.Revision, UpdatedBy: a.UpdatedBy}
	for k, id := range a.Kinds {
		j.Kinds[k] = id
	}
	if !a.UpdatedAt.IsZero() {
		at := a.UpdatedAt
		j.UpdatedAt = &at
	}
	return j
}

// listChecklists: GET /v1/checklists. There are a handful of checklists,
// so the list is one page.
func (s *Server) listChecklists(c *gin.Context) {
	ctx := c.Request.Context()
	list, err := s.store.ListChecklists(ctx)
	if err != nil {
		respondError(c, err)
		return
	}
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		respondError(c, err)
		return
	}
	items := make([]checklistJSON, len(list))
	for i, r := range list {
		items[i] = newChecklistJSON(r, a)
	}
	respondJSON(c, http.StatusOK, listJSON[checklistJSON]{Items: items})
}

// createChecklist: POST /v1/checklists. The body is the first draft: JSON
// {"id": optional, "content": {...}}, or a checklist file as YAML (id in
// ?id=), which must be a valid checklist.
func (s *Server) createChecklist(c *gin.Context) {
	var req struct {
		ID      string             `json:"id"`
		Content *checklist.Content `json:"content"`
	}
	yaml, err := isYAMLBody(c)
	if err != nil {
		respondError(c, err)
		return
	}
	if yaml {
		content, err := decodeChecklistYAML(c)
		if err != nil {
			respondError(c, err)
			return
		}
		req.ID, req.Content = c.Query("id"), &content
	} else {
		if err := decodeJSONLimit(c, &req, maxChecklistBody); err != nil {
			respondError(c, err)
			return
		}
		if req.Content == nil {
			respondError(c, fieldRequired("content", "content is required: the checklist's first draft"))
			return
		}
	}
	ctx := c.Request.Context()
	r, err := s.store.CreateChecklist(ctx, req.ID, *req.Content, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		respondError(c, err)
		return
	}
	c.Header("Location", "/v1/checklists/"+r.ID)
	respondJSON(c, http.StatusCreated, newChecklistJSON(r, a))
}

// getChecklist: GET /v1/checklists/{id}.
func (s *Server) getChecklist(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.store.FindChecklist(ctx, c.Param("id"))
	if err != nil {
		respondError(c, err)
		return
	}
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newChecklistJSON(r, a))
}

// getDraft: GET /v1/checklists/{id}/draft, as JSON or, with ?format=yaml
// or Accept: application/yaml, as a checklist file.
func (s *Server) getDraft(c *gin.Context) {
	yaml, err := wantsYAML(c)
	if err != nil {
		respondError(c, err)
		return
	}
	r, err := s.store.FindChecklist(c.Request.Context(), c.Param("id"))
	if err != nil {
		respondError(c, err)
		return
	}
	etag := draftETag(r.Revision, yaml)
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	c.Header("Vary", "Accept")
	if notModified(c, etag) {
		return
	}
	if yaml {
		respondYAML(c, r.Draft, r.ID+"-draft.yaml")
		return
	}
	respondJSON(c, http.StatusOK, newDraftJSON(r))
}

// replaceDraft: PUT /v1/checklists/{id}/draft. The body is JSON
// {"revision": n, "content": {...}} or a checklist file as YAML (which
// must be valid). The revision the change is based on comes from If-Match
// (a stale one is 412) or the revision field or ?revision= (409); either
// way the answer carries the current draft.
func (s *Server) replaceDraft(c *gin.Context) {
	id := c.Param("id")
	ctx := c.Request.Context()
	pre, hasIfMatch, err := ifMatchRevisions(c, ".yaml")
	if err != nil {
		respondError(c, err)
		return
	}
	yaml, err := isYAMLBody(c)
	if err != nil {
		respondError(c, err)
		return
	}
	var req struct {
		Revision *int               `json:"revision"`
		Content  *checklist.Content `json:"content"`
	}
	if yaml {
		content, err := decodeChecklistYAML(c)
		if err != nil {
			respondError(c, err)
			return
		}
		req.Content = &content
		if q, ok := c.GetQuery("revision"); ok {
			n, err := strconv.Atoi(q)
			if err != nil {
				respondError(c, badQuery("revision", "type", "revision must be an integer"))
				return
			}
			req.Revision = &n
		}
	} else {
		if err := decodeJSONLimit(c, &req, maxChecklistBody); err != nil {
			respondError(c, err)
			return
		}
		if req.Content == nil {
			respondError(c, fieldRequired("content", "content is required: the whole new draft"))
			return
		}
	}
	if hasIfMatch {
		ifMatch, err := s.draftRevision(ctx, id, pre)
		if err != nil {
			respondError(c, err)
			return
		}
		if req.Revision != nil && *req.Revision != ifMatch {
			respondError(c, fieldBad("revision", "mismatch", "the revision field and If-Match name different revisions"))
			return
		}
		req.Revision = &ifMatch
	}
	if err := requireRevision(req.Revision); err != nil {
		respondError(c, err)
		return
	}
	r, err := s.store.ReplaceDraft(ctx, id, *req.Revision, *req.Content, actorOf(c))
	if err != nil {
		if hasIfMatch {
			err = asPreconditionFailed(err)
		}
		respondError(c, err)
		return
	}
	c.Header("ETag", draftETag(r.Revision, false))
	respondJSON(c, http.StatusOK, newDraftJSON(r))
}

// validateDraft: POST /v1/checklists/{id}/draft/validate. 200 when the
// draft could be published as it is, 422 listing every problem otherwise.
func (s *Server) validateDraft(c *gin.Context) {
	r, err := s.store.FindChecklist(c.Request.Context(), c.Param("id"))
	if err != nil {
		respondError(c, err)
		return
	}
	if err := r.Draft.Validate(); err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, gin.H{"valid": true, "revision": r.Revision, "content_hash": checklist.ContentHash(r.Draft)})
}

// publish: POST /v1/checklists/{id}/publish with an optional JSON body
// {"revision": draft revision reviewed, "number": version to create}.
func (s *Server) publish(c *gin.Context) {
	var req struct {
		Revision int `json:"revision"`
		Number   int `json:"number"`
	}
	if hasBody(c) {
		if err := decodeJSON(c, &req); err != nil {
			respondError(c, err)
			return
		}
	}
	var p checklist.Problems
	if req.Revision < 0 {
		p.Add("revision", "min", "revision must be at least 1 when given")
	}
	if req.Number < 0 {
		p.Add("number", "min", "number must be at least 1 when given")
	}
	if err := p.Err("the publish request is not valid"); err != nil {
		respondError(c, err)
		return
	}
	v, err := s.store.Publish(c.Request.Context(), c.Param("id"), req.Revision, req.Number, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	c.Header("Location", versionURL(v.ChecklistID, v.Number))
	respondJSON(c, http.StatusCreated, newVersionJSON(v))
}

// listVersions: GET /v1/checklists/{id}/versions, newest first, one page.
func (s *Server) listVersions(c *gin.Context) {
	list, err := s.store.ListVersions(c.Request.Context(), c.Param("id"))
	if err != nil {
		respondError(c, err)
		return
	}
	items := make([]versionJSON, len(list))
	for i, v := range list {
		items[i] = newVersionJSON(v)
	}
	respondJSON(c, http.StatusOK, listJSON[versionJSON]{Items: items})
}

// retireVersion: POST /v1/checklists/{id}/versions/{n}/retire.
func (s *Server) retireVersion(c *gin.Context) {
	id := c.Param("id")
	n, err := versionNumber(c)
	if err != nil {
		respondError(c, err)
		return
	}
	v, err := s.store.RetireVersion(c.Request.Context(), id, n, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newVersionJSON(v))
}

// refuseVersionWrite answers PUT, PATCH and DELETE on a version: a
// published version can never change. 409 when it exists, 404 otherwise.
func (s *Server) refuseVersionWrite(c *gin.Context) {
	n, err := versionNumber(c)
	if err != nil {
		respondError(c, err)
		return
	}
	if _, err := s.versions.get(c.Request.Context(), c.Param("id"), n); err != nil {
		respondError(c, err)
		return
	}
	respondError(c, checklist.ImmutableVersionError(n))
}

// diffVersions: GET /v1/checklists/{id}/versions/{n}/diff/{to}: what
// changed from version n to version to, by section and item key.
func (s *Server) diffVersions(c *gin.Context) {
	id := c.Param("id")
	from, err := versionNumber(c)
	if err != nil {
		respondError(c, err)
		return
	}
	to, err := strconv.Atoi(c.Param("to"))
	if err != nil || to < 1 {
		respondError(c, checklist.Errorf(checklist.ENotFound, "checklist %q has no version %q", id, c.Param("to")))
		return
	}
	ctx := c.Request.Context()
	a, err := s.versions.get(ctx, id, from)
	if err != nil {
		respondError(c, err)
		return
	}
	b, err := s.versions.get(ctx, id, to)
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, struct {
		ChecklistID string `json:"checklist_id"`
		From        int    `json:"from"`
		To          int    `json:"to"`
		checklist.VersionDiff
	}{id, from, to, checklist.Diff(a.version.Content, b.version.Content)})
}

// getApplicability: GET /v1/checklists/applicability.
func (s *Server) getApplicability(c *gin.Context) {
	a, err := s.store.FindApplicability(c.Request.Context())
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newApplicabilityJSON(a))
}

// setApplicability: PUT /v1/checklists/applicability with the whole
// assignment and the revision it is based on (0 the first time).
func (s *Server) setApplicability(c *gin.Context) {
	var req struct {
		Revision           *int              `json:"revision"`
		DefaultChecklistID string            `json:"default_checklist_id"`
		Kinds              map[string]string `json:"kinds"`
	}
	if err := decodeJSON(c, &req); err != nil {
		respondError(c, err)
		return
	}
	switch {
	case req.Revision == nil:
		respondError(c, fieldRequired("revision", "revision is required: the revision the change is based on, 0 the first time"))
		return
	case *req.Revision < 0:
		respondError(c, fieldBad("revision", "min", "revision cannot be negative"))
		return
	}
	a := checklist.Applicability{Default: req.DefaultChecklistID, Kinds: map[checklist.FacilityKind]string{}}
	for k, id := range req.Kinds {
		a.Kinds[checklist.FacilityKind(k)] = id
	}
	a, err := s.store.SetApplicability(c.Request.Context(), a, *req.Revision, actorOf(c))
	if err != nil {
		respondError(c, err)
		return
	}
	respondJSON(c, http.StatusOK, newApplicabilityJSON(a))
}

// versionNumber reads the {n} of a version path; anything but a positive
// integer names no version.
func versionNumber(c *gin.Context) (int, error) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return 0, checklist.Errorf(checklist.ENotFound, "checklist %q has no version %q", c.Param("id"), c.Param("n"))
	}
	return n, nil
}

// draftRevision is the revision of draft id that a replace conditional
// on pre (If-Match) is based on: the one revision it names, which the
// store's revision guard then checks; otherwise (any, or several) the
// current revision if pre allows it, else 412 with the current draft.
func (s *Server) draftRevision(ctx context.Context, id string, pre checklist.Precondition) (int, error) {
	if len(pre.Revisions) == 1 {
		return int(pre.Revisions[0]), nil
	}
	cur, err := s.store.FindChecklist(ctx, id)
	if err != nil {
		return 0, err
	}
	if !pre.Allows(int64(cur.Revision)) {
		return 0, &checklist.Error{Code: checklist.EPrecondition, Current: cur,
			Message: "If-Match names no current revision of this draft; send the ETag a GET returned"}
	}
	return cur.Revision, nil
}

// asPreconditionFailed turns a stale-revision error into 412, keeping its
// message and current copy: the stale revision came from If-Match.
func asPreconditionFailed(err error) error {
	if e, ok := err.(*checklist.Error); ok && e.Code == checklist.ERevision {
		return &checklist.Error{Code: checklist.EPrecondition, Message: e.Message, Current: e.Current}
	}
	return err
}

func fieldRequired(field, msg string) error {
	return &checklist.Error{Code: checklist.EInvalid, Message: msg,
		Fields: []checklist.FieldError{{Field: field, Code: checklist.CodeRequired, Message: msg}}}
}

func fieldBad(field, code, msg string) error {
	return &checklist.Error{Code: checklist.EInvalid, Message: msg,
		Fields: []checklist.FieldError{{Field: field, Code: code, Message: msg}}}
}

// hasBody reports whether the request carries a body to decode.
func hasBody(c *gin.Context) bool {
	return c.Request.ContentLength > 0 || (c.Request.ContentLength < 0 && c.GetHeader("Content-Type") != "")
}

// yamlTypes are the media types a checklist file is sent and asked for as.
var yamlTypes = []string{"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}

// isYAMLBody reports whether the request body is YAML; any content type
// other than JSON and YAML is 415.
func isYAMLBody(c *gin.Context) (bool, error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil {
		return false, checklist.Errorf(checklist.EUnsupportedType, "the body must be application/json or application/yaml")
	}
	for _, t := range yamlTypes {
		if mt == t {
			return true, nil
		}
	}
	return false, nil // decodeJSON refuses anything but JSON
}

// wantsYAML reports whether the client asks for a checklist file: with
// ?format=yaml, or an Accept header naming YAML and not JSON. ?format=json
// asks for JSON; any other format is 400.
func wantsYAML(c *gin.Context) (bool, error) {
	if c.Request.URL.RawQuery != "" {
		switch f := c.Query("format"); f {
		case "yaml":
			return true, nil
		case "json":
			return false, nil
		case "":
		default:
			return false, badQuery("format", "bad_value", "format must be json or yaml")
		}
	}
	accept := c.GetHeader("Accept")
	if accept == "" || !strings.Contains(accept, "yaml") || strings.Contains(accept, "application/json") {
		return false, nil
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		for _, t := range yamlTypes {
			if mt == t {
				return true, nil
			}
		}
	}
	return false, nil
}
