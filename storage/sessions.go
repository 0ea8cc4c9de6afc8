package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
)

// A session is one login: the family of refresh tokens that follow each
// other by rotation. Three collections keep it:
//
//   - refresh_sessions: one document per session, with its revocation;
//   - refresh_tokens: one per issued token, keyed by the token's hash;
//   - refresh_uses: one per consumed token, keyed by the same hash.
//
// Consuming a token is the insert into refresh_uses. An insert with a
// unique key is the one write both MongoDB and the embedded server decide
// atomically, so of several requests presenting the same token exactly one
// wins; an update of a "used" flag would let several win on the embedded
// server, which applies updates by read-change-write.

type sessionDoc struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
	Revoked   bool      `bson:"revoked"`
	RevokedAt time.Time `bson:"revoked_at,omitempty"`
}

type refreshTokenDoc struct {
	Hash      string    `bson:"_id"`
	Session   string    `bson:"session"`
	UserID    string    `bson:"user_id"`
	IssuedAt  time.Time `bson:"issued_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

type refreshUseDoc struct {
	Hash      string    `bson:"_id"`
	Session   string    `bson:"session"`
	UserID    string    `bson:"user_id"`
	UsedAt    time.Time `bson:"used_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func (d refreshTokenDoc) token() checklist.RefreshToken {
	return checklist.RefreshToken{Hash: d.Hash, Family: d.Session, UserID: d.UserID,
		IssuedAt: d.IssuedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}
}

// errBadRefresh is the one answer for every refresh token that does not
// lead to a new one, so a caller learns nothing about why.
func errBadRefresh() error {
	return checklist.Errorf(checklist.EUnauthorized, "the refresh token is not valid; log in again")
}

// StartSession records the first refresh token of a new session (t.Family
// names it) and drops the user's expired tokens.
func (db *DB) StartSession(ctx context.Context, t checklist.RefreshToken) error {
	now := db.now()
	if err := db.pruneExpiredTokens(ctx, t.UserID, now); err != nil {
		return err
	}
	_, err := db.db.Collection(colRefreshSessions).InsertOne(ctx, sessionDoc{ID: t.Family, UserID: t.UserID, CreatedAt: now})
	if err != nil {
		return translate(err)
	}
	return db.SaveRefreshToken(ctx, t)
}

// SaveRefreshToken records a refresh token of an existing session.
func (db *DB) SaveRefreshToken(ctx context.Context, t checklist.RefreshToken) error {
	_, err := db.db.Collection(colRefreshTokens).InsertOne(ctx, refreshTokenDoc{
		Hash: t.Hash, Session: t.Family, UserID: t.UserID,
		IssuedAt: t.IssuedAt.Truncate(time.Millisecond), ExpiresAt: t.ExpiresAt.Truncate(time.Millisecond),
	})
	return translate(err)
}

// ConsumeRefreshToken uses up the refresh token with hash and returns it.
// It is EUnauthorized when no such token was issued, when its session is
// revoked, or when the token was used before, in which case its session is
// revoked too: a used token presented again means that two parties hold
// it. Whether the token has expired is for the caller to check against its
// clock. Of concurrent calls with the same hash exactly one succeeds.
func (db *DB) ConsumeRefreshToken(ctx context.Context, hash string) (checklist.RefreshToken, error) {
	t, err := db.FindRefreshToken(ctx, hash)
	if err != nil {
		return checklist.RefreshToken{}, err
	}
	var s sessionDoc
	if err := db.db.Collection(colRefreshSessions).FindOne(ctx, bson.D{{Key: "_id", Value: t.Family}}).Decode(&s); err != nil {
		if err := translate(err); checklist.ErrorCode(err) != checklist.ENotFound {
			return checklist.RefreshToken{}, err
		}
		return checklist.RefreshToken{}, errBadRefresh()
	}
	if s.Revoked {
		return checklist.RefreshToken{}, errBadRefresh()
	}
	_, err = db.db.Collection(colRefreshUses).InsertOne(ctx, refreshUseDoc{
		Hash: hash, Session: t.Family, UserID: t.UserID, UsedAt: db.now(), ExpiresAt: t.ExpiresAt,
	})
	switch err := translate(err); checklist.ErrorCode(err) {
	case "":
		return t, nil
	case checklist.EConflict:
		if err := db.RevokeSession(ctx, t.Family); err != nil {
			return checklist.RefreshToken{}, err
		}
		return checklist.RefreshToken{}, checklist.Errorf(checklist.EUnauthorized,
			"the refresh token was already used; the session is revoked, log in again")
	default:
		return checklist.RefreshToken{}, err
	}
}

// FindRefreshToken returns the refresh token with hash, used or not, or
// EUnauthorized when none was issued.
func (db *DB) FindRefreshToken(ctx context.Context, hash string) (checklist.RefreshToken, error) {
	var d refreshTokenDoc
	err := translate(db.db.Collection(colRefreshTokens).FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&d))
	switch checklist.ErrorCode(err) {
	case "":
		return d.token(), nil
	case checklist.ENotFound:
		return checklist.RefreshToken{}, errBadRefresh()
	}
	return checklist.RefreshToken{}, err
}

// RevokeSession ends the session family: none of its refresh tokens works
// any more. Revoking twice is harmless.
func (db *DB) RevokeSession(ctx context.Context, family string) error {
	_, err := db.db.Collection(colRefreshSessions).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: family}, {Key: "revoked", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}, {Key: "revoked_at", Value: db.now()}}}})
	return translate(err)
}

// RevokeUserSessions ends every session of the user.
func (db *DB) RevokeUserSessions(ctx context.Context, userID string) error {
	_, err := db.db.Collection(colRefreshSessions).UpdateMany(ctx,
		bson.D{{Key: "user_id", Value: userID}, {Key: "revoked", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}, {Key: "revoked_at", Value: db.now()}}}})
	return translate(err)
}

// pruneExpiredTokens deletes the user's refresh tokens that expired, and
// their use records after them (a use record must not go while its token
// could still be presented). The embedded server has no TTL indexes, so
// this runs at each login instead.
func (db *DB) pruneExpiredTokens(ctx context.Context, userID string, now time.Time) error {
	filter := bson.D{{Key: "user_id", Value: userID}, {Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now}}}}
	if _, err := db.db.Collection(colRefreshTokens).DeleteMany(ctx, filter); err != nil {
		return translate(err)
	}
	_, err := db.db.Collection(colRefreshUses).DeleteMany(ctx, filter)
	return translate(err)
}
