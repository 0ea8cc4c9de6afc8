package storage

import (
	"context"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// writeCache keeps the stored copy of recently written inspections for
// the next write of the same inspection, so that a save does not first
// read the document: the embedded server reads by scanning and decoding
// the whole collection, and a read-modify-write would pay that twice.
//
// It is safe with several instances on MongoDB: a write based on a stale
// copy fails its revision guard and is re-run on a fresh read, and a
// change refused on a cached copy is decided again on a fresh read. Reads
// for clients never use it.
type writeCache struct {
	mu      sync.Mutex
	entries map[string]*cachedDoc
}

type cachedDoc struct {
	doc *inspectionDoc
	// outboxCopied records that doc's audit entry reached the audit
	// collection, so the next write need not copy it again. The audit
	// copier sets it.
	outboxCopied atomic.Bool
}

// maxWriteCache bounds the cache: a day's inspections being edited.
const maxWriteCache = 1024

func (c *writeCache) get(id string) (*cachedDoc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	return e, ok
}

func (c *writeCache) put(id string, e *cachedDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]*cachedDoc)
	}
	if _, ok := c.entries[id]; !ok && len(c.entries) >= maxWriteCache {
		for k := range c.entries { // evict an arbitrary entry
			delete(c.entries, k)
			break
		}
	}
	c.entries[id] = e
}

func (c *writeCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// isFerretDB reports whether the server is FerretDB, which names its
// own version in buildInfo.
func isFerretDB(ctx context.Context, client *mongo.Client) bool {
	var info bson.M
	err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	_, ok := info["ferretdbVersion"]
	return err == nil && ok
}

// guardFilter selects inspection id at revision for a guarded replace.
// MongoDB applies the guard atomically. The embedded server does not (it
// reads, compares and writes without a lock), so there the keyed lock
// serialises writers and the filter is the id alone, which it looks up
// directly instead of decoding every inspection to test the guard.
func (db *DB) guardFilter(id string, revision int64) bson.D {
	if db.embedded {
		return bson.D{{Key: "_id", Value: id}}
	}
	return bson.D{{Key: "_id", Value: id}, {Key: "revision", Value: revision}}
}

// writeLock serialises this process's writes to the embedded server.
// SQLite has one writer at a time; concurrent write transactions from
// the embedded server's connection pool wait for each other in SQLite's
// busy handler, which sleeps in growing steps (up to 100 ms) and turned
// a 20-tablet load into seconds of latency. Queueing here instead costs
// nothing. On MongoDB it does nothing.
func (db *DB) writeLock() (unlock func()) {
	if !db.embedded {
		return func() {}
	}
	db.writeMu.Lock()
	return db.writeMu.Unlock
}
