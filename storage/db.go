// Package storage keeps tenken's data in MongoDB, or in the embedded
// MongoDB-compatible server, through the official driver. It speaks in
// domain terms: callers pass and get checklist types and checklist errors.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"tenken/checklist"
)

// DB is tenken's database. It is safe for concurrent use.
type DB struct {
	client *mongo.Client
	db     *mongo.Database

	// Now is the clock; tests replace it.
	Now func() time.Time

	locks keyedMutex

	// versions caches published checklist content by "id:number":
	// immutable, so it is never invalidated.
	versions sync.Map

	// embedded is true on the FerretDB server (the embedded default),
	// whose update guards are not atomic anyway and which reads a
	// document by id cheaply only when the filter is the id alone.
	embedded bool
	writeMu  sync.Mutex // see writeLock

	// cache holds this process's last written copy of inspections, for
	// the next write (see writeCache).
	cache writeCache

	// owner is true when this process started the embedded server and
	// holds its data folder (Embedded.Open): nobody else writes, and
	// inspection lists read index, the summaries it keeps.
	owner bool
	index inspectionIndex
	heads headsCache // every version without content (AllVersions)

	// audits copies inspection writes' audit entries (auditCopier).
	audits *auditCopier

	// reportVers remembers the report data versions (reports.go).
	reportVers reportVersions

	// log receives follow-up failures and repairs (SetLogger).
	log *slog.Logger
	// rounds caches the assignments of rounds for the owner (rounds.go).
	rounds roundCache
}

// Open connects to the MongoDB (or embedded server) at uri, uses the
// database name, and ensures every index. It does not wait for the server
// beyond the first ping, which must answer within the context's deadline.
func Open(ctx context.Context, uri, name string, opts ...Option) (*DB, error) {
	db, err := Connect(ctx, uri, name, opts...)
	if err != nil {
		return nil, err
	}
	if err := db.ensureIndexes(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	if err := db.ensureReportRows(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, fmt.Errorf("report rows: %w", err)
	}
	return db, nil
}

// Option changes how Open and Connect connect.
type Option func(*options.ClientOptions)

// WithCommandObserver has observe called after every database command the
// driver completes, with the command's name, its duration and whether it
// failed: cmd feeds the metrics from it, so storage holds no metrics code.
func WithCommandObserver(observe func(command string, took time.Duration, failed bool)) Option {
	return func(co *options.ClientOptions) {
		co.SetMonitor(&event.CommandMonitor{
			Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
				observe(e.CommandName, e.Duration, false)
			},
			Failed: func(_ context.Context, e *event.CommandFailedEvent) {
				observe(e.CommandName, e.Duration, true)
			},
		})
	}
}

// Connect is Open without ensuring indexes: it changes nothing in the
// database, for tools such as backup and restore that copy it as it is.
func Connect(ctx context.Context, uri, name string, opts ...Option) (*DB, error) {
	// Defaults first, so that the connection string's own settings
	// (serverSelectionTimeoutMS, connectTimeoutMS, appName) win.
	co := options.Client().
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetAppName("tenken").
		ApplyURI(uri)
	for _, o := range opts {
		o(co)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", redact(uri), err)
	}
	db := &DB{client: client, db: client.Database(name), Now: func() time.Time { return time.Now().UTC() }}
	if err := db.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("connect %s: %w", redact(uri), err)
	}
	db.embedded = isFerretDB(ctx, client)
	db.audits = newAuditCopier(db)
	return db, nil
}

// Close copies the audit entries still queued, then disconnects, waiting
// for in-use connections up to ctx's deadline.
func (db *DB) Close(ctx context.Context) error {
	db.audits.close()
	return db.client.Disconnect(ctx)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return translate(db.client.Ping(ctx, readpref.Primary()))
}

// Drop removes the whole database. Tests use it to clean up.
func (db *DB) Drop(ctx context.Context) error { return translate(db.db.Drop(ctx)) }

// Name is the database's name.
func (db *DB) Name() string { return db.db.Name() }

// Collection names.
const (
	colMeta            = "meta"
	colUsers           = "users"
	colFacilities      = "facilities"
	colRefreshTokens   = "refresh_tokens"
	colRefreshUses     = "refresh_uses"
	colRefreshSessions = "refresh_sessions"
)

// indexes lists every collection with its indexes. ensureIndexes
// creates them at start-up; creating an existing index with the same keys
// is a no-op, so it is idempotent. Only the portable options are used
// (unique, compound): the embedded server ignores sparse and lacks
// partial and TTL indexes. A collection without indexes of its own is
// listed too, so that every collection exists after Open (Embedded.Open
// indexes the ids of those that exist).
var indexes = map[string][]mongo.IndexModel{
	colMeta:           nil,
	colRefreshUses:    nil,
	colChecklists:     nil,
	colApplicability:  nil,
	colReportVersions: nil,
	colUsers: {
		{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true).SetName("username_unique")},
	},
	colFacilities: {
		{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetUnique(true).SetName("code_unique")},
	},
	colRefreshTokens: {
		{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id")},
	},
	colRefreshSessions: {
		{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id")},
	},
}

func (db *DB) ensureIndexes(ctx context.Context) error {
	for col, models := range indexes {
		if err := db.db.CreateCollection(ctx, col); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("create %s: %w", col, translate(err))
		}
		if db.embedded {
			if err := db.dropSecondaryIndexes(ctx, col); err != nil {
				return fmt.Errorf("drop indexes on %s: %w", col, translate(err))
			}
		}
		// One at a time: the embedded server panics (and drops the
		// connection) when one createIndexes names several indexes that
		// all exist already, as at every start after the first.
		for _, m := range models {
			if db.embedded && !isUnique(m) {
				continue
			}
			if _, err := db.db.Collection(col).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("ensure indexes on %s: %w", col, translate(err))
			}
		}
	}
	return nil
}

// dropSecondaryIndexes drops the non-unique indexes of col on the
// embedded server. Its queries use no index but the one on _id (they scan
// and filter in Go), so a non-unique index only makes every write
// evaluate its expression over the whole document, old and new. Unique
// indexes stay: they are how a key is decided once. Folders written
// before this rule have such indexes; new ones never get them.
func (db *DB) dropSecondaryIndexes(ctx context.Context, col string) error {
	specs, err := db.db.Collection(col).Indexes().ListSpecifications(ctx)
	if err != nil {
		return err
	}
	for _, s := range specs {
		if s.Name == "_id_" || (s.Unique != nil && *s.Unique) {
			continue
		}
		if err := db.db.Collection(col).Indexes().DropOne(ctx, s.Name); err != nil {
			return err
		}
	}
	return nil
}

func isUnique(m mongo.IndexModel) bool {
	if m.Options == nil {
		return false
	}
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		_ = set(&o)
	}
	return o.Unique != nil && *o.Unique
}

// isNamespaceExists recognises the answer to creating a collection that
// exists (MongoDB's NamespaceExists, code 48).
func isNamespaceExists(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(48)
}

// translate turns driver errors into domain errors: no document is
// ENotFound, a duplicate key is EConflict, a server that does not answer
// is EUnavailable. Anything else keeps its detail for the logs and reaches
// the client as a plain internal error.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return checklist.Errorf(checklist.ENotFound, "not found")
	case mongo.IsDuplicateKeyError(err), embeddedUniqueViolation(err):
		return &checklist.Error{Code: checklist.EConflict, Message: "already exists"}
	case mongo.IsNetworkError(err), mongo.IsTimeout(err),
		errors.As(err, new(topology.ServerSelectionError)),
		errors.Is(err, mongo.ErrClientDisconnected),
		errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %v", checklist.Errorf(checklist.EUnavailable, "the database does not answer"), err)
	}
	var e *checklist.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("database: %w", err)
}

// embeddedUniqueViolation recognises the embedded server's answer when an
// update (not an insert) breaks a unique index: an InternalError quoting
// SQLite's constraint message instead of a duplicate key error (11000).
func embeddedUniqueViolation(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// redact hides credentials in a connection string for logs and errors.
func redact(uri string) string {
	if cs, err := parseURI(uri); err == nil {
		return cs
	}
	return "(connection string)"
}
