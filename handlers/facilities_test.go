package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tenken/checklist"
)

// facilityBody is a facility as the API returns it.
type facilityBody struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name struct {
		JA string `json:"ja"`
		EN string `json:"en"`
	} `json:"name"`
	Kind       string `json:"kind"`
	Department string `json:"department"`
	Address    string `json:"address"`
	Active     bool   `json:"active"`
	Revision   int    `json:"revision"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
}

type facilityList struct {
	Items      []facilityBody `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func (l facilityList) codes() string {
	var s []string
	for _, f := range l.Items {
		s = append(s, f.Code)
	}
	return strings.Join(s, " ")
}

func TestFacilitiesAPI(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	var tama facilityBody

	t.Run("CreateOK", func(t *testing.T) {
		r := api.request("POST", "/v1/facilities", map[string]any{
			"code": "vt-tama", "kind": "vocational_training", "department": "産業労働局 雇用就業部",
			"name":    map[string]string{"ja": "城南職業能力開発センター", "en": "Jonan Vocational Skills Development Center"},
			"address": "東京都大田区",
		}, admin).wantStatus(t, http.StatusCreated)
		r.decode(t, &tama)
		if tama.Code != "VT-TAMA" || !tama.Active || tama.Revision != 1 || tama.Name.JA != "城南職業能力開発センター" ||
			r.Header.Get("Location") != "/v1/facilities/"+tama.ID {
			t.Fatalf("created %+v", tama)
		}
		if !strings.Contains(string(r.Body), "城南") {
			t.Fatalf("Japanese is escaped: %s", r.Body)
		}
	})
	for _, f := range []map[string]any{
		{"code": "LC-01", "kind": "labour_consultation", "name": map[string]string{"ja": "労働相談情報センター", "en": "Labour Consultation Center"}},
		{"code": "RS-01", "kind": "research", "name": map[string]string{"ja": "産業技術研究センター", "en": "Industrial Technology Research Institute"}, "active": false},
		{"code": "BS-01", "kind": "business_support", "name": map[string]string{"ja": "中小企業振興公社", "en": "SME Support Center"}},
	} {
		api.request("POST", "/v1/facilities", f, admin).wantStatus(t, http.StatusCreated)
	}
	list := func(t *testing.T, auth, query string) facilityList {
		t.Helper()
		var l facilityList
		api.request("GET", "/v1/facilities"+query, nil, auth).wantStatus(t, http.StatusOK).decode(t, &l)
		return l
	}
	t.Run("ListFilters", func(t *testing.T) {
		for _, tc := range []struct{ query, want string }{
			{"", "BS-01 LC-01 RS-01 VT-TAMA"},
			{"?active=true", "BS-01 LC-01 VT-TAMA"},
			{"?active=false", "RS-01"},
			{"?kind=research", "RS-01"},
			{"?q=" + url.QueryEscape("相談"), "LC-01"},
			{"?q=center&active=true", "BS-01 LC-01 VT-TAMA"},
			{"?q=" + url.QueryEscape("雇用就業"), "VT-TAMA"},
		} {
			if got := list(t, admin, tc.query).codes(); got != tc.want {
				t.Errorf("GET /v1/facilities%s = %q, want %q", tc.query, got, tc.want)
			}
		}
	})
	t.Run("ListPages", func(t *testing.T) {
		var codes []string
		query := "?limit=3"
		for query != "" {
			l := list(t, admin, query)
			for _, f := range l.Items {
				codes = append(codes, f.Code)
			}
			query = ""
			if l.NextCursor != nil {
				query = "?limit=3&cursor=" + *l.NextCursor
			}
		}
		if got := strings.Join(codes, " "); got != "BS-01 LC-01 RS-01 VT-TAMA" {
			t.Fatalf("pages gave %q", got)
		}
	})
	t.Run("InspectorSeesOwnOnly", func(t *testing.T) {
		insp := bearer(api.tokenFor(checklist.RoleInspector, tama.ID))
		if got := list(t, insp, "").codes(); got != "VT-TAMA" {
			t.Fatalf("inspector lists %q", got)
		}
		if got := list(t, insp, "?q=center").codes(); got != "VT-TAMA" {
			t.Fatalf("inspector search lists %q", got)
		}
		api.request("GET", "/v1/facilities/"+tama.ID, nil, insp).wantStatus(t, http.StatusOK)
		lc := list(t, admin, "?kind=labour_consultation").Items[0]
		p1 := api.request("GET", "/v1/facilities/"+lc.ID, nil, insp).problem(t, http.StatusNotFound, "not_found")
		p2 := api.request("GET", "/v1/facilities/does-not-exist", nil, insp).problem(t, http.StatusNotFound, "not_found")
		if strings.Contains(p1.Detail, lc.Code) || strings.Replace(p1.Detail, lc.ID, "X", 1) != strings.Replace(p2.Detail, "does-not-exist", "X", 1) {
			t.Fatalf("another facility answers differently from a missing one: %q vs %q", p1.Detail, p2.Detail)
		}
	})
	t.Run("UpdateOK", func(t *testing.T) {
		var got facilityBody
		api.request("PATCH", "/v1/facilities/"+tama.ID, map[string]any{
			"revision": 1, "name": map[string]string{"ja": "多摩職業能力開発センター", "en": "Tama Vocational Skills Development Center"},
		}, admin).wantStatus(t, http.StatusOK).decode(t, &got)
		if got.Revision != 2 || got.Name.EN != "Tama Vocational Skills Development Center" || got.Department != tama.Department || !got.Active {
			t.Fatalf("updated %+v", got)
		}
		tama = got
	})
	t.Run("DeactivateOK", func(t *testing.T) {
		api.request("PATCH", "/v1/facilities/"+tama.ID, map[string]any{"revision": 2, "active": false}, admin).
			wantStatus(t, http.StatusOK).decode(t, &tama)
		if tama.Active || tama.Revision != 3 {
			t.Fatalf("deactivated %+v", tama)
		}
		api.request("DELETE", "/v1/facilities/"+tama.ID, nil, admin).problem(t, http.StatusMethodNotAllowed, "method_not_allowed")
	})
	t.Run("ErrStaleRevision", func(t *testing.T) {
		p := api.request("PATCH", "/v1/facilities/"+tama.ID, map[string]any{"revision": 1, "active": true}, admin).
			problem(t, http.StatusConflict, "revision_conflict")
		b, _ := json.Marshal(p.Current)
		var cur facilityBody
		if err := json.Unmarshal(b, &cur); err != nil || cur.Revision != 3 || cur.Code != "VT-TAMA" {
			t.Fatalf("current = %s", b)
		}
	})

	name := map[string]string{"ja": "施設", "en": "Facility"}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               checklist.Code
		field              string
	}{
		{"ErrCreateBadJSON", "POST", "/v1/facilities", `{"code":"X1",`, 400, "bad_request", ""},
		{"ErrCreateUnknownField", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "research", "name": name, "id": "mine"}, 400, "bad_request", "id"},
		{"ErrCreateUnknownNameField", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "research", "name": map[string]string{"ja": "a", "en": "b", "fr": "c"}}, 400, "bad_request", "fr"}, // the decoder names unknown fields without their path
		{"ErrCreateWrongType", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "research", "name": name, "active": "yes"}, 400, "bad_request", "active"},
		{"ErrCreateNameNotObject", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "research", "name": "施設"}, 400, "bad_request", "name"},
		{"ErrCreateDuplicateCode", "POST", "/v1/facilities", map[string]any{"code": "lc-01", "kind": "research", "name": name}, 409, "conflict", "code"},
		{"ErrCreateMissingFields", "POST", "/v1/facilities", `{}`, 422, "invalid", "name.ja"},
		{"ErrCreateBadKind", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "zoo", "name": name}, 422, "invalid", "kind"},
		{"ErrCreateBadCode", "POST", "/v1/facilities", map[string]any{"code": "X 1", "kind": "research", "name": name}, 422, "invalid", "code"},
		{"ErrCreateNoEnglishName", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "research", "name": map[string]string{"ja": "施設"}}, 422, "invalid", "name.en"},
		{"ErrCreateTooLong", "POST", "/v1/facilities", map[string]any{"code": "X1", "kind": "research", "name": name, "address": strings.Repeat("住", 301)}, 422, "invalid", "address"},
		{"ErrGetNotFound", "GET", "/v1/facilities/nope", nil, 404, "not_found", ""},
		{"ErrUpdateNotFound", "PATCH", "/v1/facilities/nope", map[string]any{"revision": 1}, 404, "not_found", ""},
		{"ErrUpdateNoRevision", "PATCH", "/v1/facilities/" + tama.ID, map[string]any{"active": true}, 422, "invalid", "revision"},
		{"ErrUpdateToTakenCode", "PATCH", "/v1/facilities/" + tama.ID, map[string]any{"revision": 3, "code": "LC-01"}, 409, "conflict", "code"},
		{"ErrUpdateBadKind", "PATCH", "/v1/facilities/" + tama.ID, map[string]any{"revision": 3, "kind": "zoo"}, 422, "invalid", "kind"},
		{"ErrUpdateEmptyName", "PATCH", "/v1/facilities/" + tama.ID, map[string]any{"revision": 3, "name": map[string]string{"ja": "", "en": "x"}}, 422, "invalid", "name.ja"},
		{"ErrUpdateUnknownField", "PATCH", "/v1/facilities/" + tama.ID, map[string]any{"revision": 3, "deleted": true}, 400, "bad_request", "deleted"},
		{"ErrUpdateWrongType", "PATCH", "/v1/facilities/" + tama.ID, map[string]any{"revision": 3, "code": 7}, 400, "bad_request", "code"},
		{"ErrListBadActive", "GET", "/v1/facilities?active=maybe", nil, 400, "bad_request", "active"},
		{"ErrListBadKind", "GET", "/v1/facilities?kind=zoo", nil, 400, "bad_request", "kind"},
		{"ErrListLimitZero", "GET", "/v1/facilities?limit=0", nil, 400, "bad_request", "limit"},
		{"ErrListLimitTooBig", "GET", "/v1/facilities?limit=201", nil, 400, "bad_request", "limit"},
		{"ErrListLimitNotNumber", "GET", "/v1/facilities?limit=ten", nil, 400, "bad_request", "limit"},
		{"ErrListForeignCursor", "GET", "/v1/facilities?cursor=" + *nextCursorOf(t, api, admin, "/v1/users?limit=1"), nil, 400, "bad_request", "cursor"},
		{"ErrListGarbageCursor", "GET", "/v1/facilities?cursor=!!!", nil, 400, "bad_request", ""},
		{"ErrListLongQuery", "GET", "/v1/facilities?q=" + strings.Repeat("a", 101), nil, 400, "bad_request", "q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := api.state(t)
			p := api.request(tc.method, tc.path, tc.body, admin).problem(t, tc.status, tc.code)
			if tc.field != "" && !hasField(p.Errors, tc.field) {
				t.Fatalf("errors %+v do not name %s", p.Errors, tc.field)
			}
			if api.state(t) != before {
				t.Fatal("a refused request wrote to the database")
			}
		})
	}
}

// nextCursorOf returns the next_cursor of the list at path.
func nextCursorOf(t *testing.T, api *testAPI, auth, path string) *string {
	t.Helper()
	var l struct {
		NextCursor *string `json:"next_cursor"`
	}
	api.request("GET", path, nil, auth).wantStatus(t, http.StatusOK).decode(t, &l)
	if l.NextCursor == nil {
		t.Fatalf("%s has no next page", path)
	}
	return l.NextCursor
}
