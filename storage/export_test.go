package storage

import (
	"context"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/checklist"
)

// StorageKeyedMutexProbe lets the external tests reach the keyed lock.
type StorageKeyedMutexProbe = keyedMutex

// CountDocuments counts the documents of a collection matching filter,
// for tests that assert exact numbers.
func (db *DB) CountDocuments(name string, filter any) (int64, error) {
	db.audits.flush() // as an admin's audit query does
	return db.db.Collection(name).CountDocuments(context.Background(), filter)
}

// FlushAudit returns when the audit copier has copied every entry queued
// and deleted the markers queued with them.
func (db *DB) FlushAudit() { db.audits.flush() }

// DeleteDocuments removes documents directly, for tests that simulate a
// crash between two writes.
func (db *DB) DeleteDocuments(name string, filter any) error {
	_, err := db.db.Collection(name).DeleteMany(context.Background(), filter)
	return err
}

// ForgetCache drops what this process remembers of its own writes, as a
// restart would.
func (db *DB) ForgetCache() {
	db.cache = writeCache{}
	db.heads.invalidate()
	db.facilities.invalidate()
	db.actionFacilities.invalidate()
	db.index = inspectionIndex{}
	db.rowCache.forget()
}

// RawCollection exposes a collection to tests that probe the server.
func (db *DB) RawCollection(name string) *mongo.Collection { return db.db.Collection(name) }

// EnsureReportRows runs the start-up repair of missing report rows and
// waits for its background part.
func (db *DB) EnsureReportRows(ctx context.Context) error {
	if err := db.ensureReportRows(ctx); err != nil {
		return err
	}
	db.rows.wait()
	return nil
}

// InsertTypedAnswers stores in as inspections were stored before
// answers_json, detail_json and list_json: its answers, cleared items,
// photos, review, history, totals and applied keys as typed fields and
// sub-documents.
func (db *DB) InsertTypedAnswers(ctx context.Context, in *checklist.Inspection) error {
	d := toInspectionDoc(in)
	if err := d.unpack(); err != nil {
		return err
	}
	d.AnswersJSON, d.DetailJSON, d.ListJSON, d.PhotoSHA256 = "", "", "", nil
	for _, k := range slices.Sorted(maps.Keys(in.Answers)) {
		d.Answers = append(d.Answers, toAnswerDoc(k, in.Answers[k]))
	}
	_, err := db.db.Collection(colInspections).InsertOne(ctx, d)
	return err
}

// InsertAnswersJSON stores in as inspections were stored before
// answers_z: its answers as the JSON string answers_json, however long.
func (db *DB) InsertAnswersJSON(ctx context.Context, in *checklist.Inspection) error {
	raw, err := bson.Marshal(storedInspection(toInspectionDoc(in)))
	if err != nil {
		return err
	}
	_, err = db.db.Collection(colInspections).InsertOne(ctx, bson.Raw(raw))
	return err
}

// WaitBackground waits for the work Open left running: the report rows'
// rebuild and the schema version recorded after it.
func (db *DB) WaitBackground() {
	db.rows.wait()
	db.background.Wait()
}

// ExpireReportVersions makes the next ReportVersions read the database,
// as it does once ReportVersionTTL has passed.
func ExpireReportVersions(db *DB) {
	db.reportVers.mu.Lock()
	db.reportVers.readAt = time.Time{}
	db.reportVers.mu.Unlock()
}
