// Package storage is tenken's repository: it keeps the domain's data in
// MongoDB, or in any MongoDB-compatible server such as the embedded one,
// through the official driver. It speaks in domain terms: callers pass
// and get checklist types and checklist errors (translate and wrap, in
// errors.go, are the one place driver errors become domain errors).
//
// Its documents are private to it. Beside it, each in its own package:
// storage/embedded starts the embedded server and opens a DB on it as
// the sole writer; storage/blobs keeps photo bytes; storage/archive
// copies a whole database to a file and back. They reach the database
// through DB.Database and must not touch the repository's documents.
//
// A DB opened with SoleWriter answers some reads from what it remembers
// of its own writes (memory.go); any other DB queries every time. The
// repository calls the same memory methods either way: it does not ask
// which server or which process it is.
package storage

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

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

	// server is how the server departs from MongoDB (WithServer).
	server  Server
	writeMu sync.Mutex // see writeLock

	// cache holds this process's last written copy of inspections, for
	// the next write (see writeCache).
	cache writeCache

	// memory answers the reads the sole writer may answer from memory
	// (memory.go); index is the summaries of inspections it reads.
	memory memory
	index  inspectionIndex
	heads  listCache[checklist.Version] // every version without content (AllVersions)
	// facilities is every facility by code, for reports (reportFacilities).
	facilities listCache[checklist.Facility]

	actionFacilities openActionFacilities // see mayHaveOpenActions

	// audits copies inspection writes' audit entries (auditCopier).
	audits *auditCopier

	// reportVers remembers the report data versions (reports.go).
	reportVers reportVersions

	// log receives follow-up failures and repairs (SetLogger).
	log *slog.Logger
	// outboxesDirty says an audit copy or its write's report versions
	// failed since the last RepairOutboxes (followups.go).
	outboxesDirty atomic.Bool
	// rounds caches the assignments of rounds for the sole writer (rounds.go).
	rounds roundCache
	// background counts the goroutines Close waits for (schema.go).
	background sync.WaitGroup
	// rows rebuilds missing report rows in the background (report_rebuild.go).
	rows rowsRebuild
	// rowCache is the owner's copy of the report rows (report_row_cache.go).
	rowCache reportRowCache
}

// Open connects to the MongoDB (or embedded server) at uri, uses the
// database name, ensures every index, and brings the database to this
// build's schema version (schema.go). It does not wait for the server
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
	if err := db.migrate(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	return db, nil
}

// Option changes how Open and Connect connect, and what the DB may
// assume of the data.
type Option func(*config)

type config struct {
	client *options.ClientOptions
	// soleWriter: see SoleWriter.
	soleWriter bool
	// describe: see WithServer.
	describe func(context.Context, *mongo.Client) Server
}

// SoleWriter says that this DB is the only writer of its database, for
// as long as it is open: no other process and no other DB writes to it
// (the embedded server's owner holds its data folder's lock, and the
// tools that write refuse to run beside it). The DB may then answer
// reads from what it remembers of its own writes (see memory.go).
func SoleWriter() Option { return func(c *config) { c.soleWriter = true } }

// WithCommandObserver has observe called after every database command the
// driver completes, with the command's name, its duration and whether it
// failed: cmd feeds the metrics from it, so storage holds no metrics code.
func WithCommandObserver(observe func(command string, took time.Duration, failed bool)) Option {
	return func(c *config) {
		c.client.SetMonitor(&event.CommandMonitor{
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
	c := config{client: co}
	for _, o := range opts {
		o(&c)
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
	if c.describe != nil {
		db.server = c.describe(ctx, client)
	}
	db.memory = sharedMemory{db}
	if c.soleWriter {
		db.memory = soleWriterMemory{db}
	}
	db.audits = newAuditCopier(db)
	return db, nil
}

// Close copies the audit entries still queued, then disconnects, waiting
// for in-use connections up to ctx's deadline.
func (db *DB) Close(ctx context.Context) error {
	db.rows.stop()
	db.background.Wait()
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

// Database is the driver's handle on the database, for the packages that
// keep other things in it beside the repository (blobs' GridFS bucket,
// archive's copies of every collection, embedded's writer lease). They
// must not read or write the repository's own documents through it.
func (db *DB) Database() *mongo.Database { return db.db }

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
// listed too, so that every collection exists after Open (embedded.Server.Open
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
		if db.server.UniqueIndexesOnly {
			if err := db.dropSecondaryIndexes(ctx, col); err != nil {
				return fmt.Errorf("drop indexes on %s: %w", col, translate(err))
			}
		}
		// One at a time: the embedded server panics (and drops the
		// connection) when one createIndexes names several indexes that
		// all exist already, as at every start after the first.
		for _, m := range models {
			if db.server.UniqueIndexesOnly && !isUnique(m) {
				continue
			}
			if m.Options != nil {
				// The driver adds to the options it is given (their name):
				// give it a copy, as databases may be opened concurrently.
				o := *m.Options
				o.Opts = slices.Clone(o.Opts)
				m.Options = &o
			}
			if _, err := db.db.Collection(col).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("ensure indexes on %s: %w", col, translate(err))
			}
		}
	}
	return nil
}

// dropSecondaryIndexes drops the non-unique indexes of col on a server
// whose queries use no index but the one on _id (Server.UniqueIndexesOnly:
// the embedded server scans and filters in Go), where a non-unique index
// only makes every write evaluate its expression over the whole document,
// old and new. Unique indexes stay: they are how a key is decided once.
// Folders written before this rule have such indexes; new ones never get
// them.
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

// redact hides credentials in a connection string for logs and errors.
func redact(uri string) string {
	if cs, err := parseURI(uri); err == nil {
		return cs
	}
	return "(connection string)"
}
