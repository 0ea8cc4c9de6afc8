package embedded

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/storage"
)

// ferretDB is how FerretDB 1.24 over SQLite departs from MongoDB (see
// storage.Server): SQLite writes one at a time; an update reads,
// compares and writes without a lock, and only a filter on _id alone is
// looked up directly; queries scan and filter in Go, using no index but
// _id's.
var ferretDB = storage.Server{OneWriter: true, GuardByID: true, UniqueIndexesOnly: true}

// Adapt has a DB adapt to FerretDB when the server it connects to is
// FerretDB: the embedded server, or one that MONGODB_URI names (tenken db,
// or any FerretDB). On MongoDB it changes nothing.
func Adapt() storage.Option {
	return storage.WithServer(func(ctx context.Context, client *mongo.Client) storage.Server {
		if isFerretDB(ctx, client) {
			return ferretDB
		}
		return storage.Server{}
	})
}

// isFerretDB reports whether the server is FerretDB, which names its
// own version in buildInfo.
func isFerretDB(ctx context.Context, client *mongo.Client) bool {
	var info bson.M
	err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	_, ok := info["ferretdbVersion"]
	return err == nil && ok
}
