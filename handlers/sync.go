package handlers

import (
	"net/http"
	"strconv"
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
	Inspections []inspectionJSON `json:"inspections"`
	Facilities  []facilityJSON   `json:"facilities"`
	Cursor      string           `json:"cursor"`
	HasMore     bool             `json:"has_more"`
}

// sync gives a tablet everything that changed for its user since the
// cursor it got last time (none: everything): inspections of the user's
// facilities changed on the server — returned with comments, approved,
// reopened, or saved from another device — whole, and changed facilities.
// With has_more the tablet asks again at once with the new cursor.
// Checklist versions have their own manifest.
func (s *Server) sync(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	var since time.Time
	var afterID string
	if v := c.Query("since"); v != "" {
		parts, ok := decodeCursor("sync", v, 2)
		ms, err := strconv.ParseInt(safeIndex(parts, 0), 10, 64)
		if !ok || err != nil {
			respondError(c, badQuery("since", "invalid", "since is not a cursor the sync returned"))
			return
		}
		since, afterID = time.UnixMilli(ms).UTC(), parts[1]
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			respondError(c, badQuery("limit", "range", "limit must be an integer from 1 to 200"))
			return
		}
		limit = n
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
	out := syncJSON{Inspections: make([]inspectionJSON, 0, len(ins)), Facilities: make([]facilityJSON, 0, len(facs)), HasMore: more}
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

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
