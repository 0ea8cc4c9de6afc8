package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // the embedded server's own SQLite driver
)

// Open opens database name on the embedded server, like Open, and then
// gives every collection an index for looking documents up by id.
func (e *Embedded) Open(ctx context.Context, name string) (*DB, error) {
	db, err := Open(ctx, e.uri, name)
	if err != nil {
		return nil, err
	}
	if err := e.indexIDs(ctx, name); err != nil {
		_ = db.Close(context.Background())
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	return db, nil
}

// idExpr is the SQL expression the embedded server (FerretDB 1.24, SQLite
// handler) filters on when a query, update or delete selects one _id:
// `WHERE _ferretdb_sjson->'$._id' = ?`. Its own unique _id index is on
// `_ferretdb_sjson->"_id"`, which SQLite does not recognise as the same
// expression, so without an index of ours every lookup by id parses the
// JSON of every document in the collection — the whole cost of a save.
const idExpr = `_ferretdb_sjson->'$._id'`

// indexIDs adds an index on idExpr to every collection table of database
// name that lacks one. It writes through a connection of its own to the
// database's SQLite file, beside the server's (SQLite's WAL mode allows
// it; the server's statements see the new schema on their next run).
// The index is invisible to the MongoDB protocol (listIndexes does not
// show it, backups do not carry it) and is dropped with its collection.
func (e *Embedded) indexIDs(ctx context.Context, name string) error {
	file := filepath.Join(e.dbDir, name+".sqlite")
	sqlite, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: file,
		RawQuery: "_pragma=busy_timeout(10000)"}).String())
	if err != nil {
		return err
	}
	defer sqlite.Close()
	rows, err := sqlite.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("list tables of %s: %w", name, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+"_tenken_id", t, idExpr)
		if _, err := sqlite.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index ids of %s: %w", t, err)
		}
	}
	return nil
}
