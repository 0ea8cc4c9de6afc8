package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
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
//
// The cache is a bounded LRU: when full, the token used least lately is
// verified again on its next use, and the tokens in use stay. Each entry
// carries its own deadline, read on the injected clock, because a token's
// deadline depends on its exp.

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

// Verify checks an access token (see verify), answering from the cache of
// tokens verified lately when it can. The error says why, for the logs
// only.
func (tk *Tokens) Verify(raw string) (Principal, error) {
	now := tk.now()
	if e, ok := tk.verified.Get(raw); ok {
		if now.Before(e.until) {
			return e.principal, nil
		}
		tk.verified.Remove(raw)
	}
	p, err := tk.verify(raw)
	if err != nil {
		return Principal{}, err
	}
	until := now.Add(tokenCacheTTL)
	if exp, ok := tokenExpiry(raw); ok && exp.Add(clockLeeway).Before(until) {
		until = exp.Add(clockLeeway)
	}
	tk.verified.Add(raw, verifiedToken{p, until})
	return p, nil
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
