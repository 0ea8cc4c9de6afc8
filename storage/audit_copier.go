package storage

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// auditCopier copies the audit entries of inspection writes from their
// outbox to the audit collection after the response, in batches: a write
// then waits for one write (the inspection with its outbox), not two. On
// the embedded server every write queues on one lock, so under load the
// copy used to wait behind other saves' writes — it was 40 % of a save's
// latency with 20 tablets and two reviewers.
//
// Nothing is lost if the process dies first: the entries wait in the
// inspection (audit_outbox, and audit_unsent for earlier writes' entries
// not yet known to be copied), and its next write carries them on or
// copies them (see UpdateInspection). A write with a pending marker has
// the marker deleted here, after its entries are in the trail, so a
// crash before that leaves the marker for RepairFollowUps.
//
// After a copy the copier waits up to auditLinger for more entries
// before the next one (unless maxAuditBatch are queued, or someone
// flushes): at a few saves per second each would otherwise be an insert
// of its own. Close copies what is queued. ListAudit flushes the queue
// first, so an admin reads every write that was acknowledged.
type auditCopier struct {
	db   *DB
	mu   sync.Mutex
	cond *sync.Cond
	// queue holds the jobs not yet done; queued and copied count the
	// jobs ever queued and ever done with, in order; flushing counts the
	// flushes waiting, which end the linger; closed stops the copier
	// once the queue is empty.
	queue          []copyJob
	queued, copied int
	flushing       int
	closed         bool
	done           chan struct{}
}

// copyJob is one write's audit entries to copy (e's outbox and unsent
// entries), the report data versions it renewed in this process (to
// store: reportVersions.renewLater) and, when marker is set, its pending
// marker to delete once the versions are stored and the entries are in
// the trail: the write's other follow-ups are done.
type copyJob struct {
	e        *cachedDoc
	marker   *pendingDoc
	versions []string
}

// auditLinger is how long the copier gathers entries after a copy.
const auditLinger = 200 * time.Millisecond

func newAuditCopier(db *DB) *auditCopier {
	c := &auditCopier{db: db, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	return c
}

// enqueue schedules the copy of e's entries and the storing of the
// renewed versions and then, with a marker, the marker's deletion;
// e.outboxCopied is set once the entries are in the audit collection.
func (c *auditCopier) enqueue(e *cachedDoc, marker *pendingDoc, versions []string) {
	job := copyJob{e, marker, versions}
	c.mu.Lock()
	if !c.closed {
		c.queue = append(c.queue, job)
		c.queued++
		c.cond.Broadcast()
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.copy([]copyJob{job}) // after Close: now
}

// flush returns when every entry queued before it was copied (or its
// copy failed and waits in its inspection) and the markers queued with
// them are deleted (or left for RepairFollowUps).
func (c *auditCopier) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushing++
	defer func() { c.flushing-- }()
	c.cond.Broadcast()
	for target := c.queued; c.copied < target; {
		c.cond.Wait()
	}
}

// close copies what is queued and stops the copier.
func (c *auditCopier) close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	<-c.done
}

// maxAuditBatch bounds one insert of queued entries.
const maxAuditBatch = 100

func (c *auditCopier) run() {
	defer close(c.done)
	var last time.Time // when the last copy started
	for {
		c.mu.Lock()
		for {
			if len(c.queue) == 0 && !c.closed {
				c.cond.Wait()
				continue
			}
			if len(c.queue) == 0 { // closed and drained
				c.mu.Unlock()
				return
			}
			wait := auditLinger - time.Since(last)
			if wait <= 0 || c.closed || c.flushing > 0 || len(c.queue) >= maxAuditBatch {
				break
			}
			t := time.AfterFunc(wait, func() {
				c.mu.Lock()
				c.cond.Broadcast()
				c.mu.Unlock()
			})
			c.cond.Wait()
			t.Stop()
		}
		n := min(len(c.queue), maxAuditBatch)
		batch := c.queue[:n:n]
		c.queue = c.queue[n:]
		c.mu.Unlock()

		last = time.Now()
		c.copy(batch)

		c.mu.Lock()
		c.copied += n
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// copy stores the versions the batch renewed (one upsert per key,
// however many writes renewed it), inserts the batch's entries in one
// unordered insert (an entry already there, a copy made twice, counts as
// copied), then deletes in one the markers of the jobs whose entries
// are all in the trail and whose versions are stored.
func (c *auditCopier) copy(batch []copyJob) {
	var docs []any
	var owner []int // docs[i] is an entry of batch[owner[i]]
	for j, job := range batch {
		for _, d := range job.e.doc.entries() {
			docs = append(docs, d)
			owner = append(owner, j)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	for _, job := range batch {
		for _, k := range job.versions {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	unstored := c.db.storeRenewed(ctx, keys)
	if len(unstored) > 0 {
		c.db.logger().Warn("report versions not stored; the writes' follow-ups are repaired later",
			slog.Int("versions", len(unstored)))
	}
	failed := map[int]bool{} // jobs with an entry not copied
	if len(docs) > 0 {
		unlock := c.db.writeLock()
		_, err := c.db.db.Collection(colAudit).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		unlock()
		if err != nil {
			bwe, ok := err.(mongo.BulkWriteException)
			if !ok || bwe.WriteConcernError != nil {
				// None known to be copied: the next write of each
				// carries its entries on; markers stay.
				c.db.logger().Warn("audit entries not copied; each inspection's next write copies its own",
					slog.Int("entries", len(docs)), slog.String("error", err.Error()))
				return
			}
			for _, we := range bwe.WriteErrors {
				if we.Code != 11000 { // stored before: copied
					failed[owner[we.Index]] = true
				}
			}
			if len(failed) > 0 {
				c.db.logger().Warn("audit entries not copied; each inspection's next write copies its own",
					slog.Int("writes", len(failed)), slog.String("error", err.Error()))
			}
		}
	}
	var markers bson.A
	for j, job := range batch {
		if failed[j] {
			continue
		}
		job.e.outboxCopied.Store(true)
		if slices.ContainsFunc(job.versions, func(k string) bool { return unstored[k] }) {
			continue // its marker stays
		}
		if m := job.marker; m != nil {
			markers = append(markers, bson.D{{Key: "_id", Value: m.ID}, {Key: "token", Value: m.Token}})
		}
	}
	if len(markers) == 0 {
		return
	}
	// Each marker only if it is still this write's (a later write may
	// have replaced it with its own).
	unlock := c.db.writeLock()
	_, err := c.db.db.Collection(colPending).DeleteMany(ctx, bson.D{{Key: "$or", Value: markers}})
	unlock()
	if err != nil {
		c.db.logger().Warn("pending markers not deleted; their follow-ups are repaired later",
			slog.Int("markers", len(markers)), slog.String("error", err.Error()))
	}
}
