package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// ChangedFacilities returns the facilities among within (nil for every
// facility) changed after since, for the tablets' sync feed. Facilities
// are few (dozens), so the feed carries all changed ones at once.
func (db *DB) ChangedFacilities(ctx context.Context, within []string, since time.Time) (_ []checklist.Facility, err error) {
	defer wrap(&err, "changed facilities")
	filter := bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gt", Value: since}}}}
	if within != nil {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: append([]string{}, within...)}}})
	}
	var docs []facilityDoc
	if err := db.findAll(ctx, colFacilities, filter, options.Find().SetSort(bson.D{{Key: "code", Value: 1}}), &docs); err != nil {
		return nil, err
	}
	out := make([]checklist.Facility, len(docs))
	for i, d := range docs {
		out[i] = d.facility()
	}
	return out, nil
}
