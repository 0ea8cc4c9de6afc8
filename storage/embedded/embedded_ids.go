package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the embedded server's own SQLite driver

	"tenken/storage"
)

// Open opens database name on the embedded server, like storage.Open,
// and then gives every collection an index for looking documents up by
// id. The DB it returns is the data's sole writer (storage.SoleWriter):
// open one per database and process.
func (e *Server) Open(ctx context.Context, name string, opts ...storage.Option) (*storage.DB, error) {
	db, err := storage.Open(ctx, e.uri, name, append(opts, Adapt(), storage.SoleWriter())...)
	if err != nil {
		return nil, err
	}
	if err := e.indexIDs(ctx, name); err != nil {
		_ = db.Close(context.Background())
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	if err := e.restrictFiles(); err != nil {
		_ = db.Close(context.Background())
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	return db, nil
}

// idExpr is the SQL expression the embedded server (FerretDB 1.24, SQLite
// handler) filters on when a query, update or delete selects one _id:
// `WHERE _ferretdb_sjson->'$._id' = ?`. Its own unique _id index is on
// `_ferretdb_sjson->"_id"`: the same values, but SQLite does not
// recognise it as the same expression, so every lookup by id parsed the
// JSON of every document in the collection — the whole cost of a save.
const idExpr = `_ferretdb_sjson->'$._id'`

// indexIDs redefines the server's unique _id index of every collection
// table of database name on idExpr, under the name the server knows it
// by: uniqueness holds as before, and lookups by id use it. It writes
// through a connection of its own to the database's SQLite file, beside
// the server's (SQLite's WAL mode allows it; the server's statements see
// the new schema on their next run), one table per transaction. The
// index's definition is invisible to the MongoDB protocol, which lists
// the _id index as always; it is dropped with its collection.
func (e *Server) indexIDs(ctx context.Context, name string) error {
	file := filepath.Join(e.dbDir, name+".sqlite")
	sqlite, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: file,
		RawQuery: "_pragma=busy_timeout(10000)"}).String())
	if err != nil {
		return err
	}
	defer sqlite.Close()
	rows, err := sqlite.QueryContext(ctx, `SELECT i.tbl_name, i.name FROM _ferretdb_collections c
		JOIN sqlite_master i ON i.type = 'index' AND i.tbl_name = c.table_name AND i.name = c.table_name || '__id_'
		WHERE i.sql NOT LIKE '%' || ? || '%'`, idExpr)
	if err != nil {
		return fmt.Errorf("list tables of %s: %w", name, err)
	}
	var tables, names []string
	for rows.Next() {
		var t, n string
		if err := rows.Scan(&t, &n); err != nil {
			rows.Close()
			return err
		}
		tables, names = append(tables, t), append(names, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for i, t := range tables {
		if err := redefineIndex(ctx, sqlite, names[i], fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (%s)`, names[i], t, idExpr)); err != nil {
			return fmt.Errorf("index ids of %s: %w", t, err)
		}
	}
	return nil
}

// redefineIndex replaces index name by create in one transaction, so that
// the table is never without it.
func redefineIndex(ctx context.Context, db *sql.DB, name, create string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP INDEX %q`, name)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return err
	}
	return tx.Commit()
}

// restrictFiles makes the SQLite files of the data folder readable and
// writable by this user only (SQLite creates them 0644, and gives its WAL
// and shared-memory files the main file's mode): they hold password
// hashes, and the server reading them has no authentication.
func (e *Server) restrictFiles() error {
	files, err := filepath.Glob(filepath.Join(e.dbDir, "*.sqlite*"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
