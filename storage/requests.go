package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/checklist"
)

// requestDoc claims a client's idempotency key within a scope (such as
// one inspection). Inserting it is the race-safe decision that the key is
// new: the unique _id holds on MongoDB and on the embedded server alike.
type requestDoc struct {
	ID          string    `bson:"_id"` // scope + "|" + key
	Fingerprint string    `bson:"fingerprint"`
	At          time.Time `bson:"at"`
}

func init() {
	indexes[colRequests] = []mongo.IndexModel{{Keys: bson.D{{Key: "at", Value: 1}}}}
}

// claimRequest records req's key within scope. A key seen before with the
// same fingerprint is a retry and passes (the caller then finds whether it
// was applied); with another fingerprint it is refused.
func (db *DB) claimRequest(ctx context.Context, scope string, req checklist.Idempotency) error {
	if len(req.Key) > checklist.MaxIdempotencyKeyLen {
		return idempotencyKeyError("the Idempotency-Key is longer than %d characters", checklist.MaxIdempotencyKeyLen)
	}
	col := db.db.Collection(colRequests)
	doc := requestDoc{ID: scope + "|" + req.Key, Fingerprint: req.Fingerprint, At: db.now()}
	unlock := db.writeLock()
	_, err := col.InsertOne(ctx, doc)
	unlock()
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return translate(err)
	}
	var prev requestDoc
	if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}).Decode(&prev); err != nil {
		return translate(err)
	}
	if prev.Fingerprint != req.Fingerprint {
		return idempotencyKeyError("this Idempotency-Key was already used for a different request")
	}
	return nil
}

func idempotencyKeyError(format string, args ...any) error {
	e := checklist.Errorf(checklist.EInvalid, format, args...)
	e.Fields = []checklist.FieldError{{Field: "Idempotency-Key", Code: "idempotency_key", Message: e.Message}}
	return e
}

// PruneRequests forgets idempotency claims older than age. A retry later
// than that is still safe: the inspection remembers its most recent keys,
// and a save of values already stored changes nothing.
func (db *DB) PruneRequests(ctx context.Context, age time.Duration) (int64, error) {
	unlock := db.writeLock()
	res, err := db.db.Collection(colRequests).DeleteMany(ctx,
		bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: db.now().Add(-age)}}}})
	unlock()
	if err != nil {
		return 0, translate(err)
	}
	return res.DeletedCount, nil
}
