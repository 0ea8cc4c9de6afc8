package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// A console (browser) session is a document of refresh_sessions, like a
// refresh-token family, with the role it was started with and kind
// "console"; its cookie's hash is a document of refresh_tokens, which the
// refresh endpoint never accepts (the handler hashes cookies and refresh
// tokens differently). RevokeSession and RevokeUserSessions end it like
// any other session.
type consoleSessionDoc struct {
	ID            string    `bson:"_id"`
	UserID        string    `bson:"user_id"`
	CreatedAt     time.Time `bson:"created_at"`
	Revoked       bool      `bson:"revoked"`
	RevokedAt     time.Time `bson:"revoked_at,omitempty"`
	Kind          string    `bson:"kind,omitempty"`
	Role          string    `bson:"role,omitempty"`
	PreviousVisit time.Time `bson:"previous_visit,omitempty"`
}

const consoleSessionKind = "console"

// StartBrowserSession records a console session and the hash of its
// cookie. It fills s.PreviousVisit with the start of the user's latest
// earlier console session.
func (db *DB) StartBrowserSession(ctx context.Context, s checklist.BrowserSession, cookieHash string) (_ checklist.BrowserSession, err error) {
	defer wrap(&err, "start browser session of user %s", s.UserID)
	now := db.now()
	if err := db.pruneExpiredTokens(ctx, s.UserID, now); err != nil {
		return s, err
	}
	var prev consoleSessionDoc
	err = db.db.Collection(colRefreshSessions).FindOne(ctx,
		bson.D{{Key: "user_id", Value: s.UserID}, {Key: "kind", Value: consoleSessionKind}},
		options.FindOne().SetSort(bson.D{{Key: "created_at", Value: -1}})).Decode(&prev)
	switch err := translate(err); checklist.ErrorCode(err) {
	case "":
		s.PreviousVisit = prev.CreatedAt.UTC()
	case checklist.ENotFound:
	default:
		return s, err
	}
	// The caller may date the session later than now (the user's
	// CredentialIssuedAt, in the second after an account change).
	if s.CreatedAt.Before(now) {
		s.CreatedAt = now
	}
	_, err = db.db.Collection(colRefreshSessions).InsertOne(ctx, consoleSessionDoc{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt, Kind: consoleSessionKind, Role: string(s.Role), PreviousVisit: s.PreviousVisit,
	})
	if err != nil {
		return s, translate(err)
	}
	return s, db.SaveRefreshToken(ctx, checklist.RefreshToken{Hash: cookieHash, Family: s.ID, UserID: s.UserID,
		IssuedAt: now, ExpiresAt: s.ExpiresAt})
}

// FindBrowserSession returns the console session whose cookie has hash,
// revoked or not, or EUnauthorized when there is none.
func (db *DB) FindBrowserSession(ctx context.Context, cookieHash string) (_ checklist.BrowserSession, err error) {
	defer wrap(&err, "find browser session")
	t, err := db.FindRefreshToken(ctx, cookieHash)
	if err != nil {
		return checklist.BrowserSession{}, checklist.Errorf(checklist.EUnauthorized, "no such session")
	}
	var d consoleSessionDoc
	err = translate(db.db.Collection(colRefreshSessions).FindOne(ctx, bson.D{{Key: "_id", Value: t.Family}}).Decode(&d))
	switch checklist.ErrorCode(err) {
	case "":
	case checklist.ENotFound:
		return checklist.BrowserSession{}, checklist.Errorf(checklist.EUnauthorized, "no such session")
	default:
		return checklist.BrowserSession{}, err
	}
	if d.Kind != consoleSessionKind {
		return checklist.BrowserSession{}, checklist.Errorf(checklist.EUnauthorized, "no such session")
	}
	return checklist.BrowserSession{ID: d.ID, UserID: d.UserID, Role: checklist.Role(d.Role), CreatedAt: d.CreatedAt.UTC(),
		ExpiresAt: t.ExpiresAt, Revoked: d.Revoked, PreviousVisit: d.PreviousVisit.UTC()}, nil
}
