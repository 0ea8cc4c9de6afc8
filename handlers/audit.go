package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// listAudit lets admins read the audit trail, newest first, filtered by
// entity (one of checklist.AuditEntities; an unknown one is 400) and
// entity_id, actor (a user id) and since (an RFC 3339 time), paged by
// cursor.
func (s *Server) listAudit(c *gin.Context) {
	q := checklist.AuditQuery{Entity: c.Query("entity"), EntityID: c.Query("entity_id"), ActorID: c.Query("actor")}
	var p checklist.Problems
	if q.Entity != "" && !slices.Contains(checklist.AuditEntities, q.Entity) {
		p.Add("entity", "enum", "entity must be one of %s", strings.Join(checklist.AuditEntities, ", "))
	}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			p.Add("since", "format", "since must be an RFC 3339 time such as 2026-04-01T00:00:00Z")
		}
		q.Since = t
	}
	q.Limit = limitParam(c, &p)
	if parts := cursorParam(c, &p, "cursor", "audit", 2); parts != nil {
		if ms, err := strconv.ParseInt(parts[0], 10, 64); err != nil {
			p.Add("cursor", "invalid", "cursor is not a cursor this list returned; start again without it")
		} else {
			q.BeforeAt, q.BeforeID = time.UnixMilli(ms).UTC(), parts[1]
		}
	}
	if refuseQuery(c, p) {
		return
	}
	entries, more, err := s.store.ListAudit(c.Request.Context(), q)
	if err != nil {
		respondError(c, err)
		return
	}
	out := struct {
		Items      []auditJSON `json:"items"`
		NextCursor *string     `json:"next_cursor"`
	}{Items: make([]auditJSON, 0, len(entries))}
	for _, e := range entries {
		out.Items = append(out.Items, newAuditJSON(e))
	}
	if more {
		last := entries[len(entries)-1]
		cur := encodeCursor("audit", strconv.FormatInt(last.At.UnixMilli(), 10), last.ID)
		out.NextCursor = &cur
	}
	c.Header("Cache-Control", "no-store")
	respondJSON(c, http.StatusOK, out)
}
