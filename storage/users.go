package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// userDoc is a user as stored. The password hash lives only here.
type userDoc struct {
	ID                string    `bson:"_id"`
	Username          string    `bson:"username"`
	DisplayName       string    `bson:"display_name"`
	Role              string    `bson:"role"`
	FacilityIDs       []string  `bson:"facility_ids"`
	Disabled          bool      `bson:"disabled"`
	PasswordHash      string    `bson:"password_hash"`
	PasswordChangedAt time.Time `bson:"password_changed_at"`
	Revision          int       `bson:"revision"`
	// SessionsValidAfter: see checklist.User.
	SessionsValidAfter time.Time `bson:"sessions_valid_after,omitempty"`
	CreatedAt          time.Time `bson:"created_at"`
	UpdatedAt          time.Time `bson:"updated_at"`
	// Outbox is the audit entry of the write that stored this revision
	// (see copyOutbox).
	Outbox *auditDoc `bson:"audit_outbox,omitempty"`
}

func (d userDoc) user() checklist.User {
	ids := d.FacilityIDs
	if len(ids) == 0 {
		ids = nil
	}
	u := checklist.User{
		ID: d.ID, Username: d.Username, DisplayName: d.DisplayName, Role: checklist.Role(d.Role),
		FacilityIDs: ids, Disabled: d.Disabled, Revision: d.Revision,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
	if !d.SessionsValidAfter.IsZero() {
		u.SessionsValidAfter = d.SessionsValidAfter.UTC()
	}
	return u
}

func newUserDoc(u checklist.User, passwordHash string, passwordChangedAt time.Time) userDoc {
	ids := u.FacilityIDs
	if ids == nil {
		ids = []string{}
	}
	return userDoc{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role),
		FacilityIDs: ids, Disabled: u.Disabled, PasswordHash: passwordHash, PasswordChangedAt: passwordChangedAt,
		Revision: u.Revision, SessionsValidAfter: u.SessionsValidAfter, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// newID returns a new document id: a UUIDv7, so ids sort by creation time.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// now is the clock at the precision the database keeps.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Millisecond) }

// CreateUser stores a new user with the given password hash and returns
// it with its id, revision 1 and timestamps. u is normalized and
// validated; an inspector's facilities must exist (EInvalid naming the
// unknown ones). A taken username is EConflict. by made the change, for
// the audit trail.
func (db *DB) CreateUser(ctx context.Context, u checklist.User, passwordHash string, by checklist.Actor) (_ checklist.User, err error) {
	defer wrap(&err, "create user %s", u.Username)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	u.Normalize()
	if err := u.Validate(); err != nil {
		return checklist.User{}, err
	}
	if passwordHash == "" {
		return checklist.User{}, errors.New("create user: no password hash")
	}
	if err := db.checkFacilitiesExist(ctx, u.FacilityIDs); err != nil {
		return checklist.User{}, err
	}
	now := db.now()
	u.ID, u.Revision, u.CreatedAt, u.UpdatedAt = newID(), 1, now, now
	doc := newUserDoc(u, passwordHash, now)
	doc.Outbox = outboxOf(checklist.UserAuditEntry(nil, u, by))
	if _, err := db.db.Collection(colUsers).InsertOne(ctx, doc); err != nil {
		return checklist.User{}, usernameTaken(u.Username, translate(err))
	}
	db.afterWrite(ctx, doc.Outbox)
	return u, nil
}

func usernameTaken(username string, err error) error {
	if !errors.Is(err, checklist.EConflict) {
		return err
	}
	msg := fmt.Sprintf("a user named %q already exists", username)
	return &checklist.Error{Code: checklist.EConflict, Message: msg,
		Fields: []checklist.FieldError{{Field: "username", Code: "taken", Message: msg}}}
}

// FindUser returns the user with id, or ENotFound.
func (db *DB) FindUser(ctx context.Context, id string) (_ checklist.User, err error) {
	defer wrap(&err, "find user %s", id)
	d, err := db.findUserDoc(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return checklist.User{}, notFound(err, "no user %q", id)
	}
	return d.user(), nil
}

// FindCredentials returns the user with username (in any case) and their
// password hash, or ENotFound. Only authentication may call it.
func (db *DB) FindCredentials(ctx context.Context, username string) (_ checklist.User, _ string, err error) {
	defer wrap(&err, "find credentials of %s", username)
	d, err := db.findUserDoc(ctx, bson.D{{Key: "username", Value: checklist.NormalizeUsername(username)}})
	if err != nil {
		return checklist.User{}, "", notFound(err, "no such user")
	}
	return d.user(), d.PasswordHash, nil
}

func (db *DB) findUserDoc(ctx context.Context, filter bson.D) (userDoc, error) {
	var d userDoc
	err := db.db.Collection(colUsers).FindOne(ctx, filter).Decode(&d)
	return d, translate(err)
}

// ListUsers returns one page of users ordered by username.
func (db *DB) ListUsers(ctx context.Context, q checklist.UserQuery) (_ checklist.UserPage, err error) {
	defer wrap(&err, "list users")
	filter := bson.D{}
	if q.Role != "" {
		filter = append(filter, bson.E{Key: "role", Value: string(q.Role)})
	}
	if q.After != "" {
		filter = append(filter, bson.E{Key: "username", Value: bson.D{{Key: "$gt", Value: q.After}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "username", Value: 1}}).SetLimit(int64(q.Limit) + 1)
	var docs []userDoc
	if err := db.findAll(ctx, colUsers, filter, opts, &docs); err != nil {
		return checklist.UserPage{}, err
	}
	var page checklist.UserPage
	for i, d := range docs {
		if i == q.Limit {
			page.Next = page.Items[i-1].Username
			break
		}
		page.Items = append(page.Items, d.user())
	}
	return page, nil
}

// UpdateUser changes the user with id, which must still be at revision:
// change gets the current user and returns the next one (or an error that
// is returned as is). The result is validated, an inspector's facilities
// must exist, and it is stored at revision+1. A stale revision is
// ERevision carrying the current user. The id, creation time and password
// never change here. by made the change, for the audit trail. A change
// that moves SessionsValidAfter (checklist.UserChange.Apply) also ends
// every session of the user.
func (db *DB) UpdateUser(ctx context.Context, id string, revision int, by checklist.Actor, change func(checklist.User) (checklist.User, error)) (_ checklist.User, err error) {
	defer wrap(&err, "update user %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(colUsers + "/" + id)
	defer unlock()
	d, err := db.findUserDoc(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return checklist.User{}, notFound(err, "no user %q", id)
	}
	cur := d.user()
	if cur.Revision != revision {
		return checklist.User{}, staleRevision("user", revision, cur.Revision, cur)
	}
	next, err := change(cur)
	if err != nil {
		return checklist.User{}, err
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return checklist.User{}, err
	}
	if err := db.checkFacilitiesExist(ctx, next.FacilityIDs); err != nil {
		return checklist.User{}, err
	}
	next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
	next.Revision, next.UpdatedAt = cur.Revision+1, db.now()
	if err := db.replaceUser(ctx, d, next, d.PasswordHash, d.PasswordChangedAt, checklist.UserAuditEntry(&cur, next, by)); err != nil {
		return checklist.User{}, err
	}
	if !next.SessionsValidAfter.Equal(cur.SessionsValidAfter) {
		if err := db.RevokeUserSessions(ctx, id); err != nil {
			return checklist.User{}, err
		}
	}
	return next, nil
}

// SetPassword replaces the password hash of the user with id and ends
// every session of that user: whoever held the old password may also hold
// a refresh token. The audit entry says that the password changed, not
// what it is.
func (db *DB) SetPassword(ctx context.Context, id, passwordHash string, by checklist.Actor) (err error) {
	defer wrap(&err, "set password of user %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if passwordHash == "" {
		return errors.New("set password: no password hash")
	}
	unlock := db.locks.Lock(colUsers + "/" + id)
	defer unlock()
	d, err := db.findUserDoc(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return notFound(err, "no user %q", id)
	}
	u := d.user()
	now := db.now()
	u.Revision, u.UpdatedAt = u.Revision+1, now
	if err := db.replaceUser(ctx, d, u, passwordHash, now, checklist.PasswordAuditEntry(u, by)); err != nil {
		return err
	}
	return db.RevokeUserSessions(ctx, id)
}

// replaceUser stores u over prev, the document it was read from, with
// entry in its outbox, and copies entry to the audit trail. prev's own
// outbox is copied first: it may be an entry a crash kept from the trail.
func (db *DB) replaceUser(ctx context.Context, prev userDoc, u checklist.User, hash string, pwChanged time.Time, entry checklist.AuditEntry) error {
	if err := db.copyOutbox(ctx, prev.Outbox); err != nil {
		return err
	}
	doc := newUserDoc(u, hash, pwChanged)
	doc.Outbox = outboxOf(entry)
	res, err := db.db.Collection(colUsers).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: u.ID}, {Key: "revision", Value: prev.Revision}}, doc)
	if err != nil {
		return usernameTaken(u.Username, translate(err))
	}
	if res.MatchedCount == 0 {
		return checklist.Errorf(checklist.ERevision, "the user was changed at the same time; reload and retry")
	}
	db.afterWrite(ctx, doc.Outbox)
	return nil
}

// HasUsers reports whether any user exists.
func (db *DB) HasUsers(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "has users")
	err = db.db.Collection(colUsers).FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	}
	return false, translate(err)
}

// findAll runs a find and decodes every document into out.
func (db *DB) findAll(ctx context.Context, col string, filter any, opts *options.FindOptionsBuilder, out any) error {
	cur, err := db.db.Collection(col).Find(ctx, filter, opts)
	if err != nil {
		return translate(err)
	}
	return translate(cur.All(ctx, out))
}

// notFound gives an ENotFound error a message naming what was missing.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, checklist.ENotFound) {
		return checklist.Errorf(checklist.ENotFound, format, args...)
	}
	return err
}

// staleRevision is the error for a write based on an old revision; it
// carries the current copy so the client can merge.
func staleRevision(what string, got, current int, cur any) error {
	return &checklist.Error{
		Code:    checklist.ERevision,
		Message: fmt.Sprintf("the %s is at revision %d, not %d: reload, merge and retry", what, current, got),
		Current: cur,
	}
}
