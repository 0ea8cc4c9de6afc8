package storage

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/checklist"
)

// InsertVersionForTest stores v directly, as a publish does before it
// records the number on the checklist.
func InsertVersionForTest(db *DB, v checklist.Version) error {
	return db.insertVersion(context.Background(), v, checklist.PublishAuditEntry(v, checklist.SystemActor))
}

// AlterVersionForTest changes a stored version's content behind the
// storage layer's back, as a faulty tool or a person with a shell could.
func AlterVersionForTest(db *DB, id string, number int) error {
	_, err := db.db.Collection(colChecklistVersions).UpdateOne(context.Background(),
		bson.D{{Key: "_id", Value: versionID(id, number)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "content.title.ja", Value: "改ざん"}}}})
	return err
}

// AddIndexesForTest registers more indexes, as a feature's init does,
// until the returned function removes them.
func AddIndexesForTest(col string, models ...mongo.IndexModel) (remove func()) {
	indexes[col] = models
	return func() { delete(indexes, col) }
}
