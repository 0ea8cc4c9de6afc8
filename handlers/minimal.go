package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// A tablet saving every few seconds needs the new revision, not the whole
// inspection echoed back (~15 KB for a 3 KB save). With the request header
// `Prefer: return=minimal` (RFC 7240) an inspection write answers with
// the same status and headers (ETag = the revision) and this small body,
// and says Preference-Applied: return=minimal.
type inspectionMinimalJSON struct {
	ID        string           `json:"id"`
	Revision  int64            `json:"revision"`
	Status    checklist.Status `json:"status"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// prefersMinimal reports whether a write asked for a minimal reply.
func prefersMinimal(c *gin.Context) bool {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return false
	}
	for _, v := range c.Request.Header.Values("Prefer") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=minimal") {
				return true
			}
		}
	}
	return false
}

// respondMinimal answers a write of in with inspectionMinimalJSON.
func respondMinimal(c *gin.Context, status int, in *checklist.Inspection, replayed bool) {
	c.Header("ETag", revisionETag(in.Revision))
	c.Header("Cache-Control", "private, no-cache")
	c.Header("Preference-Applied", "return=minimal")
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	respondJSON(c, status, inspectionMinimalJSON{ID: in.ID, Revision: in.Revision, Status: in.Status, UpdatedAt: in.Updated.At})
}
