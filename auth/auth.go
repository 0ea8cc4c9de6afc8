// Package auth is who a caller is and whether their credential still
// holds: the Ed25519 keys that sign access tokens, argon2id password
// hashes, issuing and verifying access tokens, refresh-token secrets, the
// per-user check that ends credentials when an account changes, and user
// creation. It knows nothing of HTTP: handlers reads credentials from
// requests and calls it, and cmd calls it for keys and users. It reaches
// the database only through the small interfaces declared beside the
// functions that need them.
package auth

import (
	"slices"
	"time"

	"tenken/checklist"
)

// Defaults of the token settings.
const (
	DefaultIssuer     = "tenken"
	DefaultAudience   = "tenken-api"
	DefaultAccessTTL  = 10 * time.Minute
	DefaultRefreshTTL = 14 * 24 * time.Hour
)

// Principal is an authenticated caller.
type Principal struct {
	UserID     string
	Username   string
	Role       checklist.Role
	Facilities []string  // facility ids an inspector is bound to
	IssuedAt   time.Time // when the credential was issued (iat)
}

// CanAccessFacility reports whether p may read or write data of facility id:
// admins and reviewers see every facility, inspectors only their own.
func (p Principal) CanAccessFacility(id string) bool {
	return p.Role == checklist.RoleAdmin || p.Role == checklist.RoleReviewer || slices.Contains(p.Facilities, id)
}
