package storage_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
)

func submitted(in *checklist.Inspection, c *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
	return in.Submit(c, inspector, now)
}

func approved(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
	return in.Approve(reviewer, now)
}

// TestWriteFinishesAfterCallerGone: an approval whose caller has gone
// (its context is cancelled) is written with all its follow-ups — the
// report row says approved and the audit entry is there — instead of
// failing half-way with "context canceled".
func TestWriteFinishesAfterCallerGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, submitted); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.UpdateInspection(gone, inspID, reviewer, checklist.Idempotency{}, approved); err != nil {
		t.Fatalf("approve after the caller left: %v", err)
	}
	var row struct {
		Status string `bson:"status"`
	}
	if err := db.RawCollection("report_rows").FindOne(ctx, bson.D{{Key: "_id", Value: inspID}}).Decode(&row); err != nil || row.Status != "approved" {
		t.Fatalf("report row %+v (%v), want approved", row, err)
	}
	if n, err := db.CountDocuments("audit", bson.D{{Key: "entity_id", Value: inspID}, {Key: "action", Value: "approve"}}); err != nil || n != 1 {
		t.Fatalf("%d approve audit entries (%v), want 1", n, err)
	}
	if n, err := db.CountDocuments("pending_followups", bson.D{}); err != nil || n != 0 {
		t.Fatalf("%d pending markers (%v) after a complete write, want 0", n, err)
	}
}

// TestRepairFollowUps: a process that died between an approval and its
// follow-ups leaves the inspection approved, its report row submitted,
// its audit entry uncopied and its pending marker; the repair at the next
// start brings the row and the audit trail up to date and clears the
// marker.
func TestRepairFollowUps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, submitted); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateInspection(ctx, inspID, reviewer, checklist.Idempotency{}, approved); err != nil {
		t.Fatal(err)
	}
	// The state a kill -9 after the inspection's replace leaves behind.
	if _, err := db.RawCollection("report_rows").UpdateOne(ctx, bson.D{{Key: "_id", Value: inspID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "submitted"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDocuments("audit", bson.D{{Key: "entity_id", Value: inspID}, {Key: "action", Value: "approve"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RawCollection("pending_followups").InsertOne(ctx,
		bson.D{{Key: "_id", Value: inspID}, {Key: "token", Value: "crash"}, {Key: "fiscal_year", Value: 2026}}); err != nil {
		t.Fatal(err)
	}
	db.ForgetCache()

	n, err := db.RepairFollowUps(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RepairFollowUps = %d, %v; want 1 repaired", n, err)
	}
	var row struct {
		Status string `bson:"status"`
	}
	if err := db.RawCollection("report_rows").FindOne(ctx, bson.D{{Key: "_id", Value: inspID}}).Decode(&row); err != nil || row.Status != "approved" {
		t.Fatalf("report row after repair %+v (%v), want approved", row, err)
	}
	if n, err := db.CountDocuments("audit", bson.D{{Key: "entity_id", Value: inspID}, {Key: "action", Value: "approve"}}); err != nil || n != 1 {
		t.Fatalf("%d approve audit entries after repair (%v), want 1", n, err)
	}
	if n, err := db.CountDocuments("pending_followups", bson.D{}); err != nil || n != 0 {
		t.Fatalf("%d pending markers after repair (%v), want 0", n, err)
	}
	if n, err := db.RepairFollowUps(ctx); err != nil || n != 0 {
		t.Fatalf("second repair = %d, %v; want nothing to do", n, err)
	}
}
