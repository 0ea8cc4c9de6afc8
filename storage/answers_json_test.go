package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/storage/storagetest"
)

// TestAnswersStoredAsOneField: answers are stored as one JSON string
// (answers_json), not as typed sub-documents, and read back the same;
// inspections stored before, with typed answers, still read the same
// and move to the new form with their next write.
func TestAnswersStoredAsOneField(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	ctx := context.Background()
	c := checklistfile.Default()
	pinVersion(t, db, "default", c)
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1"}, FirstYear: 2025, Years: 1, PerYear: 2, Seed: 9})
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	fresh, legacy := ins[0], ins[1]
	if err := db.InsertInspections(ctx, []*checklist.Inspection{fresh}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertTypedAnswers(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountDocuments("inspections", bson.D{{Key: "_id", Value: fresh.ID}, {Key: "answers_json", Value: bson.D{{Key: "$type", Value: "string"}}}, {Key: "answers", Value: bson.D{{Key: "$exists", Value: false}}}}); err != nil || n != 1 {
		t.Fatalf("new inspection not stored with answers_json alone: %d %v", n, err)
	}
	db.ForgetCache()
	for _, want := range []*checklist.Inspection{fresh, legacy} {
		got, err := db.FindInspection(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := answersString(got), answersString(want); a != b {
			t.Errorf("%s answers read back differently:\n got %s\nwant %s", want.ID, a, b)
		}
	}
	// The legacy inspection's next write stores answers_json.
	if _, err := db.UpdateInspection(ctx, legacy.ID, checklist.SystemActor, checklist.Idempotency{},
		func(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			reviewer := checklist.Actor{UserID: "r", Name: "r", Role: checklist.RoleReviewer}
			if in.Status == checklist.StatusApproved {
				return in.Reopen("再確認のため", reviewer, now)
			}
			return in.Approve(reviewer, now)
		}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountDocuments("inspections", bson.D{{Key: "_id", Value: legacy.ID}, {Key: "answers", Value: bson.D{{Key: "$exists", Value: false}}}}); err != nil || n != 1 {
		t.Fatalf("legacy inspection still has typed answers after a write: %d %v", n, err)
	}
	db.ForgetCache()
	got, err := db.FindInspection(ctx, legacy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := answersString(got), answersString(legacy); a != b {
		t.Errorf("rewritten answers differ:\n got %s\nwant %s", a, b)
	}
}

func answersString(in *checklist.Inspection) string {
	var s string
	for _, k := range sortedAnswerKeys(in) {
		r := in.Answers[k]
		s += fmt.Sprintf("%s=%v|%q|%v|%+v|%d|%s|%s\n", k, r.Answer.Value, r.Answer.Comment, r.Answer.Photos, r.Outcome,
			r.Revision, r.At.UTC().Format(time.RFC3339Nano), r.By)
	}
	return s
}

func sortedAnswerKeys(in *checklist.Inspection) []string {
	var keys []string
	for k := range in.Answers {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
