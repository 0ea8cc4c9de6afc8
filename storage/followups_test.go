package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/storage"
	"tenken/storage/storagetest"
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
	db.FlushAudit() // the approval's follow-ups are done; then undo them
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

// outboxInTrail reports whether the audit entry in the outbox of document
// id of col is in the audit trail.
func outboxInTrail(t *testing.T, db *storage.DB, col, id string) bool {
	t.Helper()
	var doc struct {
		Outbox struct {
			ID string `bson:"_id"`
		} `bson:"audit_outbox"`
	}
	if err := db.RawCollection(col).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		t.Fatalf("%s %s: %v", col, id, err)
	}
	if doc.Outbox.ID == "" {
		t.Fatalf("%s %s has no audit outbox", col, id)
	}
	n, err := db.CountDocuments("audit", bson.D{{Key: "_id", Value: doc.Outbox.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestEveryWriteFinishesAfterCallerGone: every write other than an
// inspection's, made for a caller that has gone (its context cancelled),
// is written with its follow-ups — its audit entry in the trail and the
// report data version it changes renewed — instead of failing with
// "context canceled".
func TestEveryWriteFinishesAfterCallerGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	by := actor("admin-1")
	gone, cancel := context.WithCancel(ctx)
	cancel()
	now := time.Now()

	var (
		f  checklist.Facility
		a  checklist.Action
		u  checklist.User
		fy = 2026
	)
	for _, w := range []struct {
		name  string
		key   string                                                // the report data version it renews, if any
		write func(ctx context.Context) (col, id string, err error) // the document holding its audit entry, col "" if none
	}{
		{"CreateFacility", checklist.ReportVersionFacilities, func(ctx context.Context) (_, _ string, err error) {
			f, err = db.CreateFacility(ctx, checklist.Facility{Code: "GONE-1", Name: checklist.FacilityName{JA: "施設", EN: "Hall"},
				Kind: checklist.KindPublicHall, Active: true}, by)
			return "facilities", f.ID, err
		}},
		{"UpdateFacility", checklist.ReportVersionFacilities, func(ctx context.Context) (_, _ string, err error) {
			addr := "東京都"
			_, err = db.UpdateFacility(ctx, f.ID, 1, by, checklist.FacilityChange{Address: &addr}.Apply)
			return "facilities", f.ID, err
		}},
		{"CreateAction", checklist.ReportVersionActions, func(ctx context.Context) (_, _ string, err error) {
			if a, err = checklist.NewAction(checklist.Action{Title: "掲示を直す", FacilityID: f.ID, ItemKey: "flyers.sorted", TargetFiscalYear: fy}, by, now); err != nil {
				return "", "", err
			}
			a, err = db.CreateAction(ctx, a, by)
			return "actions", a.ID, err
		}},
		{"UpdateAction", checklist.ReportVersionActions, func(ctx context.Context) (_, _ string, err error) {
			done := checklist.ActionDone
			_, err = db.UpdateAction(ctx, a.ID, 1, by, func(x *checklist.Action) error {
				return x.Apply(checklist.ActionChange{Status: &done}, by, now)
			})
			return "actions", a.ID, err
		}},
		{"CreateUser", "", func(ctx context.Context) (_, _ string, err error) {
			u, err = db.CreateUser(ctx, checklist.User{Username: "gone", Role: checklist.RoleReviewer}, "$argon2id$hash", by)
			return "users", u.ID, err
		}},
		{"UpdateUser", "", func(ctx context.Context) (_, _ string, err error) {
			disabled := true
			_, err = db.UpdateUser(ctx, u.ID, 1, by, func(u checklist.User) (checklist.User, error) {
				return checklist.UserChange{Disabled: &disabled}.Apply(u, by.UserID, now)
			})
			return "users", u.ID, err
		}},
		{"SetPassword", "", func(ctx context.Context) (_, _ string, err error) {
			return "users", u.ID, db.SetPassword(ctx, u.ID, "$argon2id$other", by)
		}},
		{"CreateChecklist", "", func(ctx context.Context) (_, _ string, err error) {
			_, err = db.CreateChecklist(ctx, "gone", testContent("一"), by)
			return "checklists", "gone", err
		}},
		{"ReplaceDraft", "", func(ctx context.Context) (_, _ string, err error) {
			_, err = db.ReplaceDraft(ctx, "gone", 1, testContent("二"), by)
			return "checklists", "gone", err
		}},
		{"Publish", "", func(ctx context.Context) (_, _ string, err error) {
			_, err = db.Publish(ctx, "gone", 0, 0, by)
			return "checklist_versions", "gone:1", err
		}},
		{"SetApplicability", "", func(ctx context.Context) (_, _ string, err error) {
			_, err = db.SetApplicability(ctx, checklist.Applicability{Default: "gone"}, 0, by)
			return "checklist_applicability", checklist.ApplicabilityID, err
		}},
		{"RetireVersion", "", func(ctx context.Context) (_, _ string, err error) {
			_, err = db.RetireVersion(ctx, "gone", 1, by)
			return "checklist_versions", "gone:1", err
		}},
		{"OpenRound", checklist.ReportVersionRound(fy), func(ctx context.Context) (_, _ string, err error) {
			r, err := checklist.NewRound(fy, checklist.Date{}, checklist.Date{}, checklist.Date{}, by, now)
			if err != nil {
				return "", "", err
			}
			return "rounds", "2026", db.OpenRound(ctx, r, checklist.OpenRound(r, []checklist.Facility{f}, checklist.Applicability{}, nil, nil, by), by)
		}},
		{"ChangeAssignments", checklist.ReportVersionRound(fy), func(ctx context.Context) (_, _ string, err error) {
			due := checklist.Date{Year: fy + 1, Month: 1, Day: 31}
			_, err = db.ChangeAssignments(ctx, fy, by, func(r checklist.Round, cur []checklist.Assignment) ([]checklist.Assignment, error) {
				next, _, err := checklist.AssignmentChange{Due: &due}.Apply(r, cur[0], by, now)
				return []checklist.Assignment{next}, err
			})
			if err != nil {
				return "", "", err
			}
			// Assignments have no outbox: their entries are written
			// with them.
			n, err := db.CountDocuments("audit", bson.D{{Key: "entity", Value: checklist.EntityAssignment}, {Key: "revision", Value: 2}})
			if err == nil && n != 1 {
				err = fmt.Errorf("%d audit entries of the change, want 1", n)
			}
			return "", "", err
		}},
		{"UpdateRound", checklist.ReportVersionRound(fy), func(ctx context.Context) (_, _ string, err error) {
			closed := checklist.RoundClosed
			_, err = db.UpdateRound(ctx, fy, 1, by, func(r checklist.Round) (checklist.Round, error) {
				return checklist.RoundChange{Status: &closed}.Apply(r, by, now)
			})
			return "rounds", "2026", err
		}},
	} {
		t.Run(w.name, func(t *testing.T) {
			before, err := db.ReportVersions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			col, id, err := w.write(gone)
			if err != nil {
				t.Fatalf("%s after the caller left: %v", w.name, err)
			}
			if col != "" && !outboxInTrail(t, db, col, id) {
				t.Errorf("the audit entry of %s %s is not in the trail", col, id)
			}
			if w.key == "" {
				return
			}
			after, err := db.ReportVersions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after[w.key] == "" || after[w.key] == before[w.key] {
				t.Errorf("report version %q is %q, was %q: not renewed", w.key, after[w.key], before[w.key])
			}
		})
	}
}

// TestRepairOutboxes: a process that died between a write and its
// follow-ups leaves the audit entry in the document's outbox only, and
// the report data version it changes as it was; the repair at the next
// start copies the entry and renews the version, for every audited kind
// of document but inspections (TestRepairFollowUps), and copies each
// entry once.
func TestRepairOutboxes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	by := actor("admin-1")
	now := time.Now()

	f, err := db.CreateFacility(ctx, checklist.Facility{Code: "REP-1", Name: checklist.FacilityName{JA: "施設", EN: "Hall"},
		Kind: checklist.KindPublicHall, Active: true}, by)
	if err != nil {
		t.Fatal(err)
	}
	a, err := checklist.NewAction(checklist.Action{Title: "掲示を直す", FacilityID: f.ID, ItemKey: "flyers.sorted", TargetFiscalYear: 2026}, by, now)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = db.CreateAction(ctx, a, by); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, checklist.User{Username: "repair", Role: checklist.RoleReviewer}, "$argon2id$hash", by)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, "repair", testContent("一"))
	mustPublish(t, db, "repair")
	if _, err := db.SetApplicability(ctx, checklist.Applicability{Default: "repair"}, 0, by); err != nil {
		t.Fatal(err)
	}
	r, err := checklist.NewRound(2026, checklist.Date{}, checklist.Date{}, checklist.Date{}, by, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.OpenRound(ctx, r, nil, by); err != nil {
		t.Fatal(err)
	}
	docs := []struct{ col, id, key string }{
		{"facilities", f.ID, checklist.ReportVersionFacilities},
		{"actions", a.ID, checklist.ReportVersionActions},
		{"users", u.ID, ""},
		{"checklists", "repair", ""},
		{"checklist_versions", "repair:1", ""},
		{"checklist_applicability", checklist.ApplicabilityID, ""},
		{"rounds", "2026", checklist.ReportVersionRound(2026)},
	}
	if n, err := db.RepairOutboxes(ctx); err != nil || n != 0 {
		t.Fatalf("RepairOutboxes with every entry in the trail = %d, %v; want nothing to do", n, err)
	}

	// The state a kill -9 after each write leaves behind: the entry in
	// the outbox only, the report data versions as before the write.
	if err := db.DeleteDocuments("audit", bson.D{}); err != nil {
		t.Fatal(err)
	}
	before, err := db.ReportVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.RepairOutboxes(ctx)
	if err != nil || n != len(docs) {
		t.Fatalf("RepairOutboxes = %d, %v; want %d copied", n, err, len(docs))
	}
	after, err := db.ReportVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if !outboxInTrail(t, db, d.col, d.id) {
			t.Errorf("the audit entry of %s %s is not in the trail after the repair", d.col, d.id)
		}
		if d.key != "" && after[d.key] == before[d.key] {
			t.Errorf("report version %q not renewed by the repair", d.key)
		}
	}
	if n, err := db.CountDocuments("audit", bson.D{}); err != nil || n != int64(len(docs)) {
		t.Fatalf("%d audit entries (%v), want %d", n, err, len(docs))
	}
	if n, err := db.RepairOutboxes(ctx); err != nil || n != 0 {
		t.Fatalf("second repair = %d, %v; want nothing to do", n, err)
	}
}

// TestReportVersionsRenewedThenStored: a submission renews its fiscal
// year's report data version in this process at once (a report read
// right after it is not served from a cache of before), even when the
// versions were read from the database after it; the audit copier then
// stores that same token, so a second instance sees it and this one's
// caches are not invalidated twice.
func TestReportVersionsRenewedThenStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	key := checklist.ReportVersionYear(2026)
	if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	before, err := db.ReportVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, submitted); err != nil {
		t.Fatal(err)
	}
	now, err := db.ReportVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if now[key] == "" || now[key] == before[key] {
		t.Fatalf("version of %s after the submission %q, before %q: want a new one at once", key, now[key], before[key])
	}
	storage.ExpireReportVersions(db) // as if ReportVersionTTL had passed: read again
	reread, err := db.ReportVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reread[key] != now[key] {
		t.Fatalf("version of %s read again before it was stored: %q, want this process's %q", key, reread[key], now[key])
	}
	db.FlushAudit()
	other := storagetest.Reopen(t, db)
	stored, err := other.ReportVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stored[key] != now[key] {
		t.Fatalf("version of %s stored %q, want the one this process gave it, %q", key, stored[key], now[key])
	}
}
