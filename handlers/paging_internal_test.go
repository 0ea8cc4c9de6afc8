package handlers

import (
	"encoding/base64"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

func queryContext(query string) *gin.Context {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/v1/list?"+query, nil)
	return c
}

func TestCursorParam(t *testing.T) {
	t.Parallel()
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		cursor string
		want   []string // nil: absent or refused
		bad    bool
	}{
		{"OK", encodeCursor("inspections", "2026-05-12", "id-1"), []string{"2026-05-12", "id-1"}, false},
		{"OKKeyWithBar", encodeCursor("inspections", "2026-05-12", "a|b"), []string{"2026-05-12", "a|b"}, false},
		{"Absent", "", nil, false},
		{"ErrOtherList", encodeCursor("audit", "1", "id-1"), nil, true},
		{"ErrFromBeforeVersions", raw("inspections|2026-05-12|id-1"), nil, true},
		{"ErrOtherVersion", raw("2|inspections|2026-05-12|id-1"), nil, true},
		{"ErrTooFewParts", encodeCursor("inspections", "2026-05-12"), nil, true},
		{"ErrNotBase64", "!!!", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probs checklist.Problems
			got := cursorParam(queryContext("cursor="+tt.cursor), &probs, "cursor", "inspections", 2)
			if !slices.Equal(got, tt.want) {
				t.Errorf("parts %q, want %q", got, tt.want)
			}
			if bad := len(probs) > 0; bad != tt.bad || bad && probs[0].Field != "cursor" {
				t.Errorf("problems %+v, want bad=%v", probs, tt.bad)
			}
		})
	}
}

func TestNextCursorRoundTrip(t *testing.T) {
	t.Parallel()
	if nextCursor("users", "") != nil {
		t.Error("the last page has a next cursor")
	}
	c := nextCursor("users", "alice")
	after, _, err := pageParams(queryContext("cursor="+*c), "users")
	if err != nil || after != "alice" {
		t.Errorf("pageParams after %q, %v; want alice", after, err)
	}
	if _, _, err := pageParams(queryContext("cursor="+*c), "facilities"); checklist.ErrorCode(err) != checklist.EBadRequest {
		t.Errorf("a users cursor for facilities: %v, want bad_request", err)
	}
}

func TestLimitParam(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  int
		bad   bool
	}{
		{"", defaultPageSize, false},
		{"limit=1", 1, false},
		{"limit=200", 200, false},
		{"limit=0", defaultPageSize, true},
		{"limit=201", defaultPageSize, true},
		{"limit=-3", defaultPageSize, true},
		{"limit=ten", defaultPageSize, true},
		{"limit=", defaultPageSize, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var probs checklist.Problems
			got := limitParam(queryContext(tt.query), &probs)
			if got != tt.want || (len(probs) > 0) != tt.bad {
				t.Errorf("limit %d problems %+v, want %d bad=%v", got, probs, tt.want, tt.bad)
			}
		})
	}
}

func TestFiscalYearParam(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query         string
		required      int
		requiredBad   bool
		optional      int
		optionalBad   bool
		requiredField string
	}{
		{"fiscal_year=2026", 2026, false, 2026, false, ""},
		{"", 0, true, 0, false, "fiscal_year"},
		{"fiscal_year=", 0, true, 0, false, "fiscal_year"},
		{"fiscal_year=1999", 1999, true, 1999, true, "fiscal_year"},
		{"fiscal_year=twenty", 0, true, 0, true, "fiscal_year"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var req, opt checklist.Problems
			if got := fiscalYearParam(queryContext(tt.query), "fiscal_year", &req); got != tt.required || (len(req) > 0) != tt.requiredBad {
				t.Errorf("required: %d %+v, want %d bad=%v", got, req, tt.required, tt.requiredBad)
			}
			if len(req) > 0 && req[0].Field != tt.requiredField {
				t.Errorf("problem names %q, want %q", req[0].Field, tt.requiredField)
			}
			if got := optionalFiscalYearParam(queryContext(tt.query), "fiscal_year", &opt); got != tt.optional || (len(opt) > 0) != tt.optionalBad {
				t.Errorf("optional: %d %+v, want %d bad=%v", got, opt, tt.optional, tt.optionalBad)
			}
		})
	}
}
