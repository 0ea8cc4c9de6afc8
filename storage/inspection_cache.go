package storage

import (
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// writeCache keeps the stored copy of recently written inspections for
// the next write of the same inspection, so that a save does not first
// read the document: the embedded server reads by scanning and decoding
// the whole collection, and a read-modify-write would pay that twice.
//
// It is safe with several instances on MongoDB: a write based on a stale
// copy fails its revision guard and is re-run on a fresh read, and a
// change refused on a cached copy is decided again on a fresh read.
// Clients' reads use it only on the data's sole writer (soleWriterMemory),
// where it is exactly what is stored: a photo upload's check before it
// reads the photo, and a tablet reading back what it saved, then cost no
// query.
type writeCache struct {
	once    sync.Once
	entries *lru.Cache[string, *cachedDoc] // made on first use: the zero writeCache is ready
}

type cachedDoc struct {
	doc *inspectionDoc
	// outboxCopied records that doc's audit entry reached the audit
	// collection, so the next write need not copy it again. The audit
	// copier sets it.
	outboxCopied atomic.Bool
}

// maxWriteCache bounds the cache: a day's inspections being edited. The
// least recently written goes first; its next write reads it again.
const maxWriteCache = 1024

func (c *writeCache) lru() *lru.Cache[string, *cachedDoc] {
	c.once.Do(func() {
		var err error
		if c.entries, err = lru.New[string, *cachedDoc](maxWriteCache); err != nil {
			panic(err) // only for a size below 1
		}
	})
	return c.entries
}

func (c *writeCache) get(id string) (*cachedDoc, bool) { return c.lru().Get(id) }

func (c *writeCache) put(id string, e *cachedDoc) { c.lru().Add(id, e) }

func (c *writeCache) drop(id string) { c.lru().Remove(id) }

// guardFilter selects inspection id at revision for a guarded replace.
// MongoDB applies the guard atomically. A server that does not
// (Server.GuardByID: it reads, compares and writes without a lock) gets
// the id alone, which it looks up directly instead of decoding every
// inspection to test the guard; there the keyed lock serialises writers.
func (db *DB) guardFilter(id string, revision int64) bson.D {
	if db.server.GuardByID {
		return bson.D{{Key: "_id", Value: id}}
	}
	return bson.D{{Key: "_id", Value: id}, {Key: "revision", Value: revision}}
}

// writeLock serialises this process's writes to a server that runs one
// write at a time (Server.OneWriter: the embedded server over SQLite,
// whose concurrent write transactions wait for each other in SQLite's
// busy handler, which sleeps in growing steps, up to 100 ms, and turned
// a 20-tablet load into seconds of latency). Queueing here instead costs
// nothing. On MongoDB it does nothing.
func (db *DB) writeLock() (unlock func()) {
	if !db.server.OneWriter {
		return func() {}
	}
	db.writeMu.Lock()
	return db.writeMu.Unlock
}
