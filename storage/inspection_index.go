package storage

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// inspectionIndex is the summaries of every inspection, kept in memory
// by the data's sole writer (SoleWriter: embedded.Server.Open): lists,
// the tablets' sync and photo authorization read it instead of querying.
//
// The embedded server answers any query but a lookup of one _id by
// decoding every document of the collection — tens of KB of JSON per
// inspection — so twenty tablets syncing and two reviewers listing kept
// both cores busy and pushed saves to a p50 of 130 ms. The owner is the
// only writer (it holds the data folder's lock; tenken db and the admin
// commands refuse to run beside it), so a summary it updates after each
// of its own writes is exact. On MongoDB, or on a server this process
// does not own, the queries run as written.
type inspectionIndex struct {
	mu     sync.Mutex
	loaded bool
	byID   map[string]*checklist.Inspection
	// unsure holds the ids of writes whose outcome is unknown (the
	// server did not answer): they are read again before the next use.
	unsure map[string]bool
}

// summary is in without what lists do not carry, as summaryProjection
// reads it.
func summary(in *checklist.Inspection) *checklist.Inspection {
	s := *in
	s.Answers = map[string]checklist.AnswerRecord{}
	s.Cleared = map[string]checklist.Stamp{}
	s.History, s.Applied = nil, nil
	s.Photos = slices.Clone(in.Photos)
	return &s
}

// put records in after this process wrote it. Before the index is loaded
// it does nothing: loading reads every write that finished before it.
func (ix *inspectionIndex) put(in *checklist.Inspection) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.loaded {
		return
	}
	if old, ok := ix.byID[in.ID]; ok && old.Revision > in.Revision {
		return
	}
	ix.byID[in.ID] = summary(in)
}

// unknown records that a write of inspection id may or may not have
// happened.
func (ix *inspectionIndex) unknown(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.unsure == nil {
		ix.unsure = map[string]bool{}
	}
	ix.unsure[id] = true
}

// absent reports whether inspection id is known not to exist: the index
// is loaded and holds no summary of it, and no write of it is in doubt.
// Before it is loaded it knows nothing.
func (ix *inspectionIndex) absent(id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.loaded && ix.byID[id] == nil && !ix.unsure[id]
}

// all returns every summary, loading them on first use and reading again
// those whose last write is in doubt. Writes wait while it reads, so none
// is missed: a write either finished before the read or records itself
// after it.
func (ix *inspectionIndex) all(ctx context.Context, db *DB) ([]*checklist.Inspection, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.loaded {
		for id := range ix.unsure {
			in, _, err := db.loadInspection(ctx, id)
			switch {
			case errors.Is(err, checklist.ENotFound):
				delete(ix.byID, id)
			case err != nil:
				return nil, err
			default:
				ix.byID[id] = summary(in)
			}
			delete(ix.unsure, id)
		}
	} else {
		clear(ix.unsure)
		ins, err := db.findInspections(ctx, bson.D{}, options.Find().SetProjection(summaryProjection))
		if err != nil {
			return nil, err
		}
		ix.byID = make(map[string]*checklist.Inspection, len(ins))
		for _, in := range ins {
			ix.byID[in.ID] = in
		}
		ix.loaded = true
	}
	out := make([]*checklist.Inspection, 0, len(ix.byID))
	for _, in := range ix.byID {
		s := *in // callers may change their copy
		out = append(out, &s)
	}
	return out, nil
}

// listIndexed is ListInspections from the index.
func (db *DB) listIndexed(ctx context.Context, q checklist.InspectionQuery, limit int) ([]*checklist.Inspection, error) {
	all, err := db.index.all(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []*checklist.Inspection
	for _, in := range all {
		if q.Matches(in) {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b *checklist.Inspection) int {
		return cmp.Or(cmp.Compare(b.Date.String(), a.Date.String()), cmp.Compare(b.ID, a.ID))
	})
	return out[:min(len(out), limit+1)], nil
}

// changedIndexed is ChangedInspections from the index: the changed ones
// are then read whole, each by its id. One that changed again in between
// ends the page there (with more): the next page, from the last one
// returned, finds its new version — a cursor past it would skip others.
func (db *DB) changedIndexed(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) (_ []*checklist.Inspection, more bool, err error) {
	all, err := db.index.all(ctx, db)
	if err != nil {
		return nil, false, err
	}
	var changed []*checklist.Inspection
	for _, in := range all {
		if (facilities == nil || slices.Contains(facilities, in.FacilityID)) && checklist.ChangedAfter(in, since, afterID) {
			changed = append(changed, in)
		}
	}
	slices.SortFunc(changed, func(a, b *checklist.Inspection) int {
		return cmp.Or(a.Updated.At.Compare(b.Updated.At), cmp.Compare(a.ID, b.ID))
	})
	if len(changed) > limit {
		changed, more = changed[:limit], true
	}
	out := make([]*checklist.Inspection, 0, len(changed))
	for _, s := range changed {
		in, _, err := db.loadInspection(ctx, s.ID)
		if err != nil {
			return nil, false, err
		}
		if in.Revision != s.Revision {
			db.index.put(in) // should this process not have seen a write
			return out, true, nil
		}
		in.Applied = nil
		out = append(out, in)
	}
	return out, more, nil
}

// photoFacilitiesIndexed is PhotoFacilities from the index.
func (db *DB) photoFacilitiesIndexed(ctx context.Context, sha string) ([]string, error) {
	all, err := db.index.all(ctx, db)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, in := range all {
		if slices.ContainsFunc(in.Photos, func(p checklist.Photo) bool { return p.SHA256 == sha }) {
			ids = append(ids, in.FacilityID)
		}
	}
	return ids, nil
}
