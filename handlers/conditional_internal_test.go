package handlers

import (
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// TestParseCondition: the one reading of If-Match and If-None-Match.
func TestParseCondition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header       string
		bad          bool
		weakMatch    bool // If-None-Match against "abc"
		sent, anyTag bool
	}{
		{header: ""},
		{header: "  ", sent: false},
		{header: `"abc"`, sent: true, weakMatch: true},
		{header: `W/"abc"`, sent: true, weakMatch: true},
		{header: `"x", "abc"`, sent: true, weakMatch: true},
		{header: `"x",W/"abc"`, sent: true, weakMatch: true},
		{header: `"x", , "abc",`, sent: true, weakMatch: true}, // empty list elements are allowed
		{header: `"a,bc"`, sent: true},                         // a comma inside a tag is part of it
		{header: `"abcd"`, sent: true},
		{header: `""`, sent: true},
		{header: "*", sent: true, anyTag: true, weakMatch: true},
		{header: " * ", sent: true, anyTag: true, weakMatch: true},
		{header: `abc`, bad: true},
		{header: `"abc`, bad: true},
		{header: `"abc" "x"`, bad: true},
		{header: `w/"abc"`, bad: true},
		{header: `"a b"`, bad: true},
		{header: `"abc", *`, bad: true},
		{header: `,`, bad: true},
	} {
		cond, err := parseCondition("If-None-Match", tc.header)
		if tc.bad {
			if checklist.ErrorCode(err) != checklist.EBadRequest {
				t.Errorf("%q: %v, want a bad request", tc.header, err)
			}
			continue
		}
		if err != nil || cond.sent != tc.sent || cond.any != tc.anyTag || cond.matchesWeakly(`"abc"`) != tc.weakMatch {
			t.Errorf("%q: %+v, %v; want sent %v, any %v, weak match %v", tc.header, cond, err, tc.sent, tc.anyTag, tc.weakMatch)
		}
	}
}

// TestIfMatchRevisions: If-Match compares strongly, so only strong tags
// in the form the API sends name revisions.
func TestIfMatchRevisions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		suffix string
		want   []int64 // nil: no precondition
		sent   bool
		bad    bool
	}{
		{header: ""},
		{header: "*", sent: true},
		{header: `"3"`, want: []int64{3}, sent: true},
		{header: `"3", "5"`, want: []int64{3, 5}, sent: true},
		{header: `W/"3"`, want: []int64{}, sent: true},
		{header: `"r3"`, want: []int64{}, sent: true},
		{header: `"03"`, want: []int64{}, sent: true},
		{header: `"0"`, want: []int64{}, sent: true},
		{header: `"3.yaml"`, want: []int64{}, sent: true},
		{header: `"3.yaml"`, suffix: ".yaml", want: []int64{3}, sent: true},
		{header: `"3"`, suffix: ".yaml", want: []int64{3}, sent: true},
		{header: `3`, bad: true},
	} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("PATCH", "/", nil)
		if tc.header != "" {
			c.Request.Header.Set("If-Match", tc.header)
		}
		pre, sent, err := ifMatchRevisions(c, tc.suffix)
		if tc.bad {
			if checklist.ErrorCode(err) != checklist.EBadRequest {
				t.Errorf("%q: %v, want a bad request", tc.header, err)
			}
			continue
		}
		if err != nil || sent != tc.sent || (pre.Revisions == nil) != (tc.want == nil) || !slices.Equal(pre.Revisions, tc.want) {
			t.Errorf("%q (suffix %q): %v, sent %v, %v; want %v, sent %v", tc.header, tc.suffix, pre.Revisions, sent, err, tc.want, tc.sent)
		}
	}
}
