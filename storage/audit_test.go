package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/storage"
	"tenken/storage/storagetest"
)

// auditIDs returns the ids of the audit entries of entity id, oldest
// first.
func auditIDs(t *testing.T, db *storage.DB, entity, id string) []string {
	t.Helper()
	entries, _, err := db.ListAudit(context.Background(), checklist.AuditQuery{Entity: entity, EntityID: id, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[len(entries)-1-i] = e.ID
	}
	return out
}

// crash removes audit entry id, as if the process had died after the
// entity's write and before the entry was copied to the trail.
func crash(t *testing.T, db *storage.DB, id string) {
	t.Helper()
	if err := db.DeleteDocuments("audit", bson.D{{Key: "_id", Value: id}}); err != nil {
		t.Fatal(err)
	}
}

func wantIDs(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit entries %v, want %v", got, want)
	}
}

// TestAuditOutboxAfterCrash: an entry the trail lost to a crash between
// an entity's write and the copy is restored by the entity's next write,
// exactly once, for every audited kind of document.
func TestAuditOutboxAfterCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	by := actor("admin-1")

	t.Run("Facility", func(t *testing.T) {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: "CR-1", Name: checklist.FacilityName{JA: "施設", EN: "Hall"},
			Kind: checklist.KindPublicHall, Active: true}, by)
		if err != nil {
			t.Fatal(err)
		}
		crash(t, db, "facility:"+f.ID+":1")
		wantIDs(t, auditIDs(t, db, checklist.EntityFacility, f.ID))
		// A refused write (stale revision) copies nothing and adds nothing.
		addr := "東京都"
		if _, err := db.UpdateFacility(ctx, f.ID, 7, by, checklist.FacilityChange{Address: &addr}.Apply); checklist.ErrorCode(err) != checklist.ERevision {
			t.Fatalf("stale update: %v", err)
		}
		if _, err := db.UpdateFacility(ctx, f.ID, 1, by, checklist.FacilityChange{Address: &addr}.Apply); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, auditIDs(t, db, checklist.EntityFacility, f.ID), "facility:"+f.ID+":1", "facility:"+f.ID+":2")
	})

	t.Run("UserPasswordHasNoSecret", func(t *testing.T) {
		u, err := db.CreateUser(ctx, checklist.User{Username: "crash", Role: checklist.RoleReviewer}, "$argon2id$first-hash", by)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetPassword(ctx, u.ID, "$argon2id$second-hash", by); err != nil {
			t.Fatal(err)
		}
		crash(t, db, "user:"+u.ID+":2")
		role := checklist.RoleAdmin
		if _, err := db.UpdateUser(ctx, u.ID, 2, by, func(u checklist.User) (checklist.User, error) {
			return checklist.UserChange{Role: &role}.Apply(u, by.UserID, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		entries, _, err := db.ListAudit(ctx, checklist.AuditQuery{EntityID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 || entries[1].Action != checklist.AuditPasswordChange || entries[0].Action != checklist.AuditRoleChange {
			t.Fatalf("entries %+v", entries)
		}
		// Neither the trail nor the outbox in the stored user holds a hash.
		var raw bson.M
		if err := db.RawCollection("users").FindOne(ctx, bson.D{{Key: "_id", Value: u.ID}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		outbox, err := bson.MarshalExtJSON(raw["audit_outbox"], false, false)
		if err != nil {
			t.Fatal(err)
		}
		trail, _, _ := db.ListAudit(ctx, checklist.AuditQuery{})
		text := string(outbox)
		for _, e := range trail {
			text += e.Summary + e.Reason + strings.Join(e.Items, " ")
		}
		if strings.Contains(text, "argon2id") || strings.Contains(text, "hash") {
			t.Fatalf("a secret in the audit: %s", text)
		}
	})

	t.Run("ChecklistPublishThenRetire", func(t *testing.T) {
		rec, err := db.CreateChecklist(ctx, "crash", testContent("一"), by)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Publish(ctx, rec.ID, 0, 0, by); err != nil {
			t.Fatal(err)
		}
		crash(t, db, "checklist:crash:v1:publish")
		if _, err := db.RetireVersion(ctx, rec.ID, 1, by); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, auditIDs(t, db, checklist.EntityChecklist, "crash"), "checklist:crash:1", "checklist:crash:v1:publish", "checklist:crash:v1:retire")
	})

	t.Run("Action", func(t *testing.T) {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: "CR-2", Name: checklist.FacilityName{JA: "施設", EN: "Hall"},
			Kind: checklist.KindPublicHall, Active: true}, by)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		a, err := checklist.NewAction(checklist.Action{Title: "掲示を直す", FacilityID: f.ID, ItemKey: "flyers.sorted", TargetFiscalYear: 2026}, by, now)
		if err != nil {
			t.Fatal(err)
		}
		if a, err = db.CreateAction(ctx, a, by); err != nil {
			t.Fatal(err)
		}
		crash(t, db, "action:"+a.ID+":1")
		done := checklist.ActionDone
		if _, err := db.UpdateAction(ctx, a.ID, 1, by, func(x *checklist.Action) error {
			return x.Apply(checklist.ActionChange{Status: &done}, by, now)
		}); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, auditIDs(t, db, checklist.EntityAction, a.ID), "action:"+a.ID+":1", "action:"+a.ID+":2")
	})
}

// TestInspectionAuditEntriesCarriedOn: a write of an inspection whose
// earlier audit entries are not known to be in the trail — the copier
// has not come to them yet, or a crash lost them — carries them on in
// the document (at most eight; beyond, it copies them first), and every
// entry reaches the trail exactly once.
func TestInspectionAuditEntriesCarriedOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"inspection:" + inspID + ":1"}
	write := func(i int) {
		t.Helper()
		if _, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, addPhoto(shaOf(fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("inspection:%s:%d", inspID, len(want)+1))
	}
	// Back to back: the copier's work may lag behind the writes.
	for i := range 5 {
		write(i)
	}
	wantIDs(t, auditIDs(t, db, checklist.EntityInspection, inspID), want...)

	// A crash after each write, before its entry was copied: each next
	// write (after a restart) carries on what it cannot know was copied,
	// until there are more than eight.
	carried, copiedFirst := false, false
	for i := 5; i < 20; i++ {
		db.FlushAudit()
		crash(t, db, want[len(want)-1])
		db.ForgetCache()
		write(i)
		// The entries are stored as one JSON array, its own write's last.
		var doc struct {
			AuditJSON string `bson:"audit_json"`
		}
		if err := db.RawCollection("inspections").FindOne(ctx, bson.D{{Key: "_id", Value: inspID}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		var entries []struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal([]byte(doc.AuditJSON), &entries); err != nil || len(entries) == 0 || entries[len(entries)-1].ID != want[len(want)-1] {
			t.Fatalf("after write %d the stored entries are %s (%v); want its own last", i, doc.AuditJSON, err)
		}
		unsent := len(entries) - 1
		if unsent > 8 {
			t.Fatalf("after write %d the inspection carries %d entries, want at most 8", i, unsent)
		}
		carried = carried || unsent > 0
		copiedFirst = copiedFirst || unsent == 0
	}
	if !carried || !copiedFirst {
		t.Errorf("carried on %v, copied first %v: want both", carried, copiedFirst)
	}
	wantIDs(t, auditIDs(t, db, checklist.EntityInspection, inspID), want...)
}

// TestInspectionOutboxStoredBefore: an inspection stored before its audit
// entries were packed into audit_json keeps its entry in the
// audit_outbox sub-document; it is read from there, reaches the trail
// with the next write, and that write stores audit_json only.
func TestInspectionOutboxStoredBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	first := "inspection:" + inspID + ":1"
	db.FlushAudit()
	crash(t, db, first)
	if _, err := db.RawCollection("inspections").UpdateOne(ctx, bson.D{{Key: "_id", Value: inspID}}, bson.D{
		{Key: "$unset", Value: bson.D{{Key: "audit_json", Value: ""}}},
		{Key: "$set", Value: bson.D{{Key: "audit_outbox", Value: bson.D{{Key: "_id", Value: first}, {Key: "at", Value: time.Now()},
			{Key: "actor_id", Value: inspector.UserID}, {Key: "entity", Value: checklist.EntityInspection},
			{Key: "entity_id", Value: inspID}, {Key: "action", Value: "create"}, {Key: "revision", Value: 1}}}}},
	}); err != nil {
		t.Fatal(err)
	}
	db.ForgetCache()
	if _, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, addPhoto(shaOf("x"))); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, auditIDs(t, db, checklist.EntityInspection, inspID), first, "inspection:"+inspID+":2")
	var raw bson.M
	if err := db.RawCollection("inspections").FindOne(ctx, bson.D{{Key: "_id", Value: inspID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["audit_outbox"]; ok || raw["audit_json"] == nil {
		t.Errorf("stored after the write: audit_outbox %v, audit_json %v; want only audit_json", raw["audit_outbox"], raw["audit_json"])
	}
}
