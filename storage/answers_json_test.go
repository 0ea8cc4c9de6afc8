package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/storage"
	"tenken/storage/storagetest"
)

// TestAnswersStoredAsOneField: answers are stored as one field, not as
// typed sub-documents: deflated JSON (answers_z) when long, and read back
// the same. Inspections stored before — with typed answers, or with the
// JSON as a string (answers_json) — still read the same and move to the
// new form with their next write.
func TestAnswersStoredAsOneField(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	ctx := context.Background()
	c := checklistfile.Default()
	pinVersion(t, db, "default", c)
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1"}, FirstYear: 2025, Years: 1, PerYear: 3, Seed: 9})
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	fresh, asJSON, typed := ins[0], ins[1], ins[2]
	if err := db.InsertInspections(ctx, []*checklist.Inspection{fresh}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertAnswersJSON(ctx, asJSON); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertTypedAnswers(ctx, typed); err != nil {
		t.Fatal(err)
	}
	newForm := func(id string) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "answers_z", Value: bson.D{{Key: "$type", Value: "binData"}}},
			{Key: "answers_json", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: "answers", Value: bson.D{{Key: "$exists", Value: false}}}}
	}
	if n, err := db.CountDocuments("inspections", newForm(fresh.ID)); err != nil || n != 1 {
		t.Fatalf("new inspection not stored with answers_z alone: %d %v", n, err)
	}
	db.ForgetCache()
	for _, want := range []*checklist.Inspection{fresh, asJSON, typed} {
		got, err := db.FindInspection(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := answersString(got), answersString(want); a != b {
			t.Errorf("%s answers read back differently:\n got %s\nwant %s", want.ID, a, b)
		}
	}
	// The older forms' next write stores answers_z.
	for _, old := range []*checklist.Inspection{asJSON, typed} {
		reviewer := checklist.Actor{UserID: "r", Name: "r", Role: checklist.RoleReviewer}
		if _, err := db.UpdateInspection(ctx, old.ID, checklist.SystemActor, checklist.Idempotency{}, approveOrReopen(reviewer)); err != nil {
			t.Fatal(err)
		}
		if n, err := db.CountDocuments("inspections", newForm(old.ID)); err != nil || n != 1 {
			t.Fatalf("inspection stored before not in the new form after a write: %d %v", n, err)
		}
		db.ForgetCache()
		got, err := db.FindInspection(ctx, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := answersString(got), answersString(old); a != b {
			t.Errorf("rewritten answers differ:\n got %s\nwant %s", a, b)
		}
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

// TestInspectionStoredAsStrings: besides the answers, what an inspection
// holds — cleared items, photos, review, history, totals, applied keys —
// is stored as two JSON strings (detail_json, list_json) and the photos'
// digests, not as typed sub-documents, and reads back the same;
// inspections stored before, with those typed, read the same (also their
// photo's lookup, on the owner and on a second instance that queries)
// and move to the new form with their next write, which reads the same
// from this process's copy as from the database.
func TestInspectionStoredAsStrings(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	other := storagetest.Reopen(t, db)
	ctx := context.Background()
	c := checklistfile.Default()
	pinVersion(t, db, "default", c)
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1", "f2"}, FirstYear: 2025, Years: 1, PerYear: 1, Seed: 9})
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	fresh, legacy := ins[0], ins[1]
	at := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	for i, in := range []*checklist.Inspection{fresh, legacy} {
		in.Photos = append(in.Photos, checklist.Photo{SHA256: shaOf(in.ID), ItemKey: "k", ContentType: checklist.TypePNG,
			Size: int64(10 + i), At: at, By: "u1"})
		in.Cleared = map[string]checklist.Stamp{"k": {Revision: 2, At: at, By: "u1"}}
		in.Applied = append(in.Applied, checklist.AppliedRequest{Key: "key-" + in.ID, Revision: in.Revision, Fingerprint: "fp"})
		inUTC(in) // as stored and read back
	}
	if err := db.InsertInspections(ctx, []*checklist.Inspection{fresh}); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertTypedAnswers(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	typed := bson.A{}
	for _, f := range []string{"cleared", "photos", "review", "history", "totals", "applied", "answers"} {
		typed = append(typed, bson.D{{Key: f, Value: bson.D{{Key: "$exists", Value: true}}}})
	}
	newForm := func(id string) bson.D {
		return bson.D{{Key: "_id", Value: id},
			{Key: "detail_json", Value: bson.D{{Key: "$type", Value: "string"}}},
			{Key: "list_json", Value: bson.D{{Key: "$type", Value: "string"}}},
			{Key: "photo_sha256", Value: shaOf(id)},
			{Key: "$nor", Value: typed}}
	}
	if n, err := db.CountDocuments("inspections", newForm(fresh.ID)); err != nil || n != 1 {
		t.Fatalf("new inspection not stored as strings alone: %d %v", n, err)
	}
	db.ForgetCache()
	for _, want := range []*checklist.Inspection{fresh, legacy} {
		got, err := db.FindInspection(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := heldString(t, got), heldString(t, want); a != b {
			t.Errorf("%s read back differently:\n got %s\nwant %s", want.ID, a, b)
		}
		for name, d := range map[string]*storage.DB{"owner": db, "second instance": other} {
			if facs, err := d.PhotoFacilities(ctx, shaOf(want.ID)); err != nil || len(facs) != 1 || facs[0] != want.FacilityID {
				t.Errorf("%s: PhotoFacilities(%s's photo) = %v, %v; want [%s]", name, want.ID, facs, err, want.FacilityID)
			}
		}
	}
	// The legacy inspection's next write stores the new form.
	if _, err := db.UpdateInspection(ctx, legacy.ID, inspector, checklist.Idempotency{}, approveOrReopen(reviewer)); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountDocuments("inspections", newForm(legacy.ID)); err != nil || n != 1 {
		t.Fatalf("legacy inspection not in the new form after a write: %d %v", n, err)
	}
	cached, err := db.FindInspection(ctx, legacy.ID) // the owner's copy of its write, kept decoded
	if err != nil {
		t.Fatal(err)
	}
	db.ForgetCache()
	got, err := db.FindInspection(ctx, legacy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := heldString(t, cached), heldString(t, got); a != b {
		t.Errorf("the written copy reads differently from the stored one:\n got %s\nwant %s", a, b)
	}
	if len(got.History) != len(legacy.History)+1 || got.Revision != legacy.Revision+1 {
		t.Fatalf("after the write: %d transitions, revision %d; want %d, %d", len(got.History), got.Revision,
			len(legacy.History)+1, legacy.Revision+1)
	}
	got.History, got.Revision, got.Updated, got.Status, got.Review = legacy.History, legacy.Revision, legacy.Updated, legacy.Status, legacy.Review
	got.Applied = legacy.Applied
	if a, b := heldString(t, got), heldString(t, legacy); a != b {
		t.Errorf("rewritten inspection differs besides the write:\n got %s\nwant %s", a, b)
	}
}

// inUTC sets in's times (besides its answers') in UTC.
func inUTC(in *checklist.Inspection) {
	for i := range in.Photos {
		in.Photos[i].At = in.Photos[i].At.UTC()
	}
	for i := range in.History {
		in.History[i].At = in.History[i].At.UTC()
	}
	for k, s := range in.Cleared {
		s.At = s.At.UTC()
		in.Cleared[k] = s
	}
	in.Review.At = in.Review.At.UTC()
	in.Created.At, in.Updated.At = in.Created.At.UTC(), in.Updated.At.UTC()
}

// heldString is what in holds besides its answers, for comparing.
func heldString(t *testing.T, in *checklist.Inspection) string {
	t.Helper()
	js, err := json.Marshal(struct {
		Cleared map[string]checklist.Stamp
		Photos  []checklist.Photo
		Review  checklist.Review
		History []checklist.Transition
		Totals  checklist.Totals
		Applied []checklist.AppliedRequest
		Created checklist.Stamp
		Updated checklist.Stamp
		Rev     int64
	}{in.Cleared, in.Photos, in.Review, in.History, in.Totals, in.Applied, in.Created, in.Updated, in.Revision})
	if err != nil {
		t.Fatal(err)
	}
	return string(js) + answersString(in)
}

// approveOrReopen is a write by reviewer that every stored inspection
// takes: an approved one is reopened, any other approved.
func approveOrReopen(reviewer checklist.Actor) checklist.InspectionUpdate {
	return func(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
		if in.Status == checklist.StatusApproved {
			return in.Reopen("再確認のため", reviewer, now)
		}
		return in.Approve(reviewer, now)
	}
}
