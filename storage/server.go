package storage

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Server says how the server beneath the repository departs from MongoDB.
// The repository adapts to these properties, never to a product's name;
// the zero Server is MongoDB. storage/embedded describes FerretDB.
type Server struct {
	// OneWriter: the server runs one write at a time, and concurrent
	// writes wait for each other badly; the DB queues this process's
	// writes on one lock instead (writeLock).
	OneWriter bool
	// GuardByID: the server applies a filtered replace by reading,
	// comparing and writing without a lock, and looks a document up
	// directly only when the filter is its _id alone. A revision in the
	// filter then guards nothing and costs a scan, so guarded replaces
	// filter by id (guardFilter): the keyed lock serialises this
	// process's writers, and one writer per server is the deployment's
	// rule (storage/embedded's writer lease).
	GuardByID bool
	// UniqueIndexesOnly: the server's queries use no index but _id, so a
	// non-unique index only slows every write; ensureIndexes creates
	// none and drops those an older version created.
	UniqueIndexesOnly bool
}

// WithServer has the DB adapt to the server that describe returns; it is
// asked once, when the DB has connected. Without it the server is taken
// for MongoDB.
func WithServer(describe func(ctx context.Context, client *mongo.Client) Server) Option {
	return func(c *config) { c.describe = describe }
}
