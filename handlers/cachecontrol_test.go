package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEveryAPIResponseSaysHowToCache: each /v1 response carries a
// Cache-Control that keeps it out of shared caches: private, or no-store
// for what must not be kept at all.
func TestEveryAPIResponseSaysHowToCache(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	for _, tc := range []struct {
		path, auth string
	}{
		{"/v1/me", e.admin},
		{"/v1/users", e.admin},
		{"/v1/users/" + e.inspectorID, e.admin},
		{"/v1/facilities", e.inspector},
		{"/v1/facilities/" + e.own, e.inspector},
		{"/v1/checklists", e.reviewer},
		{"/v1/checklists/" + testChecklistID, e.reviewer},
		{"/v1/checklists/" + testChecklistID + "/versions", e.inspector},
		{"/v1/checklists/" + testChecklistID + "/versions/1", e.inspector},
		{"/v1/checklists/" + testChecklistID + "/versions/1/diff/1", e.inspector},
		{"/v1/checklists/applicability", e.reviewer},
		{"/v1/checklists/manifest", e.inspector},
		{"/v1/inspections/" + id, e.inspector},
		{"/v1/actions", e.inspector},
		{"/v1/good-practices", e.inspector},
		{"/v1/users", e.inspector}, // a refusal too
		{"/v1/me", ""},             // and an unauthenticated one
	} {
		headers := []string{}
		if tc.auth != "" {
			headers = append(headers, tc.auth)
		}
		r := e.request("GET", tc.path, nil, headers...)
		cc := r.Header.Get("Cache-Control")
		if !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store") {
			t.Errorf("GET %s (%d): Cache-Control %q", tc.path, r.StatusCode, cc)
		}
		if r.StatusCode >= http.StatusInternalServerError {
			t.Errorf("GET %s: %d", tc.path, r.StatusCode)
		}
	}
}
