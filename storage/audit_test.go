package storage_test

import (
	"context"
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
