package handlers

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// Verifying an access token's Ed25519 signature costs some 50 µs of CPU,
// more than the rest of serving a cached checklist version; tablets send
// the same token with every request for its whole life. So a token that
// passed verification is remembered, by its exact text, for a short while.
//
// This changes nothing about what is accepted: access tokens are decided
// by the token alone (no revocation list), the remembered answer expires
// no later than the token itself would (exp plus the same leeway verify
// allows), and only a byte-for-byte identical token hits. Keying by the
// signature alone would not do: a forged header or payload glued to a
// real signature would hit.

const (
	// tokenCacheTTL bounds how long a verification is trusted without
	// being repeated.
	tokenCacheTTL = time.Minute
	// tokenCacheMax bounds memory (~1 KB per entry): far more than the
	// tablets and desks of one deployment use at once.
	tokenCacheMax = 10_000
)

type verifiedToken struct {
	principal Principal
	until     time.Time
}

type tokenCache struct {
	mu      sync.RWMutex
	entries map[string]verifiedToken
}

func newTokenCache() *tokenCache { return &tokenCache{entries: map[string]verifiedToken{}} }

// verifyAccessToken is tokens.verify with the cache in front.
func (s *Server) verifyAccessToken(raw string) (Principal, error) {
	now := s.now()
	s.tokenCache.mu.RLock()
	e, ok := s.tokenCache.entries[raw]
	s.tokenCache.mu.RUnlock()
	if ok && now.Before(e.until) {
		return e.principal, nil
	}
	p, err := s.tokens.verify(raw)
	if err != nil {
		return Principal{}, err
	}
	until := now.Add(tokenCacheTTL)
	if exp, ok := tokenExpiry(raw); ok && exp.Add(clockLeeway).Before(until) {
		until = exp.Add(clockLeeway)
	}
	s.tokenCache.add(raw, verifiedToken{p, until}, now)
	return p, nil
}

func (tc *tokenCache) add(raw string, v verifiedToken, now time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.entries) >= tokenCacheMax {
		for k, e := range tc.entries {
			if !now.Before(e.until) {
				delete(tc.entries, k)
			}
		}
		if len(tc.entries) >= tokenCacheMax {
			clear(tc.entries)
		}
	}
	tc.entries[raw] = v
}

// tokenExpiry reads the exp claim of a token that verify accepted.
func tokenExpiry(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	sec := int64(*claims.Exp)
	return time.Unix(sec, 0), true
}
