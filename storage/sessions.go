package storage

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
// server, which applies updates by read-change-write. The use document
// also records what the consumption issued, so that the losers, and a
// client retrying within checklist.RefreshReuseGrace because the answer
// was lost, get that same pair instead of a revoked session: nothing is
// decided by a second write.

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

	// What the use issued, for a retry within the grace period
	// (checklist.RefreshUse): never a token, only the grant the successor
	// is derived from, the access token's jti, and the successor's hash.
	// Uses recorded before the grace period have none of these.
	Grant         string    `bson:"grant,omitempty"`
	AccessID      string    `bson:"access_id,omitempty"`
	Next          string    `bson:"next,omitempty"`
	NextIssuedAt  time.Time `bson:"next_issued_at,omitempty"`
	NextExpiresAt time.Time `bson:"next_expires_at,omitempty"`
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
// names it) and tidies the user's sessions first: expired tokens and the
// sessions left without any are dropped, as are revoked sessions, and the
// oldest live sessions are revoked so that with this one the user has at
// most checklist.MaxSessionsPerUser.
func (db *DB) StartSession(ctx context.Context, t checklist.RefreshToken) (err error) {
	defer wrap(&err, "start session of user %s", t.UserID)
	now := db.now()
	if err := db.pruneExpiredTokens(ctx, t.UserID, now); err != nil {
		return err
	}
	if err := db.pruneSessions(ctx, t.UserID, now); err != nil {
		return err
	}
	if err := db.boundSessions(ctx, t.UserID, checklist.MaxSessionsPerUser-1); err != nil {
		return err
	}
	_, err = db.db.Collection(colRefreshSessions).InsertOne(ctx, sessionDoc{ID: t.Family, UserID: t.UserID, CreatedAt: now})
	if err != nil {
		return translate(err)
	}
	return db.SaveRefreshToken(ctx, t)
}

// SaveRefreshToken records a refresh token of an existing session.
func (db *DB) SaveRefreshToken(ctx context.Context, t checklist.RefreshToken) (err error) {
	defer wrap(&err, "save refresh token of user %s", t.UserID)
	_, err = db.db.Collection(colRefreshTokens).InsertOne(ctx, refreshTokenDoc{
		Hash: t.Hash, Session: t.Family, UserID: t.UserID,
		IssuedAt: t.IssuedAt.Truncate(time.Millisecond), ExpiresAt: t.ExpiresAt.Truncate(time.Millisecond),
	})
	return translate(err)
}

// ConsumeRefreshToken uses up the refresh token u.Token (as
// FindRefreshToken returned it), records u as what the consumption issued
// and saves the successor u.Next. The caller checks expiry and the user
// before: a recorded use means a pair was issued.
//
// It returns the use that stands and whether this call replays it:
//
//   - the token's first consumption: u itself, false;
//   - the token was consumed before, less than RefreshReuseGrace before
//     u.UsedAt, and the successor that consumption issued is still unused:
//     that earlier use, true. The caller answers with the same pair: the
//     client retries because the first answer was lost.
//
// It is EUnauthorized when the session is revoked, and when the token was
// used before and cannot be replayed, in which case its session is revoked
// too: a used token presented again outside the grace period, or after its
// successor was used, means that two parties hold it. Of concurrent calls
// with the same token exactly one consumes it (a unique insert, atomic on
// MongoDB and the embedded server alike); the others replay its use.
func (db *DB) ConsumeRefreshToken(ctx context.Context, u checklist.RefreshUse) (_ checklist.RefreshUse, _ bool, err error) {
	defer wrap(&err, "consume refresh token")
	t := u.Token
	var s sessionDoc
	if err := db.db.Collection(colRefreshSessions).FindOne(ctx, bson.D{{Key: "_id", Value: t.Family}}).Decode(&s); err != nil {
		if err := translate(err); !errors.Is(err, checklist.ENotFound) {
			return checklist.RefreshUse{}, false, err
		}
		return checklist.RefreshUse{}, false, errBadRefresh()
	}
	if s.Revoked {
		return checklist.RefreshUse{}, false, errBadRefresh()
	}
	// Stored times have millisecond precision: return what a replay will read.
	u.UsedAt = u.UsedAt.UTC().Truncate(time.Millisecond)
	u.Next.IssuedAt = u.Next.IssuedAt.UTC().Truncate(time.Millisecond)
	u.Next.ExpiresAt = u.Next.ExpiresAt.UTC().Truncate(time.Millisecond)
	_, err = db.db.Collection(colRefreshUses).InsertOne(ctx, refreshUseDoc{
		Hash: t.Hash, Session: t.Family, UserID: t.UserID, UsedAt: u.UsedAt, ExpiresAt: t.ExpiresAt,
		Grant: u.Grant, AccessID: u.AccessID,
		Next: u.Next.Hash, NextIssuedAt: u.Next.IssuedAt, NextExpiresAt: u.Next.ExpiresAt,
	})
	switch err := translate(err); checklist.ErrorCode(err) {
	case "":
		if err := db.saveSuccessor(ctx, u.Next); err != nil {
			return checklist.RefreshUse{}, false, err
		}
		return u, false, nil
	case checklist.EConflict:
	default:
		return checklist.RefreshUse{}, false, err
	}
	prev, err := db.findRefreshUse(ctx, t.Hash)
	if errors.Is(err, checklist.ENotFound) { // pruned since: expired
		return checklist.RefreshUse{}, false, errBadRefresh()
	}
	if err != nil {
		return checklist.RefreshUse{}, false, err
	}
	replay := prev.Replayable(u.UsedAt)
	if replay {
		// Once the successor was used the legitimate client has it, so
		// this request is not its retry. A successor consumed after this
		// read is ordered after this replay, which is then still correct.
		used, err := db.refreshTokenUsed(ctx, prev.Next.Hash)
		if err != nil {
			return checklist.RefreshUse{}, false, err
		}
		replay = !used
	}
	if !replay {
		if err := db.RevokeSession(ctx, t.Family); err != nil {
			return checklist.RefreshUse{}, false, err
		}
		return checklist.RefreshUse{}, false, checklist.Errorf(checklist.EUnauthorized,
			"the refresh token was already used; the session is revoked, log in again")
	}
	// The first consumer saves the successor right after its insert; this
	// request may have overtaken it, or it may have failed in between.
	if err := db.saveSuccessor(ctx, prev.Next); err != nil {
		return checklist.RefreshUse{}, false, err
	}
	return prev, true, nil
}

// saveSuccessor saves the successor a use issued. Both the consumer and
// any replay save it, so a second save of the same token is no error: its
// hash comes from a fresh random grant and names no other token.
func (db *DB) saveSuccessor(ctx context.Context, next checklist.RefreshToken) error {
	if err := db.SaveRefreshToken(ctx, next); !errors.Is(err, checklist.EConflict) {
		return err
	}
	return nil
}

// findRefreshUse reads the use of the refresh token with hash.
func (db *DB) findRefreshUse(ctx context.Context, hash string) (checklist.RefreshUse, error) {
	var d refreshUseDoc
	if err := db.db.Collection(colRefreshUses).FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&d); err != nil {
		return checklist.RefreshUse{}, translate(err)
	}
	u := checklist.RefreshUse{
		Token:  checklist.RefreshToken{Hash: d.Hash, Family: d.Session, UserID: d.UserID, ExpiresAt: d.ExpiresAt.UTC()},
		UsedAt: d.UsedAt.UTC(), Grant: d.Grant, AccessID: d.AccessID,
	}
	if d.Next != "" {
		u.Next = checklist.RefreshToken{Hash: d.Next, Family: d.Session, UserID: d.UserID,
			IssuedAt: d.NextIssuedAt.UTC(), ExpiresAt: d.NextExpiresAt.UTC()}
	}
	return u, nil
}

// refreshTokenUsed reports whether the refresh token with hash was consumed.
func (db *DB) refreshTokenUsed(ctx context.Context, hash string) (bool, error) {
	err := translate(db.db.Collection(colRefreshUses).FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Err())
	switch checklist.ErrorCode(err) {
	case "":
		return true, nil
	case checklist.ENotFound:
		return false, nil
	}
	return false, err
}

// FindRefreshToken returns the refresh token with hash, used or not, or
// EUnauthorized when none was issued.
func (db *DB) FindRefreshToken(ctx context.Context, hash string) (_ checklist.RefreshToken, err error) {
	defer wrap(&err, "find refresh token")
	var d refreshTokenDoc
	err = translate(db.db.Collection(colRefreshTokens).FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&d))
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
func (db *DB) RevokeSession(ctx context.Context, family string) (err error) {
	defer wrap(&err, "revoke session family %s", family)
	_, err = db.db.Collection(colRefreshSessions).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: family}, {Key: "revoked", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}, {Key: "revoked_at", Value: db.now()}}}})
	return translate(err)
}

// RevokeUserSessions ends every session of the user.
func (db *DB) RevokeUserSessions(ctx context.Context, userID string) (err error) {
	defer wrap(&err, "revoke sessions of user %s", userID)
	_, err = db.db.Collection(colRefreshSessions).UpdateMany(ctx,
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

// pruneSessions deletes the user's sessions that can no longer be used:
// revoked ones, and those whose refresh tokens have all expired (and been
// pruned). A refresh token of a deleted session is refused like one of a
// revoked session. Sessions younger than a minute are left alone: their
// first token may be on its way (StartSession writes the session first).
func (db *DB) pruneSessions(ctx context.Context, userID string, now time.Time) error {
	live, err := db.db.Collection(colRefreshTokens).Distinct(ctx, "session", bson.D{{Key: "user_id", Value: userID}}).Raw()
	if err != nil {
		return translate(err)
	}
	var families []string
	values, err := live.Values()
	if err != nil {
		return err
	}
	for _, v := range values {
		if s, ok := v.StringValueOK(); ok {
			families = append(families, s)
		}
	}
	if families == nil {
		families = []string{}
	}
	_, err = db.db.Collection(colRefreshSessions).DeleteMany(ctx, bson.D{
		{Key: "user_id", Value: userID},
		{Key: "created_at", Value: bson.D{{Key: "$lt", Value: now.Add(-time.Minute)}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "revoked", Value: true}},
			bson.D{{Key: "_id", Value: bson.D{{Key: "$nin", Value: families}}}},
		}},
	})
	return translate(err)
}

// boundSessions revokes the user's oldest live sessions beyond keep.
func (db *DB) boundSessions(ctx context.Context, userID string, keep int) error {
	var docs []sessionDoc
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).
		SetSkip(int64(keep)).SetProjection(bson.D{{Key: "_id", Value: 1}})
	if err := db.findAll(ctx, colRefreshSessions, bson.D{{Key: "user_id", Value: userID}, {Key: "revoked", Value: false}}, opts, &docs); err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	ids := make(bson.A, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	_, err := db.db.Collection(colRefreshSessions).UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "revoked", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}, {Key: "revoked_at", Value: db.now()}}}})
	return translate(err)
}
