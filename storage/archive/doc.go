// Package archive writes a whole tenken installation — every collection
// of the database and the data folder's photos (and, on request, its
// keys) — to one gzip-compressed tar file, and restores such a file into
// an empty database and data folder. ARCHIVE.md beside this file is the
// format: stable, documented, readable without tenken.
//
// It copies collections as they are, whatever they hold, so it knows no
// repository document: it must not interpret or change what it copies
// (a restore gives back exactly what the backup read), and it reaches
// the database only through the driver handle that storage.DB lends it.
package archive

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/storage"
)

// database is the database an archive is read from or restored into.
type database struct {
	db  *mongo.Database
	Now func() time.Time
}

func open(store *storage.DB) *database {
	return &database{db: store.Database(), Now: store.Now}
}

// Name is the database's name.
func (db *database) Name() string { return db.db.Name() }

// translate turns driver errors into the repository's domain errors.
func translate(err error) error { return storage.Translate(err) }
