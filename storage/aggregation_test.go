package storage_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/storage/storagetest"
)

// TestEmbeddedAggregationQuirks pins two behaviours of the embedded
// server's aggregation that the report pipeline works around (see
// ReportYear). On MongoDB both results are complete; the test accepts
// either, and fails only if the workaround's own assumptions break.
func TestEmbeddedAggregationQuirks(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	ctx := context.Background()
	c := db.RawCollection("quirks")
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "f", Value: "F1"},
		{Key: "answers", Value: bson.A{
			bson.D{{Key: "key", Value: "k1"}, {Key: "failed", Value: 1}, {Key: "points", Value: 2.5}},
			bson.D{{Key: "key", Value: "k2"}, {Key: "failed", Value: 0}, {Key: "points", Value: 1.0}},
		}}}); err != nil {
		t.Fatal(err)
	}
	run := func(stages ...bson.D) []bson.M {
		t.Helper()
		p := bson.A{bson.D{{Key: "$unwind", Value: "$answers"}}}
		for _, s := range stages {
			p = append(p, s)
		}
		cur, err := c.Aggregate(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []bson.M
		if err := cur.All(ctx, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	// $unwind: other top-level fields may be dropped; _id is kept.
	rows := run()
	if len(rows) != 2 || rows[0]["_id"] != "a" {
		t.Fatalf("unwind: %v", rows)
	}
	t.Logf("after $unwind, facility field kept: %v", rows[0]["f"] != nil)

	// $group: the workaround's form — one $sum, numbers in the key —
	// gives exact results.
	rows = run(bson.D{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: bson.D{{Key: "i", Value: "$_id"}, {Key: "k", Value: "$answers.key"}, {Key: "f", Value: "$answers.failed"}}},
		{Key: "points", Value: bson.D{{Key: "$sum", Value: "$answers.points"}}},
	}}})
	got := map[string]float64{}
	for _, r := range rows {
		id := map[string]any{}
		for _, e := range r["_id"].(bson.D) {
			id[e.Key] = e.Value
		}
		if id["i"] != "a" {
			t.Fatalf("group key lost the _id: %v", r)
		}
		got[id["k"].(string)] = r["points"].(float64)
	}
	if got["k1"] != 2.5 || got["k2"] != 1.0 {
		t.Fatalf("grouped sums %v", got)
	}

	// A second accumulator: complete on MongoDB, 0 on the embedded server.
	rows = run(bson.D{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: "$answers.key"},
		{Key: "points", Value: bson.D{{Key: "$sum", Value: "$answers.points"}}},
		{Key: "failed", Value: bson.D{{Key: "$sum", Value: "$answers.failed"}}},
	}}})
	for _, r := range rows {
		if r["_id"] == "k1" {
			t.Logf("second accumulator computed: %v (%v)", r["failed"] != int32(0), r)
		}
	}
}
