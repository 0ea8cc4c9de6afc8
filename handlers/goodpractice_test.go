package handlers_test

import (
	"net/http"
	"testing"

	"tenken/checklist"
)

// TestGoodPracticePhotos: a good practice shows other facilities the
// photos of its item, and those photos only: another photo of the same
// inspection stays with its facility.
func TestGoodPracticePhotos(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	type upload struct {
		SHA256 string `json:"sha256"`
		URL    string `json:"url"`
	}
	var shown, other upload
	e.upload(e.inspector, id, "signage.entrance", pngBytes(t, 21), "image/png").wantStatus(t, http.StatusCreated).decode(t, &shown)
	e.upload(e.inspector, id, "flyers.rack", pngBytes(t, 22), "image/png").wantStatus(t, http.StatusCreated).decode(t, &other)
	rev := e.stored(t, id).Revision
	e.save(e.inspector, id, rev, map[string]any{
		"signage.entrance": map[string]any{"value": "no", "comment": "案内が古い", "photos": []string{shown.SHA256}},
		"flyers.rack":      map[string]any{"value": "yes", "photos": []string{other.SHA256}},
	}).wantStatus(t, http.StatusOK)
	e.act(e.inspector, id, "submit", nil).wantStatus(t, http.StatusOK)

	// Before it is a good practice, another facility sees nothing.
	e.request("GET", shown.URL, nil, e.insp2).problem(t, http.StatusNotFound, checklist.ENotFound)

	var a actionView
	e.request("POST", "/v1/actions", map[string]any{"title": "案内表示を一新", "facility_id": e.own, "item_key": "signage.entrance",
		"target_fiscal_year": 2026, "source_inspection_id": id}, e.reviewer).wantStatus(t, http.StatusCreated).decode(t, &a)
	e.request("POST", "/v1/actions/"+a.ID+"/good-practice", map[string]any{"revision": a.Revision, "good_practice": true, "note": "多言語の案内"},
		e.reviewer).wantStatus(t, http.StatusOK)

	var list struct {
		Items []struct {
			Photos []upload `json:"photos"`
		} `json:"items"`
	}
	e.request("GET", "/v1/good-practices", nil, e.insp2).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || len(list.Items[0].Photos) != 1 || list.Items[0].Photos[0].SHA256 != shown.SHA256 {
		t.Fatalf("good practices %+v, want the one photo %s", list.Items, shown.SHA256)
	}
	e.request("GET", list.Items[0].Photos[0].URL, nil, e.insp2).wantStatus(t, http.StatusOK)
	e.request("GET", other.URL, nil, e.insp2).problem(t, http.StatusNotFound, checklist.ENotFound)
}
