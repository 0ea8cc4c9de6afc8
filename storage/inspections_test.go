package storage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/storage"
	"tenken/storage/storagetest"
)

var (
	inspector = checklist.Actor{UserID: "u-insp", Name: "inspector1", Role: checklist.RoleInspector}
	reviewer  = checklist.Actor{UserID: "u-rev", Name: "reviewer", Role: checklist.RoleReviewer}
	content   = &checklist.Content{}
)

const inspID = "6f1c2b9e-8d4a-4c1e-9b7a-2f3d4e5a6b7c"

func newDraft(t *testing.T, id, facility string) *checklist.Inspection {
	t.Helper()
	in, err := checklist.NewInspection(id, facility, "cl-1", 1, checklist.Date{Year: 2026, Month: 4, Day: 1}, inspector, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// openPinned opens a database holding the version newDraft pins (cl-1
// version 1, with content): UpdateInspection hands it to every change.
func openPinned(t *testing.T) *storage.DB {
	t.Helper()
	db := storagetest.Open(t)
	pinVersion(t, db, "cl-1", *content)
	return db
}

// pinVersion stores version 1 of checklist id with content c, leaving no
// audit entry: tests count their own.
func pinVersion(t *testing.T, db *storage.DB, id string, c checklist.Content) {
	t.Helper()
	v := checklist.Version{ChecklistID: id, Number: 1, Content: c, ContentHash: checklist.ContentHash(c), PublishedAt: time.Now()}
	if err := storage.InsertVersionForTest(db, v); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDocuments("audit", bson.D{}); err != nil {
		t.Fatal(err)
	}
}

func shaOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func addPhoto(sha string) checklist.InspectionUpdate {
	return func(in *checklist.Inspection, c *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
		ch, _, err := in.AddPhoto(c, checklist.Photo{SHA256: sha, ContentType: checklist.TypePNG, Size: 10}, inspector, now)
		return ch, err
	}
}

func TestCreateInspection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ConcurrentRetriesCreateOne", func(t *testing.T) {
		db := openPinned(t)
		var created atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				in, ok, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{})
				if err != nil {
					t.Errorf("CreateInspection: %v", err)
					return
				}
				if ok {
					created.Add(1)
				}
				if in.ID != inspID || in.Revision != 1 {
					t.Errorf("got %s revision %d", in.ID, in.Revision)
				}
			})
		}
		wg.Wait()
		if created.Load() != 1 {
			t.Fatalf("created %d times, want exactly 1", created.Load())
		}
		if n, _ := db.CountDocuments("inspections", bson.D{}); n != 1 {
			t.Fatalf("%d inspections stored, want 1", n)
		}
		if n, _ := db.CountDocuments("audit", bson.D{}); n != 1 {
			t.Fatalf("%d audit entries, want 1", n)
		}
	})
	t.Run("ErrConflictOnDifferentBody", func(t *testing.T) {
		db := openPinned(t)
		if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		_, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-2"), inspector, checklist.Idempotency{})
		e, ok := err.(*checklist.Error)
		if !ok || e.Code != checklist.EConflict {
			t.Fatalf("err = %v, want a conflict", err)
		}
		if cur, ok := e.Current.(*checklist.Inspection); !ok || cur.FacilityID != "fac-1" {
			t.Fatalf("Current = %#v, want the stored inspection", e.Current)
		}
	})
}

func TestUpdateInspection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ConcurrentWritersAllApplied", func(t *testing.T) {
		db := openPinned(t)
		if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		const writers, each = 8, 15
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if _, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, addPhoto(shaOf(fmt.Sprint(w, i)))); err != nil {
						t.Errorf("update: %v", err)
					}
				}
			})
		}
		wg.Wait()
		in, err := db.FindInspection(ctx, inspID)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Photos) != writers*each || in.Revision != writers*each+1 {
			t.Fatalf("photos %d, revision %d; want %d and %d", len(in.Photos), in.Revision, writers*each, writers*each+1)
		}
		if n, _ := db.CountDocuments("audit", bson.D{}); n != writers*each+1 {
			t.Fatalf("%d audit entries, want %d", n, writers*each+1)
		}
	})
	t.Run("IdempotencyKeyAppliesOnce", func(t *testing.T) {
		db := openPinned(t)
		if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		req := checklist.Idempotency{Key: "save-1", Fingerprint: "f1"}
		var replays atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				// Each retry carries a different photo: were any applied
				// twice, the inspection would hold more than one.
				w, err := db.UpdateInspection(ctx, inspID, inspector, req, addPhoto(shaOf(fmt.Sprint(i))))
				if err != nil {
					t.Errorf("update: %v", err)
				}
				if w.Replayed {
					replays.Add(1)
				}
			})
		}
		wg.Wait()
		in, _ := db.FindInspection(ctx, inspID)
		if len(in.Photos) != 1 || in.Revision != 2 || replays.Load() != 7 {
			t.Fatalf("photos %d, revision %d, replays %d; want 1, 2, 7", len(in.Photos), in.Revision, replays.Load())
		}
		_, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{Key: "save-1", Fingerprint: "other"}, addPhoto(shaOf("x")))
		if checklist.ErrorCode(err) != checklist.EInvalid {
			t.Fatalf("key reused for another request: %v, want invalid", err)
		}
	})
	t.Run("RetryAfterCrashBeforeResponse", func(t *testing.T) {
		// The write and its key are stored together; the audit entry is
		// lost, as if the process died right after the inspection was
		// written.
		db := openPinned(t)
		if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		req := checklist.Idempotency{Key: "k", Fingerprint: "f"}
		if _, err := db.UpdateInspection(ctx, inspID, inspector, req, addPhoto(shaOf("a"))); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteDocuments("audit", bson.D{{Key: "revision", Value: 2}}); err != nil {
			t.Fatal(err)
		}
		db.ForgetCache() // the process restarted
		w, err := db.UpdateInspection(ctx, inspID, inspector, req, addPhoto(shaOf("b")))
		if err != nil || !w.Replayed || len(w.Inspection.Photos) != 1 || w.Content == nil {
			t.Fatalf("retry: %+v, err %v; want the first result with its content", w, err)
		}
		if n, _ := db.CountDocuments("audit", bson.D{}); n != 2 {
			t.Fatalf("%d audit entries after recovery, want 2", n)
		}
	})
	t.Run("ErrConflictCarriesCurrent", func(t *testing.T) {
		db := openPinned(t)
		if _, _, err := db.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		_, err := db.UpdateInspection(ctx, inspID, reviewer, checklist.Idempotency{}, func(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Approve(reviewer, now)
		})
		e, ok := err.(*checklist.Error)
		if !ok || e.Code != checklist.EConflict || e.Current == nil {
			t.Fatalf("approve a draft: %v, want a conflict with the current copy", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db := openPinned(t)
		_, err := db.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, addPhoto(shaOf("a")))
		if checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("err = %v, want not found", err)
		}
	})
}

func TestListAndSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	ids := []string{
		"00000000-0000-4000-8000-000000000001",
		"00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000003",
		"00000000-0000-4000-8000-000000000004",
		"00000000-0000-4000-8000-000000000005",
	}
	for i, id := range ids {
		in := newDraft(t, id, fmt.Sprintf("fac-%d", i%2))
		if _, _, err := db.CreateInspection(ctx, in, inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.UpdateInspection(ctx, ids[4], inspector, checklist.Idempotency{}, addPhoto(shaOf("p"))); err != nil {
		t.Fatal(err)
	}

	var got []string
	f := checklist.InspectionQuery{Limit: 2}
	for {
		page, err := db.ListInspections(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range page.Inspections {
			got = append(got, in.ID)
			if len(in.Answers) != 0 || len(in.History) != 0 {
				t.Fatalf("a list entry carries answers or history")
			}
		}
		if !page.More {
			break
		}
		f.AfterDate, f.AfterID = page.LastDate, page.LastID
	}
	if len(got) != 5 || got[0] != ids[4] || got[4] != ids[0] {
		t.Fatalf("paged list = %v, want all five newest id first", got)
	}

	page, err := db.ListInspections(ctx, checklist.InspectionQuery{FacilityIDs: []string{"fac-1"}})
	if err != nil || len(page.Inspections) != 2 {
		t.Fatalf("fac-1: %d inspections, %v; want 2", len(page.Inspections), err)
	}
	page, _ = db.ListInspections(ctx, checklist.InspectionQuery{FacilityIDs: []string{}})
	if len(page.Inspections) != 0 {
		t.Fatalf("no facilities: %d inspections, want none", len(page.Inspections))
	}

	facs, err := db.PhotoFacilities(ctx, shaOf("p"))
	if err != nil || len(facs) != 1 || facs[0] != "fac-0" {
		t.Fatalf("PhotoFacilities = %v, %v; want [fac-0]", facs, err)
	}

	changed, _, err := db.ChangedInspections(ctx, []string{"fac-0"}, time.Time{}, "", 10)
	if err != nil || len(changed) != 3 || changed[2].ID != ids[4] {
		t.Fatalf("changed = %d, %v; want 3 with the photo one last", len(changed), err)
	}
	last := changed[2]
	changed, _, _ = db.ChangedInspections(ctx, []string{"fac-0"}, last.Updated.At, last.ID, 10)
	if len(changed) != 0 {
		t.Fatalf("changed after the last = %d, want 0", len(changed))
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	for i := range 5 {
		e := checklist.AuditEntry{ID: fmt.Sprint("e", i), At: time.Date(2026, 4, 1, 0, i, 0, 0, time.UTC),
			ActorID: "u" + fmt.Sprint(i%2), Entity: "inspection", EntityID: "x", Action: "save"}
		for range 2 { // appending twice stores once
			if err := db.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, more, err := db.ListAudit(ctx, checklist.AuditQuery{Limit: 3})
	if err != nil || len(all) != 3 || !more || all[0].ID != "e4" {
		t.Fatalf("first page: %d, more %v, %v", len(all), more, err)
	}
	rest, more, _ := db.ListAudit(ctx, checklist.AuditQuery{BeforeAt: all[2].At, BeforeID: all[2].ID})
	if len(rest) != 2 || more || rest[1].ID != "e0" {
		t.Fatalf("second page: %d", len(rest))
	}
	byActor, _, _ := db.ListAudit(ctx, checklist.AuditQuery{ActorID: "u1"})
	if len(byActor) != 2 {
		t.Fatalf("actor u1: %d entries, want 2", len(byActor))
	}
	since, _, _ := db.ListAudit(ctx, checklist.AuditQuery{Since: time.Date(2026, 4, 1, 0, 3, 0, 0, time.UTC)})
	if len(since) != 2 {
		t.Fatalf("since: %d entries, want 2", len(since))
	}
}

// TestInspectionIndexMatchesQueries: the owner of the embedded server
// answers lists, the sync feed and photo lookups from summaries it keeps
// in memory; another instance (Reopen) queries. Over the same data, with
// writes after the summaries were loaded, both give the same answers.
func TestInspectionIndexMatchesQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	other := storagetest.Reopen(t, db)
	clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { clock = clock.Add(time.Second); return clock }

	create := func(i int) string {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		in, err := checklist.NewInspection(id, fmt.Sprintf("fac-%d", i%3), "cl-1", 1,
			checklist.Date{Year: 2025 + i%2, Month: time.Month(4 + i%5), Day: 1 + i%3}, inspector, clock)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.CreateInspection(ctx, in, inspector, checklist.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	var ids []string
	for i := range 6 {
		ids = append(ids, create(i))
	}
	if _, err := db.ListInspections(ctx, checklist.InspectionQuery{}); err != nil { // loads the summaries
		t.Fatal(err)
	}
	for i := 6; i < 12; i++ { // written after: recorded one by one
		ids = append(ids, create(i))
	}
	for _, id := range []string{ids[1], ids[7], ids[1]} {
		if _, err := db.UpdateInspection(ctx, id, inspector, checklist.Idempotency{}, addPhoto(shaOf(id))); err != nil {
			t.Fatal(err)
		}
	}
	discard := func(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
		return in.Discard("entered twice", inspector, now)
	}
	if _, err := db.UpdateInspection(ctx, ids[9], inspector, checklist.Idempotency{}, discard); err != nil {
		t.Fatal(err)
	}

	list := func(d *storage.DB, q checklist.InspectionQuery) []string {
		t.Helper()
		var got []string
		for {
			page, err := d.ListInspections(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range page.Inspections {
				got = append(got, fmt.Sprintf("%s %s %s r%d p%d", in.ID, in.Date, in.Status, in.Revision, len(in.Photos)))
			}
			if !page.More {
				return got
			}
			q.AfterDate, q.AfterID = page.LastDate, page.LastID
		}
	}
	for _, q := range []checklist.InspectionQuery{
		{Limit: 5},
		{FacilityIDs: []string{"fac-1", "fac-2"}, Limit: 2},
		{FacilityIDs: []string{}},
		{FiscalYear: 2025},
		{Status: checklist.StatusDiscarded},
		{IncludeDiscarded: true, Limit: 3},
	} {
		if a, b := list(db, q), list(other, q); fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 && q.FacilityIDs == nil {
			t.Errorf("%+v:\n owner   %v\n queried %v", q, a, b)
		}
	}

	sync := func(d *storage.DB, facilities []string) []string {
		t.Helper()
		var got []string
		var since time.Time
		after := ""
		for {
			ins, more, err := d.ChangedInspections(ctx, facilities, since, after, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range ins {
				got = append(got, fmt.Sprintf("%s r%d", in.ID, in.Revision))
				since, after = in.Updated.At, in.ID
			}
			if !more {
				return got
			}
		}
	}
	for _, facs := range [][]string{nil, {"fac-1"}} {
		if a, b := sync(db, facs), sync(other, facs); fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 {
			t.Errorf("sync %v:\n owner   %v\n queried %v", facs, a, b)
		}
	}
	// A create's check that its id is new: the owner answers an unknown
	// id from the index, as the query does.
	for _, id := range []string{ids[0], ids[9], "00000000-0000-4000-8000-999999999999"} {
		a, errA := db.FindInspection(ctx, id)
		b, errB := other.FindInspection(ctx, id)
		if checklist.ErrorCode(errA) != checklist.ErrorCode(errB) || errA == nil && (a.Revision != b.Revision || a.Status != b.Status) {
			t.Errorf("find %s: owner %v, %v; queried %v, %v", id, a, errA, b, errB)
		}
	}
	if _, err := db.FindInspection(ctx, "00000000-0000-4000-8000-999999999999"); checklist.ErrorCode(err) != checklist.ENotFound {
		t.Errorf("find of an unknown id: %v, want not found", err)
	}
	for _, sha := range []string{shaOf(ids[1]), shaOf(ids[7]), shaOf("none")} {
		a, err := db.PhotoFacilities(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		b, err := other.PhotoFacilities(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("photo %s: owner %v, queried %v", sha[:8], a, b)
		}
	}
}

// TestAuditCopiedAfterResponse: a save's audit entry is copied to the
// audit collection after the save returns, in batches; the audit query
// waits for what was acknowledged, and Close copies what is queued.
func TestAuditCopiedAfterResponse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPinned(t)
	writer := storagetest.Reopen(t, db)
	if _, _, err := writer.CreateInspection(ctx, newDraft(t, inspID, "fac-1"), inspector, checklist.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	const saves = 30
	for i := range saves {
		if _, err := writer.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, addPhoto(shaOf(fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := writer.ListAudit(ctx, checklist.AuditQuery{EntityID: inspID, Limit: 200})
	if err != nil || len(entries) != saves+1 {
		t.Fatalf("audit query after %d saves: %d entries, %v; want %d", saves, len(entries), err, saves+1)
	}
	for i := range saves {
		if _, err := writer.UpdateInspection(ctx, inspID, inspector, checklist.Idempotency{}, addPhoto(shaOf(fmt.Sprint("more", i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := writer.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Read through the other connection: nothing of the writer's queue.
	entries, _, err = db.ListAudit(ctx, checklist.AuditQuery{EntityID: inspID, Limit: 200})
	if err != nil || len(entries) != 2*saves+1 {
		t.Fatalf("after Close: %d entries, %v; want %d", len(entries), err, 2*saves+1)
	}
}
