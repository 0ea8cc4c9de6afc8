package handlers_test

import (
	"net/http"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/handlers"
)

// TestReplayExpiresInNeverNegative: with access tokens shorter-lived than
// the refresh grace period, a replay late in the period returns a token
// that has expired; expires_in says 0 (the schema's minimum), not -1.
func TestReplayExpiresInNeverNegative(t *testing.T) {
	t.Parallel()
	api := newTestAPIWith(t, func(c *handlers.Config) { c.AccessTTL = 30 * time.Second })
	tk := api.login(api.newUser(checklist.RoleInspector).Username, testPassword)
	refresh := func() tokens {
		var got tokens
		api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.RefreshToken}).
			wantStatus(t, http.StatusOK).decode(t, &got)
		return got
	}
	first := refresh()
	api.clk.Advance(checklist.RefreshReuseGrace - time.Second)
	again := refresh()
	if again.RefreshToken != first.RefreshToken || again.ExpiresIn != 0 {
		t.Fatalf("replay: expires_in %d, same token %v; want 0 and the same pair", again.ExpiresIn, again.RefreshToken == first.RefreshToken)
	}
}
