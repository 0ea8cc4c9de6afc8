package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/auth"
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
	// Assignments (inspectors): their round assignments, by due date.
	Assignments []tabletAssignmentJSON `json:"assignments,omitempty"`
}

func newManifestEntry(v *checklist.ApplicableVersion) *manifestEntry {
	if v == nil {
		return nil
	}
	return &manifestEntry{ChecklistID: v.ChecklistID, Version: v.Number, ContentHash: v.ContentHash, URL: versionURL(v.ChecklistID, v.Number)}
}

func newManifestJSON(m checklist.Manifest) manifestJSON {
	var j manifestJSON
	if m.Facilities != nil {
		j.Facilities = make(map[string]*manifestEntry, len(m.Facilities))
		for id, v := range m.Facilities {
			j.Facilities[id] = newManifestEntry(v)
		}
	}
	j.Default = newManifestEntry(m.Default)
	if m.Kinds != nil {
		j.Kinds = make(map[checklist.FacilityKind]*manifestEntry, len(m.Kinds))
		for k, v := range m.Kinds {
			j.Kinds[k] = newManifestEntry(v)
		}
	}
	return j
}

// tabletChecklists reads what decides which checklist versions p's tablet
// needs, for the manifest and the sync feed: the applicability, every
// version (without content) and an inspector's facilities — three small
// queries.
func (s *Server) tabletChecklists(ctx context.Context, p auth.Principal) (checklist.TabletChecklists, error) {
	a, err := s.store.FindApplicability(ctx)
	if err != nil {
		return checklist.TabletChecklists{}, err
	}
	versions, err := s.store.AllVersions(ctx)
	if err != nil {
		return checklist.TabletChecklists{}, err
	}
	t := checklist.TabletChecklists{Applicability: a, Versions: versions, Staff: p.Role != checklist.RoleInspector}
	if !t.Staff && len(p.Facilities) > 0 {
		// Ids in the token that name no facility any more are left out.
		page, err := s.store.ListFacilities(ctx, checklist.FacilityQuery{Within: p.Facilities, Limit: len(p.Facilities)})
		if err != nil {
			return checklist.TabletChecklists{}, err
		}
		t.Facilities = page.Items
	}
	return t, nil
}

// checklistManifest: GET /v1/checklists/manifest. One small response that
// tells a tablet which versions it needs, so it downloads only what
// changed; its own ETag lets the tablet ask again for a 304.
func (s *Server) checklistManifest(c *gin.Context) {
	p := principalOf(c)
	key := manifestKey(p)
	now := time.Now()
	m, gen, ok := s.manifests.get(key, now)
	if !ok {
		t, err := s.tabletChecklists(c.Request.Context(), p)
		if err != nil {
			respondError(c, err)
			return
		}
		j := newManifestJSON(t.Manifest())
		if j.Assignments, err = s.tabletAssignments(c.Request.Context(), p, t); err != nil {
			respondError(c, err)
			return
		}
		var body bytes.Buffer
		if err := jsonEncode(&body, j); err != nil {
			respondError(c, err)
			return
		}
		sum := sha256.Sum256(body.Bytes())
		m = cachedManifest{gen: gen, at: now, etag: `"m-` + hex.EncodeToString(sum[:16]) + `"`, body: body.Bytes()}
		s.manifests.put(key, m)
	}
	c.Header("ETag", m.etag)
	c.Header("Cache-Control", "private, no-cache")
	if notModified(c, m.etag) {
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", m.body)
}
