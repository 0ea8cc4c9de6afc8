package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// memory answers the reads that a DB may answer from what it remembers
// of its own writes. Only the data's sole writer (SoleWriter) may trust
// that memory: it saw every write, so what it remembers is exact. Any
// other DB shares the data with writers it cannot see and asks the
// database every time.
//
// The repository calls memory for these reads whatever the DB is; which
// memory it has is decided once, at Open. The caches themselves (index,
// heads, facilities, rounds, actionFacilities) are kept up to date by
// every DB's writes — that costs nothing — and are read only by
// soleWriterMemory.
type memory interface {
	// findInspection is FindInspection.
	findInspection(ctx context.Context, id string) (*checklist.Inspection, error)
	// listInspections is ListInspections' page: up to limit+1
	// summaries, newest inspection date first.
	listInspections(ctx context.Context, q checklist.InspectionQuery, limit int) ([]*checklist.Inspection, error)
	// changedInspections is ChangedInspections.
	changedInspections(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) ([]*checklist.Inspection, bool, error)
	// photoFacilities is PhotoFacilities.
	photoFacilities(ctx context.Context, sha string) ([]string, error)
	// roundInspections is RoundInspections.
	roundInspections(ctx context.Context, fy int) ([]*checklist.Inspection, error)
	// allVersions is AllVersions.
	allVersions(ctx context.Context) ([]checklist.Version, error)
	// knownVersion returns version number of checklist id when it is
	// remembered whole; ok is false when it must be read.
	knownVersion(ctx context.Context, id string, number int) (v checklist.Version, ok bool, err error)
	// mayHaveOpenActions reports whether facility may have an open
	// improvement action: true unless it is known to have none.
	mayHaveOpenActions(ctx context.Context, facility string) bool
	// roundAssignments is RoundAssignments.
	roundAssignments(ctx context.Context, fy int) ([]checklist.Assignment, error)
	// roundOpened records the assignments of the round of fiscal year fy
	// just opened with exactly as.
	roundOpened(fy int, as []checklist.Assignment)
	// reportRows reads the report rows of the fiscal years fys.
	reportRows(ctx context.Context, fys []int) ([]*reportRow, error)
	// reportFacilities lists every facility by code.
	reportFacilities(ctx context.Context) ([]checklist.Facility, error)
	// findFacility is FindFacility.
	findFacility(ctx context.Context, id string) (checklist.Facility, error)
}

// sharedMemory is the memory of a DB that shares the data with other
// writers (several instances on MongoDB, tools beside a server): it
// remembers nothing, and every read is a query.
type sharedMemory struct{ db *DB }

func (m sharedMemory) findInspection(ctx context.Context, id string) (*checklist.Inspection, error) {
	in, _, err := m.db.loadInspection(ctx, id)
	return in, err
}

func (m sharedMemory) listInspections(ctx context.Context, q checklist.InspectionQuery, limit int) ([]*checklist.Inspection, error) {
	return m.db.listQueried(ctx, q, limit)
}

func (m sharedMemory) changedInspections(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) ([]*checklist.Inspection, bool, error) {
	return m.db.changedQueried(ctx, facilities, since, afterID, limit)
}

func (m sharedMemory) photoFacilities(ctx context.Context, sha string) ([]string, error) {
	return m.db.photoFacilitiesQueried(ctx, sha)
}

func (m sharedMemory) roundInspections(ctx context.Context, fy int) ([]*checklist.Inspection, error) {
	return m.db.findInspections(ctx, bson.D{{Key: "fiscal_year", Value: fy}}, options.Find().SetProjection(summaryProjection))
}

func (m sharedMemory) allVersions(ctx context.Context) ([]checklist.Version, error) {
	return m.db.versionHeads(ctx, bson.D{}, nil)
}

func (sharedMemory) knownVersion(context.Context, string, int) (checklist.Version, bool, error) {
	return checklist.Version{}, false, nil
}

func (sharedMemory) mayHaveOpenActions(context.Context, string) bool { return true }

func (m sharedMemory) roundAssignments(ctx context.Context, fy int) ([]checklist.Assignment, error) {
	return m.db.queryAssignments(ctx, fy)
}

func (sharedMemory) roundOpened(int, []checklist.Assignment) {}

func (m sharedMemory) reportRows(ctx context.Context, fys []int) ([]*reportRow, error) {
	return m.db.reportRowsQueried(ctx, fys)
}

func (m sharedMemory) reportFacilities(ctx context.Context) ([]checklist.Facility, error) {
	return m.db.facilitiesByCode(ctx)
}

func (m sharedMemory) findFacility(ctx context.Context, id string) (checklist.Facility, error) {
	d, err := m.db.findFacilityDoc(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return checklist.Facility{}, notFound(err, "no facility %q", id)
	}
	return d.facility(), nil
}

// soleWriterMemory is the memory of the data's sole writer (the process
// that owns the embedded server): lists, the tablets' sync, photo
// authorization, rounds and checklist versions are read from the
// summaries and lists it keeps between its own writes (and an inspection
// from the copy of its last write of it), instead of
// queries that the embedded server answers by decoding every document
// of a collection. Reports read its copy of the report rows and the
// facility list.
type soleWriterMemory struct{ db *DB }

// findInspection answers from the copy of this process's last write of
// the inspection, when it is in the write cache: that is what is stored.
func (m soleWriterMemory) findInspection(ctx context.Context, id string) (*checklist.Inspection, error) {
	if e, ok := m.db.cache.get(id); ok {
		return e.doc.toDomain()
	}
	if m.db.index.absent(id) { // a create's check that its id is new
		return nil, checklist.Errorf(checklist.ENotFound, "no inspection %s", id)
	}
	in, _, err := m.db.loadInspection(ctx, id)
	return in, err
}

func (m soleWriterMemory) listInspections(ctx context.Context, q checklist.InspectionQuery, limit int) ([]*checklist.Inspection, error) {
	return m.db.listIndexed(ctx, q, limit)
}

func (m soleWriterMemory) changedInspections(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) ([]*checklist.Inspection, bool, error) {
	return m.db.changedIndexed(ctx, facilities, since, afterID, limit)
}

func (m soleWriterMemory) photoFacilities(ctx context.Context, sha string) ([]string, error) {
	return m.db.photoFacilitiesIndexed(ctx, sha)
}

func (m soleWriterMemory) roundInspections(ctx context.Context, fy int) ([]*checklist.Inspection, error) {
	return m.db.roundInspectionsIndexed(ctx, fy)
}

func (m soleWriterMemory) allVersions(ctx context.Context) ([]checklist.Version, error) {
	return m.db.allVersionsCached(ctx)
}

func (m soleWriterMemory) knownVersion(ctx context.Context, id string, number int) (checklist.Version, bool, error) {
	return m.db.knownVersion(ctx, id, number)
}

func (m soleWriterMemory) mayHaveOpenActions(ctx context.Context, facility string) bool {
	return m.db.mayHaveOpenActions(ctx, facility)
}

func (m soleWriterMemory) roundAssignments(ctx context.Context, fy int) ([]checklist.Assignment, error) {
	return m.db.roundAssignmentsCached(ctx, fy)
}

func (m soleWriterMemory) roundOpened(fy int, as []checklist.Assignment) {
	m.db.rounds.opened(fy, as)
}

func (m soleWriterMemory) reportRows(ctx context.Context, fys []int) ([]*reportRow, error) {
	return m.db.rowCache.years(ctx, m.db, fys)
}

func (m soleWriterMemory) reportFacilities(ctx context.Context) ([]checklist.Facility, error) {
	return m.db.facilities.read(func() ([]checklist.Facility, error) { return m.db.facilitiesByCode(ctx) })
}

// findFacility looks in the list reports read: every create of an
// inspection checks its facility, and a query of one facility cost the
// embedded server more than the scan of a bureau's list in memory.
func (m soleWriterMemory) findFacility(ctx context.Context, id string) (checklist.Facility, error) {
	f, ok, err := m.db.facilities.find(func() ([]checklist.Facility, error) { return m.db.facilitiesByCode(ctx) },
		func(f checklist.Facility) bool { return f.ID == id })
	switch {
	case err != nil:
		return checklist.Facility{}, err
	case !ok:
		return checklist.Facility{}, checklist.Errorf(checklist.ENotFound, "no facility %q", id)
	}
	return f, nil
}
