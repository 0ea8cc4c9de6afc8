package checklist

import "time"

// RefreshToken is the stored form of a refresh token: only its SHA-256
// hash is kept, so a copy of the database does not hand out sessions.
//
// Every login starts a family; each refresh consumes the presented token
// and issues the next one in the same family. A token presented a second
// time means two parties hold it, so the whole family is revoked, unless
// it is a retry within RefreshReuseGrace (see RefreshUse).
type RefreshToken struct {
	Hash      string // hex SHA-256 of the token
	Family    string // the login session this token belongs to
	UserID    string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Expired reports whether t can no longer be used at now.
func (t RefreshToken) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// MaxSessionsPerUser bounds the live sessions (logins) of one user: a new
// login beyond it ends the oldest. Twenty covers a person's tablets,
// desktops and browsers with room to spare; a script that logs in again
// and again instead of refreshing cannot pile up sessions.
const MaxSessionsPerUser = 20

// RefreshReuseGrace is how long after a refresh token was consumed the
// same token may be presented again and get the pair that consumption
// issued, instead of revoking the session.
//
// It exists for the lost response: a tablet on a poor network sends its
// refresh, the server rotates, the answer never arrives, and the tablet
// retries with the token it still holds. 60 s covers a client's request
// timeout (typically 30 s) plus a retry or two with backoff; a client that
// has heard nothing for longer has normally given up and will be back
// much later, by which time a second presentation is far more likely a
// copy of the token than a retry. The window is also all a thief gains:
// within it, whoever holds the old token gets the same successor as the
// legitimate client (nothing new), and outside it reuse detection is
// exactly as before. Amazon Cognito's RetryGracePeriodSeconds for rotating
// refresh tokens, made for the same client retries, is capped at 60 s too.
const RefreshReuseGrace = 60 * time.Second

// RefreshUse is one consumption of a refresh token: what it was and what
// it issued. It is recorded once, when the token is used up, and is all a
// retry of the same token needs to receive the same pair again.
//
// The successor refresh token is never stored in clear: it is derived
// from the consumed token (which only its holders know; the database has
// its hash) and Grant, a random secret kept here. A copy of the database
// therefore yields no token, and a holder of the old token without the
// database cannot compute the successor either. The access token is
// minted again from IssuedAt and AccessID (its iat and jti); Ed25519
// signatures are deterministic, so with the same key and claims it is
// the very same token.
type RefreshUse struct {
	Token    RefreshToken // the consumed token
	UsedAt   time.Time    // when it was consumed (the iat of the access token, to the second)
	Grant    string       // random secret from which, with the token, the successor is derived
	AccessID string       // jti of the access token issued
	Next     RefreshToken // the successor, by hash
}

// Replayable reports whether the consumed token, presented again at now,
// may be answered with the pair this use issued: within RefreshReuseGrace,
// and only for a use that recorded what it issued (uses recorded before
// the grace period existed did not).
func (u RefreshUse) Replayable(now time.Time) bool {
	return u.Grant != "" && u.Next.Hash != "" && now.Before(u.UsedAt.Add(RefreshReuseGrace))
}
