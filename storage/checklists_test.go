package storage_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/storage"
	"tenken/storage/storagetest"
)

// testContent returns small valid content whose title is title.
func testContent(title string) checklist.Content {
	c := checklist.Content{
		Title: checklist.Text{Ja: title, En: "Test checklist"},
		Sections: []checklist.Section{{
			Key: "flyers", Title: checklist.Text{Ja: "チラシ", En: "Flyers"},
			Items: []checklist.Item{
				{Key: "flyers.sorted", Text: checklist.Text{Ja: "分野別に配架されている"}, Type: checklist.TypeYesNo,
					Required: true, Points: 2, FailRule: &checklist.FailRule{Answer: "no"}},
				{Key: "flyers.outdated", Text: checklist.Text{Ja: "期限切れのチラシがない"}, Type: checklist.TypeYesNo,
					AllowNA: true, Points: 1, FailRule: &checklist.FailRule{Answer: "no"}, FailedNeedsPhoto: true},
			},
		}},
	}
	return c
}

func mustCreate(t *testing.T, db *storage.DB, id string, c checklist.Content) checklist.ChecklistRecord {
	t.Helper()
	rec, err := db.CreateChecklist(context.Background(), id, c, actor("admin-1"))
	if err != nil {
		t.Fatalf("CreateChecklist: %v", err)
	}
	return rec
}

func mustPublish(t *testing.T, db *storage.DB, id string) checklist.Version {
	t.Helper()
	v, err := db.Publish(context.Background(), id, 0, 0, actor("admin-1"))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return v
}

func wantCode(t *testing.T, err error, code checklist.Code) *checklist.Error {
	t.Helper()
	if got := checklist.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
	e, _ := err.(*checklist.Error)
	return e
}

func TestCreateChecklist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "", testContent("点検"))
		if rec.ID == "" || rec.Revision != 1 || rec.LatestVersion != 0 || rec.Title.Ja != "点検" || rec.CreatedBy != "admin-1" {
			t.Fatalf("created %+v", rec)
		}
		got, err := db.FindChecklist(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Draft.Equal(testContent("点検")) || got.Revision != 1 {
			t.Fatalf("stored draft differs: %+v", got)
		}
	})
	t.Run("OKInvalidDraftIsWorkInProgress", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "wip", checklist.Content{})
		if rec.Revision != 1 {
			t.Fatalf("revision %d", rec.Revision)
		}
	})
	t.Run("ErrIDTaken", func(t *testing.T) {
		db := storagetest.Open(t)
		mustCreate(t, db, "unified", testContent("一"))
		_, err := db.CreateChecklist(ctx, "unified", testContent("二"), actor("admin-2"))
		e := wantCode(t, err, checklist.EConflict)
		if cur, ok := e.Current.(checklist.ChecklistRecord); !ok || cur.Title.Ja != "一" {
			t.Fatalf("Current = %#v, want the existing checklist", e.Current)
		}
		got, _ := db.FindChecklist(ctx, "unified")
		if got.Title.Ja != "一" {
			t.Fatal("the existing checklist changed")
		}
	})
	t.Run("ErrBadID", func(t *testing.T) {
		db := storagetest.Open(t)
		for _, id := range []string{"Has Space", "manifest", "applicability", "-x"} {
			_, err := db.CreateChecklist(ctx, id, testContent("x"), actor("admin-1"))
			wantCode(t, err, checklist.EInvalid)
		}
		list, err := db.ListChecklists(ctx)
		if err != nil || len(list) != 0 {
			t.Fatalf("ListChecklists = %v, %v; want nothing stored", list, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db := storagetest.Open(t)
		_, err := db.FindChecklist(ctx, "nope")
		wantCode(t, err, checklist.ENotFound)
	})
}

func TestReplaceDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		got, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("admin-2"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision != 2 || got.Title.Ja != "二" || got.UpdatedBy != "admin-2" {
			t.Fatalf("replaced %+v", got)
		}
		stored, _ := db.FindChecklist(ctx, rec.ID)
		if stored.Revision != 2 || !stored.Draft.Equal(testContent("二")) {
			t.Fatalf("stored %+v", stored)
		}
	})
	t.Run("ErrStaleRevision", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		if _, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a")); err != nil {
			t.Fatal(err)
		}
		_, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("三"), actor("b"))
		e := wantCode(t, err, checklist.ERevision)
		if cur := e.Current.(checklist.ChecklistRecord); cur.Revision != 2 || cur.Title.Ja != "二" {
			t.Fatalf("Current = %+v", cur)
		}
		stored, _ := db.FindChecklist(ctx, rec.ID)
		if stored.Revision != 2 || stored.Title.Ja != "二" {
			t.Fatalf("the stale write changed the draft: %+v", stored)
		}
	})
	t.Run("ErrConcurrentWriters", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Go(func() {
				_, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a"))
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if checklist.ErrorCode(err) != checklist.ERevision {
					t.Errorf("ReplaceDraft: %v", err)
				}
			})
		}
		wg.Wait()
		stored, _ := db.FindChecklist(ctx, rec.ID)
		if wins != 1 || stored.Revision != 2 {
			t.Fatalf("%d writers won, revision %d; want exactly one and revision 2", wins, stored.Revision)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db := storagetest.Open(t)
		_, err := db.ReplaceDraft(ctx, "nope", 1, testContent("x"), actor("a"))
		wantCode(t, err, checklist.ENotFound)
	})
}

func TestPublish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		v := mustPublish(t, db, rec.ID)
		if v.Number != 1 || v.ContentHash != checklist.ContentHash(testContent("一")) || v.PublishedBy != "admin-1" || v.Retired {
			t.Fatalf("published %+v", v)
		}
		// Editing the draft afterwards never reaches the version.
		if _, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a")); err != nil {
			t.Fatal(err)
		}
		got, err := db.ChecklistVersion(ctx, rec.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.ContentHash != v.ContentHash || !got.Content.Equal(testContent("一")) {
			t.Fatalf("version 1 changed: %+v", got)
		}
		v2 := mustPublish(t, db, rec.ID)
		stored, _ := db.FindChecklist(ctx, rec.ID)
		if v2.Number != 2 || stored.LatestVersion != 2 || stored.Revision != 2 {
			t.Fatalf("v2 %d, latest %d, revision %d", v2.Number, stored.LatestVersion, stored.Revision)
		}
		list, err := db.ListVersions(ctx, rec.ID)
		if err != nil || len(list) != 2 || list[0].Number != 2 || list[1].Number != 1 || len(list[0].Content.Sections) != 0 {
			t.Fatalf("ListVersions = %+v, %v", list, err)
		}
	})
	t.Run("ErrInvalidDraft", func(t *testing.T) {
		db := storagetest.Open(t)
		bad := testContent("一")
		bad.Sections[0].Items[0].FailRule = &checklist.FailRule{AtOrBelow: 2}
		bad.Sections[0].Items[1].Key = bad.Sections[0].Items[0].Key
		rec := mustCreate(t, db, "c", bad)
		_, err := db.Publish(ctx, rec.ID, 0, 0, actor("a"))
		e := wantCode(t, err, checklist.EInvalid)
		if len(e.Fields) < 2 {
			t.Fatalf("want every problem, got %+v", e.Fields)
		}
		assertNoVersions(t, db, rec.ID)
	})
	t.Run("ErrUnchangedDraft", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		mustPublish(t, db, rec.ID)
		_, err := db.Publish(ctx, rec.ID, 0, 0, actor("a"))
		wantCode(t, err, checklist.EConflict)
		assertVersionCount(t, db, rec.ID, 1)
	})
	t.Run("ErrNumberPublished", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		v1 := mustPublish(t, db, rec.ID)
		if _, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a")); err != nil {
			t.Fatal(err)
		}
		_, err := db.Publish(ctx, rec.ID, 0, 1, actor("a"))
		wantCode(t, err, checklist.EConflict)
		_, err = db.Publish(ctx, rec.ID, 0, 3, actor("a"))
		wantCode(t, err, checklist.EConflict)
		got, _ := db.ChecklistVersion(ctx, rec.ID, 1)
		if got.ContentHash != v1.ContentHash {
			t.Fatal("version 1 changed")
		}
		assertVersionCount(t, db, rec.ID, 1)
	})
	t.Run("ErrStaleRevision", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		if _, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a")); err != nil {
			t.Fatal(err)
		}
		_, err := db.Publish(ctx, rec.ID, 1, 0, actor("a"))
		wantCode(t, err, checklist.ERevision)
		assertNoVersions(t, db, rec.ID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db := storagetest.Open(t)
		_, err := db.Publish(ctx, "nope", 0, 0, actor("a"))
		wantCode(t, err, checklist.ENotFound)
		_, err = db.ChecklistVersion(ctx, "nope", 1)
		wantCode(t, err, checklist.ENotFound)
		_, err = db.ListVersions(ctx, "nope")
		wantCode(t, err, checklist.ENotFound)
	})
	t.Run("OKRepairsInterruptedPublish", func(t *testing.T) {
		// Version 1 was stored but the process stopped before recording
		// it on the checklist: the next publish is version 2, not a
		// conflict forever.
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		v, err := rec.Checklist.Publish(time.Now(), "a")
		if err != nil {
			t.Fatal(err)
		}
		if err := storage.InsertVersionForTest(db, v); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Publish(ctx, rec.ID, 0, 0, actor("a")); checklist.ErrorCode(err) != checklist.EConflict {
			t.Fatalf("publishing the same draft again: %v, want conflict", err)
		}
		if _, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a")); err != nil {
			t.Fatal(err)
		}
		if v2 := mustPublish(t, db, rec.ID); v2.Number != 2 {
			t.Fatalf("published %d, want 2", v2.Number)
		}
	})
	t.Run("ErrAlteredVersion", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		mustPublish(t, db, rec.ID)
		if err := storage.AlterVersionForTest(db, rec.ID, 1); err != nil {
			t.Fatal(err)
		}
		_, err := db.ChecklistVersion(ctx, rec.ID, 1)
		wantCode(t, err, checklist.EInternal)
	})
}

// TestPublishConcurrently races eight publishes of one draft, first on one
// instance (the keyed lock serialises them) and then as eight instances
// (eight connections with their own locks, so only the unique index
// decides): exactly one version is stored, every other publish is a
// conflict.
func TestPublishConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	race := func(t *testing.T, dbs []*storage.DB, id string) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for _, db := range dbs {
			wg.Go(func() {
				_, err := db.Publish(ctx, id, 0, 0, actor("a"))
				mu.Lock()
				defer mu.Unlock()
				switch checklist.ErrorCode(err) {
				case "":
					wins++
				case checklist.EConflict:
					conflicts++
				default:
					t.Errorf("Publish: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != len(dbs)-1 {
			t.Fatalf("%d published, %d conflicts; want 1 and %d", wins, conflicts, len(dbs)-1)
		}
		assertVersionCount(t, dbs[0], id, 1)
	}
	t.Run("OneInstance", func(t *testing.T) {
		db := storagetest.Open(t)
		rec := mustCreate(t, db, "c", testContent("一"))
		dbs := make([]*storage.DB, 8)
		for i := range dbs {
			dbs[i] = db
		}
		race(t, dbs, rec.ID)
	})
	t.Run("EightInstances", func(t *testing.T) {
		first := storagetest.Open(t)
		rec := mustCreate(t, first, "c", testContent("一"))
		dbs := []*storage.DB{first}
		for range 7 {
			dbs = append(dbs, storagetest.Reopen(t, first))
		}
		race(t, dbs, rec.ID)
	})
}

func TestRetireVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	rec := mustCreate(t, db, "c", testContent("一"))
	v1 := mustPublish(t, db, rec.ID)
	if _, err := db.ReplaceDraft(ctx, rec.ID, 1, testContent("二"), actor("a")); err != nil {
		t.Fatal(err)
	}
	v2 := mustPublish(t, db, rec.ID)

	cur, err := db.ApplicableVersions(ctx, []string{rec.ID, "other"})
	if err != nil || len(cur) != 1 || cur[rec.ID].Number != 2 || cur[rec.ID].ContentHash != v2.ContentHash {
		t.Fatalf("ApplicableVersions = %+v, %v", cur, err)
	}

	t.Run("OK", func(t *testing.T) {
		got, err := db.RetireVersion(ctx, rec.ID, 2, actor("admin-9"))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Retired || got.RetiredBy != "admin-9" || got.RetiredAt.IsZero() {
			t.Fatalf("retired %+v", got)
		}
		stored, err := db.ChecklistVersion(ctx, rec.ID, 2)
		if err != nil || !stored.Retired || stored.ContentHash != v2.ContentHash {
			t.Fatalf("stored %+v, %v", stored, err)
		}
		cur, _ := db.ApplicableVersions(ctx, []string{rec.ID})
		if cur[rec.ID].Number != 1 || cur[rec.ID].ContentHash != v1.ContentHash {
			t.Fatalf("after retiring 2, applicable = %+v, want version 1", cur)
		}
	})
	t.Run("ErrAlreadyRetired", func(t *testing.T) {
		_, err := db.RetireVersion(ctx, rec.ID, 2, actor("admin-8"))
		wantCode(t, err, checklist.EConflict)
		stored, _ := db.ChecklistVersion(ctx, rec.ID, 2)
		if stored.RetiredBy != "admin-9" {
			t.Fatalf("retired by %q, want the first retirement kept", stored.RetiredBy)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.RetireVersion(ctx, rec.ID, 7, actor("a"))
		wantCode(t, err, checklist.ENotFound)
	})
}

func TestApplicability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	a := mustCreate(t, db, "a", testContent("A"))
	mustPublish(t, db, a.ID)
	b := mustCreate(t, db, "b", testContent("B"))
	mustPublish(t, db, b.ID)
	mustCreate(t, db, "unpublished", testContent("U"))

	got, err := db.FindApplicability(ctx)
	if err != nil || got.Revision != 0 || got.Default != "" {
		t.Fatalf("initial = %+v, %v", got, err)
	}
	t.Run("OK", func(t *testing.T) {
		set, err := db.SetApplicability(ctx, checklist.Applicability{Default: "a",
			Kinds: map[checklist.FacilityKind]string{checklist.KindPublicHall: "b"}}, 0, actor("admin-1"))
		if err != nil {
			t.Fatal(err)
		}
		if set.Revision != 1 || set.ChecklistFor(checklist.KindPublicHall) != "b" || set.ChecklistFor(checklist.KindResearch) != "a" {
			t.Fatalf("set %+v", set)
		}
		got, _ := db.FindApplicability(ctx)
		if got.Revision != 1 || got.Default != "a" || got.Kinds[checklist.KindPublicHall] != "b" || got.UpdatedBy != "admin-1" {
			t.Fatalf("stored %+v", got)
		}
	})
	for _, tc := range []struct {
		name     string
		a        checklist.Applicability
		revision int
		code     checklist.Code
	}{
		{"ErrStaleRevision", checklist.Applicability{Default: "b"}, 0, checklist.ERevision},
		{"ErrUnknownChecklist", checklist.Applicability{Default: "nope"}, 1, checklist.EInvalid},
		{"ErrNoVersion", checklist.Applicability{Default: "a", Kinds: map[checklist.FacilityKind]string{checklist.KindResearch: "unpublished"}}, 1, checklist.EInvalid},
		{"ErrUnknownKind", checklist.Applicability{Default: "a", Kinds: map[checklist.FacilityKind]string{"castle": "b"}}, 1, checklist.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.SetApplicability(ctx, tc.a, tc.revision, actor("admin-2"))
			wantCode(t, err, tc.code)
			got, _ := db.FindApplicability(ctx)
			if got.Revision != 1 || got.Default != "a" || got.UpdatedBy != "admin-1" {
				t.Fatalf("a refused change changed it: %+v", got)
			}
		})
	}
	t.Run("ErrConcurrentFirstWrite", func(t *testing.T) {
		db := storagetest.Open(t)
		mustCreate(t, db, "a", testContent("A"))
		mustPublish(t, db, "a")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for _, inst := range []*storage.DB{db, storagetest.Reopen(t, db), storagetest.Reopen(t, db), storagetest.Reopen(t, db)} {
			wg.Go(func() {
				_, err := inst.SetApplicability(ctx, checklist.Applicability{Default: "a"}, 0, actor("x"))
				mu.Lock()
				defer mu.Unlock()
				switch checklist.ErrorCode(err) {
				case "":
					wins++
				case checklist.ERevision:
				default:
					t.Errorf("SetApplicability: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d first writes won, want 1", wins)
		}
	})
}

func TestEnsureDefaultChecklist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	content := testContent("統一チェックリスト")
	t.Run("OK", func(t *testing.T) {
		db := storagetest.Open(t)
		published, err := db.EnsureDefaultChecklist(ctx, content)
		if err != nil || !published {
			t.Fatalf("EnsureDefaultChecklist = %v, %v; want published", published, err)
		}
		v, err := db.ChecklistVersion(ctx, storage.DefaultChecklistID, 1)
		if err != nil || v.ContentHash != checklist.ContentHash(content) {
			t.Fatalf("version 1 = %+v, %v", v, err)
		}
		a, _ := db.FindApplicability(ctx)
		if a.Default != storage.DefaultChecklistID || a.Revision != 1 {
			t.Fatalf("applicability %+v", a)
		}
		// Idempotent: the next start changes nothing.
		published, err = db.EnsureDefaultChecklist(ctx, testContent("別物"))
		if err != nil || published {
			t.Fatalf("second run = %v, %v; want nothing done", published, err)
		}
		assertVersionCount(t, db, storage.DefaultChecklistID, 1)
	})
	t.Run("OKConcurrentStarts", func(t *testing.T) {
		db := storagetest.Open(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		published := 0
		for _, inst := range []*storage.DB{db, storagetest.Reopen(t, db), storagetest.Reopen(t, db), storagetest.Reopen(t, db)} {
			wg.Go(func() {
				p, err := inst.EnsureDefaultChecklist(ctx, content)
				if err != nil {
					t.Errorf("EnsureDefaultChecklist: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if p {
					published++
				}
			})
		}
		wg.Wait()
		if published != 1 {
			t.Fatalf("%d starts published, want 1", published)
		}
		assertVersionCount(t, db, storage.DefaultChecklistID, 1)
		if a, _ := db.FindApplicability(ctx); a.Default != storage.DefaultChecklistID {
			t.Fatalf("default = %q", a.Default)
		}
	})
	t.Run("OKAdminsHaveTheirOwn", func(t *testing.T) {
		db := storagetest.Open(t)
		mustCreate(t, db, "own", testContent("独自"))
		published, err := db.EnsureDefaultChecklist(ctx, content)
		if err != nil || published {
			t.Fatalf("= %v, %v; want nothing done", published, err)
		}
		if _, err := db.FindChecklist(ctx, storage.DefaultChecklistID); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("the default checklist was created: %v", err)
		}
	})
	t.Run("OKResumesHalfDoneStart", func(t *testing.T) {
		db := storagetest.Open(t)
		mustCreate(t, db, storage.DefaultChecklistID, content)
		published, err := db.EnsureDefaultChecklist(ctx, content)
		if err != nil || !published {
			t.Fatalf("= %v, %v; want version 1 published", published, err)
		}
	})
}

func assertNoVersions(t *testing.T, db *storage.DB, id string) {
	t.Helper()
	assertVersionCount(t, db, id, 0)
}

func assertVersionCount(t *testing.T, db *storage.DB, id string, n int) {
	t.Helper()
	list, err := db.ListVersions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("%d versions stored, want %d", len(list), n)
	}
}

func TestPutChecklistVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	publish := func(title string) checklist.Version {
		v, err := checklist.Publish("pinned", testContent(title), 1, time.Now(), "system")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := publish("一")
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	t.Run("OKSameAgain", func(t *testing.T) {
		if err := db.PutChecklistVersion(ctx, v); err != nil {
			t.Fatalf("storing the same version again: %v", err)
		}
	})
	t.Run("ErrOtherContentSameNumber", func(t *testing.T) {
		wantCode(t, db.PutChecklistVersion(ctx, publish("別")), checklist.EConflict)
		got, err := db.ChecklistVersion(ctx, "pinned", 1)
		if err != nil || got.ContentHash != v.ContentHash {
			t.Fatalf("version 1 = %+v, %v", got, err)
		}
	})
	t.Run("ContentFromMemory", func(t *testing.T) {
		c, err := db.ChecklistContent(ctx, "pinned", 1)
		if err != nil || !c.Equal(testContent("一")) {
			t.Fatalf("ChecklistContent = %v, %v", c, err)
		}
		if err := db.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		c, err = db.ChecklistContent(ctx, "pinned", 1)
		if err != nil || !c.Equal(testContent("一")) {
			t.Fatalf("after the database is gone: %v, %v", c, err)
		}
		_, err = db.ChecklistContent(ctx, "pinned", 2)
		wantCode(t, err, checklist.ENotFound)
	})
}

// TestVersionUpdatedAt: every write of a version stamps when it happened
// (what the sync feed finds changes by), and a version stored before the
// stamp existed counts as changed when it was published or retired.
func TestVersionUpdatedAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	rec := mustCreate(t, db, "c", testContent("一"))
	mustPublish(t, db, rec.ID)

	byKey := func() map[string]checklist.Version {
		t.Helper()
		all, err := db.AllVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]checklist.Version{}
		for _, v := range all {
			if len(v.Content.Sections) != 0 {
				t.Fatalf("AllVersions carries content: %+v", v)
			}
			m[v.ChecklistID+":"+strconv.Itoa(v.Number)] = v
		}
		return m
	}
	if v := byKey()["c:1"]; !v.UpdatedAt.Equal(now) || !v.PublishedAt.Equal(now) {
		t.Fatalf("published: %+v", v)
	}

	now = now.Add(time.Hour)
	if _, err := db.RetireVersion(ctx, rec.ID, 1, actor("admin-1")); err != nil {
		t.Fatal(err)
	}
	if v := byKey()["c:1"]; !v.UpdatedAt.Equal(now) || !v.Retired {
		t.Fatalf("retired: %+v", v)
	}

	// Stored outside the authoring flow with an old publication time: the
	// write time counts, or a tablet past that time would never learn of it.
	now = now.Add(time.Hour)
	old, err := checklist.Publish("pinned", testContent("古い"), 1, now.Add(-24*time.Hour), "system")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutChecklistVersion(ctx, old); err != nil {
		t.Fatal(err)
	}
	if v := byKey()["pinned:1"]; !v.UpdatedAt.Equal(now) {
		t.Fatalf("put: updated %v, want %v", v.UpdatedAt, now)
	}

	// Documents from before updated_at: the later of published and retired.
	if _, err := db.RawCollection("checklist_versions").UpdateMany(ctx, bson.D{},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "updated_at", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	db.ForgetCache() // changed behind its back, as before a restart
	got := byKey()
	if v := got["c:1"]; !v.UpdatedAt.Equal(v.RetiredAt) || v.RetiredAt.IsZero() {
		t.Fatalf("old retired version: updated %v, retired %v", v.UpdatedAt, v.RetiredAt)
	}
	if v := got["pinned:1"]; !v.UpdatedAt.Equal(v.PublishedAt) {
		t.Fatalf("old version: updated %v, published %v", v.UpdatedAt, v.PublishedAt)
	}
}

// actor is an admin with user id id, as the audit trail records them.
func actor(id string) checklist.Actor {
	return checklist.Actor{UserID: id, Name: id, Role: checklist.RoleAdmin}
}
