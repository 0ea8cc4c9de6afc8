package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"tenken/storage"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Two API processes writing to one FerretDB server lose saves: FerretDB
// does not make the revision-guarded replace atomic, and each process's
// keyed lock reaches only its own writers. So on a FerretDB server that
// this process does not own (MONGODB_URI pointing at `tenken db` or any
// FerretDB), serve claims the one writer lease first — decided by a
// unique insert, which FerretDB does enforce — and refuses to start while
// another process holds it. MongoDB needs no lease: it applies the guard
// atomically, and several instances may share it.

const colWriterLease = "writer_lease"

// writerLeaseTTL is how long a lease lasts without renewal: a holder that
// died on another machine blocks a new one for at most this long (one on
// this machine, not at all: its pid is checked).
const writerLeaseTTL = 30 * time.Second

// ErrWriterLeaseLost is the cause a WriterLease reports when another
// process took the lease over (this one did not renew it in time).
var ErrWriterLeaseLost = errors.New("the FerretDB writer lease was taken over by another process; this one stops writing")

type writerLeaseDoc struct {
	ID        string    `bson:"_id"`
	Token     string    `bson:"token"`
	Host      string    `bson:"host"`
	PID       int       `bson:"pid"`
	RenewedAt time.Time `bson:"renewed_at"`
}

// WriterLease is this process's claim to be the only writer of a FerretDB
// server. A nil *WriterLease (MongoDB, or the embedded server this process
// owns, see ClaimWriter) holds nothing and its methods do nothing.
type WriterLease struct {
	db    *mongo.Database
	token string
	stop  chan struct{}
	done  chan struct{}
}

// ClaimWriter takes the writer lease when store is on a FerretDB server,
// and renews it until Release; lost is called if another process takes
// it over. It refuses, with the reason, when a live process holds it.
// The embedded server's owner (Server.Open), the data's sole writer by
// the data folder's lock, does not call it.
func ClaimWriter(ctx context.Context, store *storage.DB, lost func(error)) (*WriterLease, error) {
	db := store.Database()
	if !isFerretDB(ctx, db.Client()) {
		return nil, nil
	}
	host, _ := os.Hostname()
	me := writerLeaseDoc{ID: "writer", Token: rand.Text(), Host: host, PID: os.Getpid()}
	col := db.Collection(colWriterLease)
	for attempt := 0; ; attempt++ {
		me.RenewedAt = time.Now().UTC()
		_, err := col.InsertOne(ctx, me)
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) || attempt > 0 {
			if mongo.IsDuplicateKeyError(err) {
				return nil, errors.New("another process took the FerretDB writer lease at the same time; start one serve per FerretDB server")
			}
			return nil, fmt.Errorf("writer lease: %w", storage.Translate(err))
		}
		var other writerLeaseDoc
		if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: "writer"}}).Decode(&other); err != nil {
			return nil, fmt.Errorf("writer lease: %w", storage.Translate(err))
		}
		if !leaseAbandoned(other, host) {
			return nil, fmt.Errorf("another tenken serve (pid %d on %s, lease renewed %s ago) writes to this FerretDB server: "+
				"FerretDB does not make tenken's revision-guarded writes atomic, so two writers lose saves; "+
				"run one tenken serve per FerretDB server (several instances need MongoDB)",
				other.PID, other.Host, time.Since(other.RenewedAt).Round(time.Second))
		}
		// Its holder is gone: remove that lease (only that one) and try again.
		if _, err := col.DeleteOne(ctx, bson.D{{Key: "_id", Value: "writer"}, {Key: "token", Value: other.Token}}); err != nil {
			return nil, fmt.Errorf("writer lease: %w", storage.Translate(err))
		}
	}
	l := &WriterLease{db: db, token: me.Token, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew(lost)
	return l, nil
}

// leaseAbandoned says whether the holder of l is gone: not renewed within
// the TTL, or a process of this machine that no longer exists.
func leaseAbandoned(l writerLeaseDoc, host string) bool {
	if time.Since(l.RenewedAt) > writerLeaseTTL {
		return true
	}
	if l.Host == host && l.PID > 0 {
		return errors.Is(syscall.Kill(l.PID, 0), syscall.ESRCH)
	}
	return false
}

func (l *WriterLease) renew(lost func(error)) {
	defer close(l.done)
	t := time.NewTicker(writerLeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), writerLeaseTTL/3)
		res, err := l.db.Collection(colWriterLease).UpdateOne(ctx,
			bson.D{{Key: "_id", Value: "writer"}, {Key: "token", Value: l.token}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "renewed_at", Value: time.Now().UTC()}}}})
		cancel()
		if err == nil && res.MatchedCount == 0 {
			lost(ErrWriterLeaseLost)
			return
		}
		// An error (the server is down) is retried at the next tick; the
		// lease lapses only if nobody renews it for the whole TTL.
	}
}

// Release stops renewing and gives the lease up. If that fails, the lease
// lapses after its TTL (at once for a successor on this machine).
func (l *WriterLease) Release() error {
	if l == nil {
		return nil
	}
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := l.db.Collection(colWriterLease).DeleteOne(ctx, bson.D{{Key: "_id", Value: "writer"}, {Key: "token", Value: l.token}})
	return storage.Translate(err)
}
