package storage

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// Start-up never scans. A database whose inspections have no report rows
// (written before the rows existed: schema step 1, schema.go) needs every
// counted inspection read once to write its row. On the embedded server
// that read decodes every stored inspection: 18 s for ~5,600 drafts, past
// the start-up deadline. So the step only looks (three single-document
// reads) and the rebuild runs in the background; until it ends, report
// data is refused with ERebuilding (503, Retry-After) rather than served
// incomplete. Writes carry on meanwhile: each writes its own row.

// rowsBuiltKey marks in colReportVersions a database whose rows were
// rebuilt, so a database of drafts only (no rows to write) is not
// scanned again at every start.
const rowsBuiltKey = "report_rows"

type rowsRebuild struct {
	running atomic.Bool
	// touched holds the ids whose row a write put during the rebuild:
	// newer than the rebuild's copy, which must not overwrite it.
	touched sync.Map
	cancel  context.CancelFunc
	done    chan struct{}
}

// stop cancels a running rebuild and waits for it (Close). The next
// start rebuilds again: the marker is written only at the end.
func (r *rowsRebuild) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
}

// wait blocks until a started rebuild ends.
func (r *rowsRebuild) wait() {
	if r.done != nil {
		<-r.done
	}
}

// rowWritten records that a write put the row of id (putReportRow).
func (r *rowsRebuild) rowWritten(id string) {
	if r.running.Load() {
		r.touched.Store(id, true)
	}
}

// errRebuilding is what report reads answer during a rebuild.
func errRebuilding() error {
	return checklist.Errorf(checklist.ERebuilding, "report data is being rebuilt after the server started; retry shortly")
}

// ensureReportRows starts the rebuild of the report rows when there are
// inspections but neither rows nor the mark of an earlier rebuild.
func (db *DB) ensureReportRows(ctx context.Context) error {
	exists := func(col string, filter bson.D) (bool, error) {
		err := db.db.Collection(col).FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if err == nil {
			return true, nil
		}
		if err = translate(err); errors.Is(err, checklist.ENotFound) {
			return false, nil
		}
		return false, err
	}
	for _, q := range []struct {
		col    string
		filter bson.D
		want   bool
	}{
		{colReportRows, bson.D{}, false},
		{colReportVersions, bson.D{{Key: "_id", Value: rowsBuiltKey}}, false},
		{colInspections, bson.D{}, true},
	} {
		ok, err := exists(q.col, q.filter)
		if err != nil {
			return err
		}
		if ok != q.want {
			return nil
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	db.rows.cancel, db.rows.done = cancel, make(chan struct{})
	db.rows.running.Store(true)
	go func() {
		defer close(db.rows.done)
		// A failure (the database not answering) is retried: the rows
		// are incomplete until a rebuild ends, so reports keep refusing.
		for db.rebuildReportRows(bg) != nil {
			select {
			case <-bg.Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
		db.rows.running.Store(false)
	}()
	return nil
}

// rebuildReportRows reads the counted inspections one at a time (a
// cursor: all at once could be gigabytes) and writes each one's row,
// under the inspection's lock, unless a write put a newer one meanwhile.
func (db *DB) rebuildReportRows(ctx context.Context) error {
	cur, err := db.db.Collection(colInspections).Find(ctx, bson.D{reportStatusFilter()})
	if err != nil {
		return translate(err)
	}
	defer cur.Close(ctx)
	years := map[string]bool{}
	for cur.Next(ctx) {
		var d inspectionDoc
		if err := cur.Decode(&d); err != nil {
			return translate(err)
		}
		in, err := d.toDomain()
		if err != nil {
			return err
		}
		unlock := db.locks.Lock(inspectionLock(in.ID))
		if _, newer := db.rows.touched.Load(in.ID); !newer {
			err = db.putReportRow(ctx, in)
		}
		unlock()
		if err != nil {
			return err
		}
		years[checklist.ReportVersionYear(in.FiscalYear)] = true
	}
	if err := cur.Err(); err != nil {
		return translate(err)
	}
	keys := []string{rowsBuiltKey}
	for k := range years {
		keys = append(keys, k)
	}
	return db.bumpReportVersions(ctx, keys...) // a failure is retried: rowsBuiltKey marks the rebuild done
}
