package handlers

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// respondJSON writes v as JSON with status. Unlike gin's c.JSON it does
// not escape "<", ">" and "&", so texts stay as written.
func respondJSON(c *gin.Context, status int, v any) {
	c.Render(status, jsonRender{v})
}

type jsonRender struct{ v any }

func (r jsonRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.v)
}

func (r jsonRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
}

// wireCurrent turns the domain copy a conflict carries (Error.Current)
// into its wire form, so a 409 shows the resource as a GET would.
func wireCurrent(v any) any {
	switch v := v.(type) {
	case checklist.User:
		return newUserJSON(v)
	case checklist.Facility:
		return newFacilityJSON(v)
	}
	return v
}

// Lists are paged by an opaque cursor: the sort key of the last item
// served, tagged with the list it belongs to and base64url-encoded.
// Clients pass next_cursor back as ?cursor= and must not build one.
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

// pageParams reads ?limit= (1..maxPageSize, default defaultPageSize) and
// ?cursor= of the list named list, returning the key to continue after.
func pageParams(c *gin.Context, list string) (after string, limit int, err error) {
	limit = defaultPageSize
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return "", 0, badQuery("limit", "range", "limit must be an integer from 1 to "+strconv.Itoa(maxPageSize))
		}
		limit = n
	}
	if s := c.Query("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		v, rest, _ := strings.Cut(string(b), "|")
		l, key, ok := strings.Cut(rest, "|")
		if err != nil || v != cursorVersion || l != list || !ok || key == "" {
			return "", 0, badQuery("cursor", "invalid", "cursor is not one this list returned")
		}
		after = key
	}
	return after, limit, nil
}

// nextCursor encodes the key of the last item served; nil when key is
// empty, the last page.
func nextCursor(list, key string) *string {
	if key == "" {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + "|" + list + "|" + key))
	return &s
}

// badQuery is a bad request naming a query parameter.
func badQuery(param, code, msg string) error {
	return &checklist.Error{Code: checklist.EBadRequest, Message: msg,
		Fields: []checklist.FieldError{{Field: param, Code: code, Message: msg}}}
}
