package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"tenken/checklist"
)

// userBody is a user as the API returns it.
type userBody struct {
	ID          string   `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Role        string   `json:"role"`
	FacilityIDs []string `json:"facility_ids"`
	Disabled    bool     `json:"disabled"`
	Revision    int      `json:"revision"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

// state is every user (with password hash) and facility in the database,
// to show that a refused request wrote nothing.
func (a *testAPI) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	users, err := a.db.ListUsers(ctx, checklist.UserQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, u := range users.Items {
		_, h, err := a.db.FindCredentials(ctx, u.Username)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	facilities, err := a.db.ListFacilities(ctx, checklist.FacilityQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{users, hashes, facilities})
	return string(b)
}

func TestUsersAPI(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	fac := api.createFacility("VT-01")
	var created userBody

	t.Run("CreateOK", func(t *testing.T) {
		r := api.request("POST", "/v1/users", map[string]any{
			"username": "Tanaka.Hanako", "display_name": "田中 花子", "role": "inspector",
			"facility_ids": []string{fac}, "password": "a long enough password",
		}, admin).wantStatus(t, http.StatusCreated)
		r.decode(t, &created)
		if created.Username != "tanaka.hanako" || created.DisplayName != "田中 花子" || created.Revision != 1 ||
			len(created.FacilityIDs) != 1 || r.Header.Get("Location") != "/v1/users/"+created.ID {
			t.Fatalf("created %+v, Location %q", created, r.Header.Get("Location"))
		}
		if strings.Contains(strings.ToLower(string(r.Body)), "password") || strings.Contains(string(r.Body), "argon") {
			t.Fatalf("the response shows the password: %s", r.Body)
		}
		api.login("tanaka.hanako", "a long enough password")
	})
	t.Run("GetOK", func(t *testing.T) {
		var got userBody
		api.request("GET", "/v1/users/"+created.ID, nil, admin).wantStatus(t, http.StatusOK).decode(t, &got)
		if got.ID != created.ID || got.Username != created.Username || got.CreatedAt != created.CreatedAt || got.Revision != 1 {
			t.Fatalf("got %+v, want %+v", got, created)
		}
	})
	t.Run("ListPages", func(t *testing.T) {
		for _, n := range []string{"user-a", "user-b", "user-c"} {
			api.request("POST", "/v1/users", map[string]any{"username": n, "role": "reviewer", "password": "a long enough password"}, admin).
				wantStatus(t, http.StatusCreated)
		}
		var names []string
		path := "/v1/users?limit=2"
		for pages := 0; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("the cursor does not advance")
			}
			var page struct {
				Items      []userBody `json:"items"`
				NextCursor *string    `json:"next_cursor"`
			}
			api.request("GET", path, nil, admin).wantStatus(t, http.StatusOK).decode(t, &page)
			for _, u := range page.Items {
				names = append(names, u.Username)
			}
			path = ""
			if page.NextCursor != nil {
				path = "/v1/users?limit=2&cursor=" + *page.NextCursor
			}
		}
		// admin-N (tokenFor), tanaka.hanako, user-a..c
		if len(names) != 5 || names[1] != "tanaka.hanako" || names[4] != "user-c" {
			t.Fatalf("names = %v", names)
		}
		var reviewers struct {
			Items []userBody `json:"items"`
		}
		api.request("GET", "/v1/users?role=reviewer", nil, admin).wantStatus(t, http.StatusOK).decode(t, &reviewers)
		if len(reviewers.Items) != 3 {
			t.Fatalf("role=reviewer listed %d users", len(reviewers.Items))
		}
	})
	t.Run("UpdateOK", func(t *testing.T) {
		var got userBody
		api.request("PATCH", "/v1/users/"+created.ID, map[string]any{"revision": 1, "role": "reviewer", "display_name": "Hanako Tanaka"}, admin).
			wantStatus(t, http.StatusOK).decode(t, &got)
		if got.Role != "reviewer" || len(got.FacilityIDs) != 0 || got.Revision != 2 || got.DisplayName != "Hanako Tanaka" {
			t.Fatalf("updated %+v", got)
		}
		created = got
	})
	t.Run("DisableOK", func(t *testing.T) {
		api.request("PATCH", "/v1/users/"+created.ID, map[string]any{"revision": created.Revision, "disabled": true}, admin).
			wantStatus(t, http.StatusOK).decode(t, &created)
		api.request("POST", "/v1/auth/login", map[string]string{"username": created.Username, "password": "a long enough password"}).
			problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("ErrStaleRevision", func(t *testing.T) {
		before := api.state(t)
		p := api.request("PATCH", "/v1/users/"+created.ID, map[string]any{"revision": 1, "display_name": "x"}, admin).
			problem(t, http.StatusConflict, "revision_conflict")
		cur, _ := json.Marshal(p.Current)
		var current userBody
		if err := json.Unmarshal(cur, &current); err != nil || current.Revision != created.Revision || current.Username != created.Username {
			t.Fatalf("current = %s, want the server copy at revision %d", cur, created.Revision)
		}
		if api.state(t) != before {
			t.Fatal("a refused update wrote")
		}
	})

	me := api.newUser(checklist.RoleAdmin)
	meToken := bearer(api.login(me.Username, testPassword).AccessToken)
	other := api.newUser(checklist.RoleReviewer)
	for _, tc := range []struct {
		name, method, path string
		body               any
		auth               string
		status             int
		code               checklist.Code
		field              string
	}{
		{"ErrCreateBadJSON", "POST", "/v1/users", `{"username":`, admin, 400, "bad_request", ""},
		{"ErrCreateUnknownField", "POST", "/v1/users", `{"username":"x1x","role":"reviewer","password":"a long enough password","is_admin":true}`, admin, 400, "bad_request", "is_admin"},
		{"ErrCreateWrongType", "POST", "/v1/users", `{"username":"x1x","role":"reviewer","password":"a long enough password","facility_ids":"VT-01"}`, admin, 400, "bad_request", "facility_ids"},
		{"ErrCreateDuplicate", "POST", "/v1/users", map[string]any{"username": "USER-A", "role": "reviewer", "password": "a long enough password"}, admin, 409, "conflict", "username"},
		{"ErrCreateMissingRole", "POST", "/v1/users", map[string]any{"username": "x1x", "password": "a long enough password"}, admin, 422, "invalid", "role"},
		{"ErrCreateBadRole", "POST", "/v1/users", map[string]any{"username": "x1x", "role": "root", "password": "a long enough password"}, admin, 422, "invalid", "role"},
		{"ErrCreateBadUsername", "POST", "/v1/users", map[string]any{"username": "x y", "role": "reviewer", "password": "a long enough password"}, admin, 422, "invalid", "username"},
		{"ErrCreateShortPassword", "POST", "/v1/users", map[string]any{"username": "x1x", "role": "reviewer", "password": "short"}, admin, 422, "invalid", "password"},
		{"ErrCreatePasswordIsUsername", "POST", "/v1/users", map[string]any{"username": "longusername1", "role": "reviewer", "password": "LongUsername1"}, admin, 422, "invalid", "password"},
		{"ErrCreateInspectorWithoutFacility", "POST", "/v1/users", map[string]any{"username": "x1x", "role": "inspector", "password": "a long enough password"}, admin, 422, "invalid", "facility_ids"},
		{"ErrCreateUnknownFacility", "POST", "/v1/users", map[string]any{"username": "x1x", "role": "inspector", "facility_ids": []string{"no-such"}, "password": "a long enough password"}, admin, 422, "invalid", "facility_ids[0]"},
		{"ErrCreateReviewerWithFacility", "POST", "/v1/users", map[string]any{"username": "x1x", "role": "reviewer", "facility_ids": []string{fac}, "password": "a long enough password"}, admin, 422, "invalid", "facility_ids"},
		{"ErrGetNotFound", "GET", "/v1/users/no-such-user", nil, admin, 404, "not_found", ""},
		{"ErrUpdateNotFound", "PATCH", "/v1/users/no-such-user", map[string]any{"revision": 1}, admin, 404, "not_found", ""},
		{"ErrUpdateNoRevision", "PATCH", "/v1/users/" + other.ID, map[string]any{"display_name": "x"}, admin, 422, "invalid", "revision"},
		{"ErrUpdateUnknownField", "PATCH", "/v1/users/" + other.ID, map[string]any{"revision": 1, "username": "renamed"}, admin, 400, "bad_request", "username"},
		{"ErrUpdateWrongType", "PATCH", "/v1/users/" + other.ID, `{"revision":"1"}`, admin, 400, "bad_request", "revision"},
		{"ErrUpdateInspectorNoFacility", "PATCH", "/v1/users/" + other.ID, map[string]any{"revision": 1, "role": "inspector"}, admin, 422, "invalid", "facility_ids"},
		{"ErrUpdateUnknownFacility", "PATCH", "/v1/users/" + other.ID, map[string]any{"revision": 1, "role": "inspector", "facility_ids": []string{fac, "nope"}}, admin, 422, "invalid", "facility_ids[1]"},
		{"ErrDemoteSelf", "PATCH", "/v1/users/" + me.ID, map[string]any{"revision": 1, "role": "reviewer"}, meToken, 422, "invalid", "role"},
		{"ErrDisableSelf", "PATCH", "/v1/users/" + me.ID, map[string]any{"revision": 1, "disabled": true}, meToken, 422, "invalid", "disabled"},
		{"ErrResetShortPassword", "POST", "/v1/users/" + other.ID + "/password", map[string]any{"password": "short"}, admin, 422, "invalid", "password"},
		{"ErrResetUnknownField", "POST", "/v1/users/" + other.ID + "/password", map[string]any{"password": "a long enough password", "old": "x"}, admin, 400, "bad_request", "old"},
		{"ErrResetNotFound", "POST", "/v1/users/nobody/password", map[string]any{"password": "a long enough password"}, admin, 404, "not_found", ""},
		{"ErrListBadLimit", "GET", "/v1/users?limit=1000", nil, admin, 400, "bad_request", "limit"},
		{"ErrListBadCursor", "GET", "/v1/users?cursor=bm9wZQ", nil, admin, 400, "bad_request", "cursor"},
		{"ErrListBadRole", "GET", "/v1/users?role=root", nil, admin, 400, "bad_request", "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := api.state(t)
			p := api.request(tc.method, tc.path, tc.body, tc.auth).problem(t, tc.status, tc.code)
			if tc.field != "" && !hasField(p.Errors, tc.field) {
				t.Fatalf("errors %+v do not name %s", p.Errors, tc.field)
			}
			if api.state(t) != before {
				t.Fatal("a refused request wrote to the database")
			}
		})
	}
	t.Run("ErrCreateWrongContentType", func(t *testing.T) {
		before := api.state(t)
		api.request("POST", "/v1/users", []byte(`{"username":"x1x","role":"reviewer","password":"a long enough password"}`), admin, "Content-Type: text/plain").
			problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		api.request("POST", "/v1/users", `{"username":"`+strings.Repeat("x", 2<<20)+`"}`, admin).
			problem(t, http.StatusRequestEntityTooLarge, "payload_too_large")
		if api.state(t) != before {
			t.Fatal("a refused request wrote to the database")
		}
	})
}

// hasField reports whether errs names field.
func hasField(errs []checklist.FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}
