package handlers

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// Lists are paged by an opaque cursor: the sort key of the last item
// served, tagged with the format version and the list it belongs to, and
// base64url-encoded ("1|inspections|2026-05-12|0192…"). Clients pass
// next_cursor back as ?cursor= and must not build one. A cursor lives for
// one walk through a list: one of another list, of another format version
// or damaged is a 400 problem, and the client starts again from the top.
//
// Every list pages by the same limit rule: ?limit= from 1 to maxPageSize,
// defaultPageSize when absent.
const (
	defaultPageSize = 50
	maxPageSize     = 200
	cursorVersion   = "1"
)

// listJSON is one page of a list.
type listJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"` // null on the last page
}

// encodeCursor makes the cursor of list that continues after the item
// whose sort key is parts.
func encodeCursor(list string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + "|" + list + "|" + strings.Join(parts, "|")))
}

// nextCursor is next_cursor for a list sorted by one key: the key of the
// last item served, nil when key is empty (the last page).
func nextCursor(list, key string) *string {
	if key == "" {
		return nil
	}
	s := encodeCursor(list, key)
	return &s
}

// cursorParam reads query parameter param as a cursor of list with n
// parts. It returns nil when the parameter is absent, and records a
// problem (and returns nil) when it is not such a cursor.
func cursorParam(c *gin.Context, probs *checklist.Problems, param, list string, n int) []string {
	s := c.Query(param)
	if s == "" {
		return nil
	}
	parts, ok := decodeCursor(list, s, n)
	if !ok {
		probs.Add(param, "invalid", "%s is not a cursor this list returned; start again without it", param)
		return nil
	}
	return parts
}

// decodeCursor returns the n parts of cursor s of list, and false for
// anything else.
func decodeCursor(list, s string, n int) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	parts := strings.SplitN(string(b), "|", n+2) // the last part may hold "|"
	if len(parts) != n+2 || parts[0] != cursorVersion || parts[1] != list {
		return nil, false
	}
	return parts[2:], true
}

// limitParam reads ?limit= by the one rule of every list; a bad value is
// recorded as a problem.
func limitParam(c *gin.Context, probs *checklist.Problems) int {
	s, ok := c.GetQuery("limit")
	if !ok {
		return defaultPageSize
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPageSize {
		probs.Add("limit", "range", "limit must be an integer from 1 to %d", maxPageSize)
		return defaultPageSize
	}
	return n
}

// pageParams reads ?limit= and ?cursor= of a list sorted by one key,
// returning the key to continue after.
func pageParams(c *gin.Context, list string) (after string, limit int, err error) {
	var probs checklist.Problems
	limit = limitParam(c, &probs)
	if parts := cursorParam(c, &probs, "cursor", list, 1); parts != nil {
		after = parts[0]
	}
	if len(probs) > 0 {
		return "", 0, queryError(probs)
	}
	return after, limit, nil
}

// queryError is the 400 problem of a query with probs.
func queryError(probs checklist.Problems) error {
	return &checklist.Error{Code: checklist.EBadRequest, Message: "the query is not valid", Fields: probs}
}
