package handlers_test

import (
	"net/http"
	"testing"

	"tenken/checklist"
)

// TestConditionalRequests: every resource reads If-None-Match and If-Match
// by one rule (see handlers/conditional.go), shown here on an inspection
// through the real router.
func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own) // revision 1
	path := "/v1/inspections/" + id

	t.Run("IfNoneMatch", func(t *testing.T) {
		for _, tc := range []struct {
			header string
			status int
		}{
			{`"1"`, http.StatusNotModified},
			{`W/"1"`, http.StatusNotModified}, // weak comparison
			{`"0", "1"`, http.StatusNotModified},
			{`*`, http.StatusNotModified},
			{`"2"`, http.StatusOK},
			{`1`, http.StatusBadRequest},
			{`"1", *`, http.StatusBadRequest},
		} {
			r := e.request("GET", path, nil, e.inspector, "If-None-Match: "+tc.header).wantStatus(t, tc.status)
			switch tc.status {
			case http.StatusNotModified:
				if len(r.Body) != 0 || r.Header.Get("ETag") != `"1"` {
					t.Errorf("%s: 304 with body %q, ETag %q", tc.header, r.Body, r.Header.Get("ETag"))
				}
			case http.StatusBadRequest:
				p := r.problem(t, http.StatusBadRequest, checklist.EBadRequest)
				if len(p.Errors) != 1 || p.Errors[0].Field != "If-None-Match" || r.Header.Get("ETag") != "" {
					t.Errorf("%s: problem %+v, ETag %q; want one naming the header, no ETag", tc.header, p, r.Header.Get("ETag"))
				}
			}
		}
	})

	t.Run("IfMatch", func(t *testing.T) {
		answer := func(v string) map[string]any { return map[string]any{"notes.n01": map[string]any{"value": v}} }
		refused := func(t *testing.T, header string, status int, code checklist.Code) {
			t.Helper()
			before := e.stored(t, id).Revision
			e.save(e.inspector, id, before, answer("refused "+header), "If-Match: "+header).problem(t, status, code)
			if after := e.stored(t, id); after.Revision != before {
				t.Fatalf("If-Match %s: revision %d → %d, want nothing written", header, before, after.Revision)
			}
		}
		refused(t, `W/"1"`, http.StatusPreconditionFailed, checklist.EPrecondition) // strong comparison
		refused(t, `"2"`, http.StatusPreconditionFailed, checklist.EPrecondition)
		refused(t, `1`, http.StatusBadRequest, checklist.EBadRequest)
		refused(t, `"1" "2"`, http.StatusBadRequest, checklist.EBadRequest)
		e.save(e.inspector, id, 1, answer("a"), `If-Match: "7", "1"`).wantStatus(t, http.StatusOK)
		e.save(e.inspector, id, 2, answer("b"), `If-Match: *`).wantStatus(t, http.StatusOK)

		p := e.save(e.inspector, id, 3, answer("c"), `If-Match: "2"`).problem(t, http.StatusPreconditionFailed, checklist.EPrecondition)
		if cur, _ := p.Current.(map[string]any); cur == nil || cur["revision"] != float64(3) {
			t.Fatalf("412 current = %v, want the inspection at revision 3", p.Current)
		}
		// An inspector of another facility is told it does not exist,
		// whatever precondition they send.
		p = e.save(e.insp2, id, 3, answer("d"), `If-Match: "1"`).problem(t, http.StatusNotFound, checklist.ENotFound)
		if p.Current != nil {
			t.Fatalf("404 carries the inspection: %v", p.Current)
		}
	})
}
