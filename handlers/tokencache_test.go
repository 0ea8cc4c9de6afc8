package handlers_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/handlers"
)

// TestVerifiedTokenCache checks that remembering verified access tokens
// accepts nothing verification would refuse: an expired token, and a
// forged payload carrying the signature of a token already remembered.
func TestVerifiedTokenCache(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.tokenFor(checklist.RoleInspector)
	me := func(tok string) int { return api.request("GET", "/v1/me", nil, bearer(tok)).StatusCode }

	if got := me(token); got != http.StatusOK {
		t.Fatalf("fresh token: %d", got)
	}
	t.Run("ErrForgedPayloadWithCachedSignature", func(t *testing.T) {
		parts := strings.Split(token, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		forged := strings.Replace(string(payload), `"role":"inspector"`, `"role":"admin"`, 1)
		if forged == string(payload) {
			t.Fatalf("no role claim in %s", payload)
		}
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
		if got := me(strings.Join(parts, ".")); got != http.StatusUnauthorized {
			t.Fatalf("forged token: %d, want 401", got)
		}
	})
	t.Run("OKAfterCacheLifetime", func(t *testing.T) {
		api.clk.Advance(2 * time.Minute) // past the cache, within the token's life
		if got := me(token); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		if got := me(token); got != http.StatusOK { // remembered again
			t.Fatalf("status %d", got)
		}
		api.clk.Advance(10 * time.Minute) // past exp and the leeway
		if got := me(token); got != http.StatusUnauthorized {
			t.Fatalf("expired token: %d, want 401", got)
		}
	})
	t.Run("ErrExpiredWithinCacheLifetime", func(t *testing.T) {
		// A token living less than the cache remembers is refused at
		// its expiry (plus the verifier's leeway), not the cache's.
		short := newTestAPIWith(t, func(c *handlers.Config) { c.AccessTTL = 20 * time.Second })
		tok := short.tokenFor(checklist.RoleReviewer)
		short.request("GET", "/v1/me", nil, bearer(tok)).wantStatus(t, http.StatusOK)
		short.clk.Advance(55 * time.Second)
		short.request("GET", "/v1/me", nil, bearer(tok)).wantStatus(t, http.StatusUnauthorized)
	})
}
