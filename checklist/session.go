package checklist

import "time"

// RefreshToken is the stored form of a refresh token: only its SHA-256
// hash is kept, so a copy of the database does not hand out sessions.
//
// Every login starts a family; each refresh consumes the presented token
// and issues the next one in the same family. A token presented a second
// time means two parties hold it, so the whole family is revoked.
type RefreshToken struct {
	Hash      string // hex SHA-256 of the token
	Family    string // the login session this token belongs to
	UserID    string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Expired reports whether t can no longer be used at now.
func (t RefreshToken) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }
