package storage

import (
	"context"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// reportRowCache is every report row, kept in memory by the process that
// owns the embedded server (see inspectionIndex), so that a cold report
// reads no row from the database.
//
// The embedded server pushes no filter but one _id down to SQLite: the
// `fiscal_year $in` of a report decoded every row of every year, 18–30 s
// per cold report at 1,448 facilities × 6 years, for a computation of
// 0.2 s. The owner is the only writer, and every row write goes through
// putReportRow or InsertInspections, which record it here after the
// database took it; a write whose outcome is unknown drops the copy, to
// be read again. The rows are kept decoded (reportRow): a cold report
// parses no row either. On MongoDB, or on a server this process does not
// own, the query runs as written (MongoDB uses the fiscal_year index).
type reportRowCache struct {
	mu     sync.Mutex
	loaded bool
	byID   map[string]*reportRow
}

// put records row after this process wrote it. Before the rows are
// loaded it does nothing: loading reads every write that finished before
// it, and a write that finishes during the load waits for it here.
func (c *reportRowCache) put(row reportRowDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		c.byID[row.ID] = newReportRow(row)
	}
}

// remove records that this process deleted the row of inspection id.
func (c *reportRowCache) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		delete(c.byID, id)
	}
}

// forget drops every row after a write whose outcome is unknown: the
// next read loads them again.
func (c *reportRowCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loaded, c.byID = false, nil
}

// years returns the rows of the fiscal years fys, loading every row on
// first use. Writes wait while it loads, so none is missed.
func (c *reportRowCache) years(ctx context.Context, db *DB, fys []int) ([]*reportRow, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		var docs []reportRowDoc
		if err := db.findAll(ctx, colReportRows, bson.D{}, options.Find(), &docs); err != nil {
			return nil, err
		}
		c.byID = make(map[string]*reportRow, len(docs))
		for _, d := range docs {
			c.byID[d.ID] = newReportRow(d)
		}
		c.loaded = true
	}
	var out []*reportRow
	for _, r := range c.byID {
		if slices.Contains(fys, r.doc.FiscalYear) {
			out = append(out, r)
		}
	}
	return out, nil
}

// reportRows reads the report rows of the fiscal years fys: from the
// sole writer's copy, else with a query (memory.reportRows).
func (db *DB) reportRows(ctx context.Context, fys []int) ([]*reportRow, error) {
	return db.memory.reportRows(ctx, fys)
}

// reportRowsQueried is reportRows with a query.
func (db *DB) reportRowsQueried(ctx context.Context, fys []int) ([]*reportRow, error) {
	years := make(bson.A, 0, len(fys))
	for _, fy := range fys {
		years = append(years, fy)
	}
	var docs []reportRowDoc
	if err := db.findAll(ctx, colReportRows, bson.D{{Key: "fiscal_year", Value: bson.D{{Key: "$in", Value: years}}}}, options.Find(), &docs); err != nil {
		return nil, err
	}
	rows := make([]*reportRow, 0, len(docs))
	for _, d := range docs {
		rows = append(rows, newReportRow(d))
	}
	return rows, nil
}
