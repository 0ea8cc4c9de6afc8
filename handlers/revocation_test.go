package handlers_test

import (
	"net/http"
	"testing"

	"tenken/checklist"
)

// TestAccountChangesTakeEffectAtOnce replays the sequences of issue 12
// item 1: each used to succeed with a token issued before the change.
// The change goes through this server, which therefore refuses the old
// tokens at once, even though each was used (and its user's state cached)
// just before.
func TestAccountChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	other := bearer(api.tokenFor(checklist.RoleAdmin))
	refresh := func(token string) response {
		return api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": token})
	}
	patch := func(token string, u checklist.User, change map[string]any) response {
		var cur userBody
		api.request("GET", "/v1/users/"+u.ID, nil, other).wantStatus(t, http.StatusOK).decode(t, &cur)
		change["revision"] = cur.Revision
		return api.request("PATCH", "/v1/users/"+u.ID, change, token)
	}
	// signIn logs u in and uses the token once, so the server holds u.
	signIn := func(u checklist.User) tokens {
		tk := api.login(u.Username, testPassword)
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).wantStatus(t, http.StatusOK)
		return tk
	}

	t.Run("ErrDisabledAdminReenablesSelf", func(t *testing.T) {
		u := api.newUser(checklist.RoleAdmin)
		tk := signIn(u)
		patch(other, u, map[string]any{"disabled": true}).wantStatus(t, http.StatusOK)
		patch(bearer(tk.AccessToken), u, map[string]any{"disabled": false}).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		if got := mustFindUser(t, api, u.ID); !got.Disabled {
			t.Fatal("the admin enabled themselves again")
		}
	})
	t.Run("ErrDemotedAdminPromotesSelf", func(t *testing.T) {
		u := api.newUser(checklist.RoleAdmin)
		tk := signIn(u)
		patch(other, u, map[string]any{"role": "reviewer"}).wantStatus(t, http.StatusOK)
		patch(bearer(tk.AccessToken), u, map[string]any{"role": "admin"}).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		if got := mustFindUser(t, api, u.ID); got.Role != checklist.RoleReviewer {
			t.Fatalf("role = %s", got.Role)
		}
	})
	t.Run("ErrDemotedAdminCreatesAdmin", func(t *testing.T) {
		u := api.newUser(checklist.RoleAdmin)
		tk := signIn(u)
		fac := api.createFacility("REVOKE-1")
		patch(other, u, map[string]any{"role": "inspector", "facility_ids": []string{fac}}).wantStatus(t, http.StatusOK)
		api.request("POST", "/v1/users", map[string]any{"username": "new-admin", "role": "admin", "password": testPassword},
			bearer(tk.AccessToken)).problem(t, http.StatusUnauthorized, "unauthorized")
		if _, _, err := api.db.FindCredentials(t.Context(), "new-admin"); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("the admin was created: %v", err)
		}
		// Signed in again, they are the inspector they now are.
		again := api.login(u.Username, testPassword)
		api.request("GET", "/v1/users", nil, bearer(again.AccessToken)).problem(t, http.StatusForbidden, "forbidden")
	})
	t.Run("ErrReenabledInspectorOldRefreshToken", func(t *testing.T) {
		u := api.newUser(checklist.RoleInspector)
		tk := signIn(u)
		patch(other, u, map[string]any{"disabled": true}).wantStatus(t, http.StatusOK)
		patch(other, u, map[string]any{"disabled": false}).wantStatus(t, http.StatusOK)
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).problem(t, http.StatusUnauthorized, "unauthorized")
		// A new login works at once, in the same second as the change.
		api.request("GET", "/v1/me", nil, bearer(api.login(u.Username, testPassword).AccessToken)).wantStatus(t, http.StatusOK)
	})
	t.Run("ErrFacilitiesChangeEndsSessions", func(t *testing.T) {
		u := api.newUser(checklist.RoleInspector)
		tk := signIn(u)
		patch(other, u, map[string]any{"facility_ids": []string{api.createFacility("REVOKE-2")}}).wantStatus(t, http.StatusOK)
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("ErrSelfChange", func(t *testing.T) {
		// With a current token too, nobody changes their own role,
		// facilities or disabled state; the display name is theirs.
		u := api.newUser(checklist.RoleAdmin)
		tk := bearer(signIn(u).AccessToken)
		p := patch(tk, u, map[string]any{"role": "reviewer"}).problem(t, http.StatusUnprocessableEntity, "invalid")
		if len(p.Errors) != 1 || p.Errors[0].Field != "role" || p.Errors[0].Code != "self" {
			t.Fatalf("problem %+v", p)
		}
		patch(tk, u, map[string]any{"disabled": true}).problem(t, http.StatusUnprocessableEntity, "invalid")
		patch(tk, u, map[string]any{"display_name": "Me"}).wantStatus(t, http.StatusOK)
		api.request("GET", "/v1/me", nil, tk).wantStatus(t, http.StatusOK)
	})
	t.Run("DisplayNameKeepsSessions", func(t *testing.T) {
		u := api.newUser(checklist.RoleInspector)
		tk := signIn(u)
		patch(other, u, map[string]any{"display_name": "Renamed"}).wantStatus(t, http.StatusOK)
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).wantStatus(t, http.StatusOK)
		refresh(tk.RefreshToken).wantStatus(t, http.StatusOK)
	})
}

func mustFindUser(t *testing.T, api *testAPI, id string) checklist.User {
	t.Helper()
	u, err := api.db.FindUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
