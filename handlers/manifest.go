package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// manifestEntry names the version a tablet should hold, with the hash it
// can compare with what it has, and where to download it.
type manifestEntry struct {
	ChecklistID string `json:"checklist_id"`
	Version     int    `json:"version"`
	ContentHash string `json:"content_hash"`
	URL         string `json:"url"`
}

// manifestJSON is the manifest. Inspectors get Facilities (each of their
// facilities → its version); admins and reviewers get Default and Kinds
// (every facility kind → its version). A null entry means no published,
// unretired version applies.
type manifestJSON struct {
	Facilities map[string]*manifestEntry                 `json:"facilities,omitempty"`
	Default    *manifestEntry                            `json:"default,omitempty"`
	Kinds      map[checklist.FacilityKind]*manifestEntry `json:"kinds,omitempty"`
}

// checklistManifest: GET /v1/checklists/manifest. One small response that
// tells a tablet which versions it needs, so it downloads only what
// changed; its own ETag lets the tablet ask again for a 304.
func (s *Server) checklistManifest(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		respondError(c, err)
		return
	}
	current, err := s.store.ApplicableVersions(ctx, a.ChecklistIDs())
	if err != nil {
		respondError(c, err)
		return
	}
	entry := func(id string) *manifestEntry {
		v, ok := current[id]
		if !ok {
			return nil
		}
		return &manifestEntry{ChecklistID: v.ChecklistID, Version: v.Number, ContentHash: v.ContentHash, URL: versionURL(v.ChecklistID, v.Number)}
	}

	var m manifestJSON
	if p := principalOf(c); p.Role == checklist.RoleInspector {
		m.Facilities = map[string]*manifestEntry{}
		for _, id := range p.Facilities {
			f, err := s.store.FindFacility(ctx, id)
			switch checklist.ErrorCode(err) {
			case "":
				m.Facilities[id] = entry(a.ChecklistFor(f.Kind))
			case checklist.ENotFound: // a stale binding in the token
			default:
				respondError(c, err)
				return
			}
		}
	} else {
		m.Default = entry(a.Default)
		m.Kinds = map[checklist.FacilityKind]*manifestEntry{}
		for _, k := range checklist.FacilityKinds {
			m.Kinds[k] = entry(a.ChecklistFor(k))
		}
	}

	var body bytes.Buffer
	if err := jsonEncode(&body, m); err != nil {
		respondError(c, err)
		return
	}
	sum := sha256.Sum256(body.Bytes())
	etag := `"m-` + hex.EncodeToString(sum[:16]) + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	if etagMatches(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body.Bytes())
}
