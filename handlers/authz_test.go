package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"tenken/checklist"
	"tenken/handlers"
)

// TestAuthorizationMatrix calls every endpoint of users, facilities and
// auth as admin, reviewer, inspector (bound to the "own" facility) and
// anonymous, on the caller's own and on other objects, and checks the
// status of each. An inspector gets 404 for a facility not theirs, as for
// one that does not exist, and 403 on every admin endpoint.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	ctx := context.Background()
	own := api.createFacility("OWN-1")
	other := api.createFacility("OTHER-1")

	type caller struct {
		auth   []string
		userID string
	}
	newCaller := func(role checklist.Role, facilities ...string) caller {
		u := api.newUser(role, facilities...)
		return caller{auth: []string{bearer(api.login(u.Username, testPassword).AccessToken)}, userID: u.ID}
	}
	callers := []struct {
		name string
		caller
	}{
		{"admin", newCaller(checklist.RoleAdmin)},
		{"reviewer", newCaller(checklist.RoleReviewer)},
		{"inspector", newCaller(checklist.RoleInspector, own)},
		{"anonymous", caller{}},
	}
	// target logs in for the auth rows; bystander is the "other" user.
	target := api.newUser(checklist.RoleReviewer)
	bystander := api.newUser(checklist.RoleInspector, other)

	var seq atomic.Int64
	unique := func(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }
	freshRefresh := func() any {
		return map[string]string{"refresh_token": api.login(target.Username, testPassword).RefreshToken}
	}
	facilityRev := func(id string) func(caller) any {
		return func(caller) any {
			f, err := api.db.FindFacility(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]any{"revision": f.Revision, "department": unique("dept ")}
		}
	}
	userRev := func(self bool) func(caller) any {
		return func(c caller) any {
			id := bystander.ID
			if self {
				id = c.userID
			}
			if id == "" {
				return map[string]any{"revision": 1, "display_name": "x"}
			}
			u, err := api.db.FindUser(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]any{"revision": u.Revision, "display_name": unique("name ")}
		}
	}
	rows := []struct {
		method, path string // {own}, {other}: facilities; {self}: the caller; {user}: bystander
		body         func(caller) any
		want         [4]int // admin, reviewer, inspector, anonymous
	}{
		{"POST", "/v1/auth/login", func(caller) any { return map[string]string{"username": target.Username, "password": testPassword} }, [4]int{200, 200, 200, 200}},
		{"POST", "/v1/auth/refresh", func(caller) any { return freshRefresh() }, [4]int{200, 200, 200, 200}},
		{"POST", "/v1/auth/logout", func(caller) any { return freshRefresh() }, [4]int{204, 204, 204, 204}},
		{"GET", "/v1/me", nil, [4]int{200, 200, 200, 401}},

		{"GET", "/v1/facilities", nil, [4]int{200, 200, 200, 401}},
		{"GET", "/v1/facilities/{own}", nil, [4]int{200, 200, 200, 401}},
		{"GET", "/v1/facilities/{other}", nil, [4]int{200, 200, 404, 401}},
		{"POST", "/v1/facilities", func(caller) any {
			return map[string]any{"code": unique("NEW-"), "kind": "public_hall", "name": map[string]string{"ja": "新施設", "en": "New"}}
		}, [4]int{201, 403, 403, 401}},
		{"PATCH", "/v1/facilities/{own}", facilityRev(own), [4]int{200, 403, 403, 401}},
		{"PATCH", "/v1/facilities/{other}", facilityRev(other), [4]int{200, 403, 403, 401}},

		{"GET", "/v1/users", nil, [4]int{200, 403, 403, 401}},
		{"POST", "/v1/users", func(caller) any {
			return map[string]any{"username": unique("new-user-"), "role": "reviewer", "password": "a long enough password"}
		}, [4]int{201, 403, 403, 401}},
		{"GET", "/v1/users/{self}", nil, [4]int{200, 403, 403, 401}},
		{"GET", "/v1/users/{user}", nil, [4]int{200, 403, 403, 401}},
		{"PATCH", "/v1/users/{self}", userRev(true), [4]int{200, 403, 403, 401}},
		{"PATCH", "/v1/users/{user}", userRev(false), [4]int{200, 403, 403, 401}},
		{"POST", "/v1/users/{user}/password", func(caller) any { return map[string]string{"password": "another long password"} }, [4]int{204, 403, 403, 401}},
		{"POST", "/v1/users/{self}/password", func(caller) any { return map[string]string{"password": "another long password"} }, [4]int{204, 403, 403, 401}},
	}

	covered := map[string]bool{}
	for _, row := range rows {
		covered[row.method+" "+strings.NewReplacer("{own}", "{id}", "{other}", "{id}", "{self}", "{id}", "{user}", "{id}").Replace(row.path)] = true
		for i, c := range callers {
			t.Run(row.method+" "+row.path+" as "+c.name, func(t *testing.T) {
				self := c.userID
				if self == "" {
					self = target.ID
				}
				path := strings.NewReplacer("{own}", own, "{other}", other, "{self}", self, "{user}", bystander.ID).Replace(row.path)
				var body any
				if row.body != nil {
					body = row.body(c.caller)
				}
				r := api.request(row.method, path, body, c.auth...)
				if r.StatusCode != row.want[i] {
					t.Fatalf("status %d, want %d; body: %s", r.StatusCode, row.want[i], r.Body)
				}
			})
		}
	}

	// Every route of these features has its row: a route without one is
	// an authorization decision nobody checked.
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Routes() {
		path := ginParam.ReplaceAllString(r.Path, "{id}")
		for _, prefix := range []string{"/v1/auth/", "/v1/me", "/v1/users", "/v1/facilities"} {
			if strings.HasPrefix(path, prefix) && !covered[r.Method+" "+path] {
				t.Errorf("%s %s has no row in the authorization matrix", r.Method, r.Path)
			}
		}
	}
}
