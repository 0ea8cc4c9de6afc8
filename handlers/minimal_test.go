package handlers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"
)

// TestPreferReturnMinimal: inspection writes sent with Prefer:
// return=minimal answer with the same status and ETag and only id,
// revision, status and updated_at; reads and other writes are unchanged.
func TestPreferReturnMinimal(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	minimal := "Prefer: return=minimal"
	keys := func(t *testing.T, r response) []string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	want := []string{"id", "revision", "status", "updated_at"}

	id := uuid.NewString()
	r := e.request("PUT", "/v1/inspections/"+id, e.createBody(e.own), e.inspector, minimal).wantStatus(t, http.StatusCreated)
	if got := keys(t, r); !slices.Equal(got, want) || r.Header.Get("Preference-Applied") != "return=minimal" || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("create: keys %v, headers %v", got, r.Header)
	}
	r = e.save(e.inspector, id, 1, map[string]any{"notes.n01": map[string]any{"value": "短く"}}, minimal).wantStatus(t, http.StatusOK)
	var v struct {
		Revision int64 `json:"revision"`
	}
	_ = json.Unmarshal(r.Body, &v)
	if got := keys(t, r); !slices.Equal(got, want) || v.Revision != 2 || r.Header.Get("ETag") != `"`+strconv.Itoa(2)+`"` {
		t.Fatalf("save: keys %v, body %s, ETag %s", got, r.Body, r.Header.Get("ETag"))
	}
	// The answer was saved all the same.
	if got := e.get(t, e.inspector, id); got.Answers["notes.n01"].Value != "短く" {
		t.Fatalf("stored %+v", got.Answers)
	}
	// Without the preference, and for reads, the whole inspection.
	r = e.save(e.inspector, id, 2, map[string]any{"notes.n01": map[string]any{"value": "長く"}}).wantStatus(t, http.StatusOK)
	if got := keys(t, r); slices.Equal(got, want) || r.Header.Get("Preference-Applied") != "" {
		t.Fatalf("save without the preference: keys %v", got)
	}
	r = e.request("GET", "/v1/inspections/"+id, nil, e.inspector, minimal).wantStatus(t, http.StatusOK)
	if got := keys(t, r); slices.Equal(got, want) {
		t.Fatalf("a read answered minimally: %v", got)
	}
}
