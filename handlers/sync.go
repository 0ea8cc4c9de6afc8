package handlers

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// syncOverlap is how far back a finished sync's cursor reaches: a write
// stamped before it but committed after the read is still delivered by
// the next sync. Changes in the overlap may come twice; tablets keep the
// copy with the higher revision.
const syncOverlap = 30 * time.Second

// syncJSON is what changed for a tablet since its cursor.
type syncJSON struct {
	Inspections []inspectionJSON   `json:"inspections"`
	Facilities  []facilityJSON     `json:"facilities"`
	Checklists  syncChecklistsJSON `json:"checklists"`
	Cursor      string             `json:"cursor"`
	HasMore     bool               `json:"has_more"`
	// Assignments (inspectors): all their round assignments, every page.
	Assignments []tabletAssignmentJSON `json:"assignments,omitempty"`
}

// syncChecklistsJSON is what changed about the checklists that concern
// the user: versions published or retired (without content: the tablet
// downloads a version from its url), and the whole manifest when it may
// have changed (null otherwise).
type syncChecklistsJSON struct {
	Versions []versionJSON `json:"versions"`
	Manifest *manifestJSON `json:"manifest"`
}

func newSyncChecklistsJSON(t checklist.TabletChecklists, since time.Time) syncChecklistsJSON {
	ch := t.ChangedSince(since)
	out := syncChecklistsJSON{Versions: make([]versionJSON, 0, len(ch.Versions))}
	for _, v := range ch.Versions {
		out.Versions = append(out.Versions, newVersionJSON(v))
	}
	if ch.ManifestChanged {
		m := newManifestJSON(t.Manifest())
		out.Manifest = &m
	}
	return out
}

// sync gives a tablet everything that changed for its user since the
// cursor it got last time (none: everything): inspections of the user's
// facilities changed on the server — returned with comments, approved,
// reopened, or saved from another device — whole, changed facilities, and
// checklist changes: versions published or retired and, when it may have
// changed, the manifest (checklist.TabletChecklists decides both, as for
// GET /v1/checklists/manifest). With has_more the tablet asks again at
// once with the new cursor; every page carries the checklist changes since
// its own cursor.
func (s *Server) sync(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	var since time.Time
	var afterID string
	if v := c.Query("since"); v != "" {
		parts, ok := decodeCursor("sync", v, 2)
		if !ok {
			parts, ok = legacySyncCursor(v)
		}
		ms, err := strconv.ParseInt(safeIndex(parts, 0), 10, 64)
		if !ok || err != nil {
			respondError(c, badQuery("since", "invalid", "since is not a cursor the sync returned"))
			return
		}
		since, afterID = time.UnixMilli(ms).UTC(), parts[1]
	}
	var probs checklist.Problems
	limit := limitParam(c, &probs)
	if refuseQuery(c, probs) {
		return
	}
	var facilities []string // nil: every facility
	if p.Role == checklist.RoleInspector {
		facilities = append([]string{}, p.Facilities...)
	}
	// The horizon is read before the data: whatever is stamped before it
	// and committed by now is in this answer.
	horizon := s.cfg.Now().Add(-syncOverlap).UTC().Truncate(time.Millisecond)
	ins, more, err := s.store.ChangedInspections(ctx, facilities, since, afterID, limit)
	if err != nil {
		respondError(c, err)
		return
	}
	facs, err := s.store.ChangedFacilities(ctx, facilities, since)
	if err != nil {
		respondError(c, err)
		return
	}
	tablet, err := s.tabletChecklists(ctx, p)
	if err != nil {
		respondError(c, err)
		return
	}
	out := syncJSON{Inspections: make([]inspectionJSON, 0, len(ins)), Facilities: make([]facilityJSON, 0, len(facs)),
		Checklists: newSyncChecklistsJSON(tablet, since), HasMore: more}
	if out.Assignments, err = s.tabletAssignments(ctx, p, tablet); err != nil {
		respondError(c, err)
		return
	}
	for _, in := range ins {
		content, err := s.store.ChecklistContent(ctx, in.ChecklistID, in.Version)
		if err != nil {
			respondError(c, err)
			return
		}
		out.Inspections = append(out.Inspections, newInspectionJSON(in, content))
	}
	for _, f := range facs {
		out.Facilities = append(out.Facilities, newFacilityJSON(f))
	}
	switch {
	case more:
		last := ins[len(ins)-1]
		out.Cursor = encodeCursor("sync", strconv.FormatInt(last.Updated.At.UnixMilli(), 10), last.ID)
	case horizon.After(since):
		out.Cursor = encodeCursor("sync", strconv.FormatInt(horizon.UnixMilli(), 10), "")
	default:
		out.Cursor = encodeCursor("sync", strconv.FormatInt(since.UnixMilli(), 10), afterID)
	}
	c.Header("Cache-Control", "no-store")
	respondJSON(c, http.StatusOK, out)
}

// legacySyncCursor reads a sync cursor written before cursors carried a
// format version ("sync|ms|id"). Unlike a list's cursor, a tablet keeps
// its sync cursor across server upgrades, and one refused would stop it
// syncing for good.
func legacySyncCursor(s string) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	list, rest, _ := strings.Cut(string(b), "|")
	parts := strings.Split(rest, "|")
	return parts, err == nil && list == "sync" && len(parts) == 2
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
