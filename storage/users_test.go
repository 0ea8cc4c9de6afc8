package storage_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"tenken/checklist"
	"tenken/storage/storagetest"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	fac, err := db.CreateFacility(ctx, checklist.Facility{Code: "vt-01", Name: checklist.FacilityName{JA: "センター", EN: "Centre"}, Kind: checklist.KindVocationalTraining, Active: true}, actor("admin-1"))
	if err != nil {
		t.Fatal(err)
	}
	var inspector checklist.User

	t.Run("CreateOK", func(t *testing.T) {
		inspector, err = db.CreateUser(ctx, checklist.User{Username: " Ins1 ", Role: checklist.RoleInspector, FacilityIDs: []string{fac.ID, fac.ID}}, "hash", actor("admin-1"))
		if err != nil {
			t.Fatal(err)
		}
		if inspector.Username != "ins1" || inspector.DisplayName != "ins1" || len(inspector.FacilityIDs) != 1 || inspector.Revision != 1 || inspector.ID == "" {
			t.Fatalf("created %+v", inspector)
		}
		got, hash, err := db.FindCredentials(ctx, "INS1")
		if err != nil || hash != "hash" || got.ID != inspector.ID || !got.CreatedAt.Equal(inspector.CreatedAt) {
			t.Fatalf("FindCredentials = %+v %q %v", got, hash, err)
		}
	})
	t.Run("ErrDuplicateUsername", func(t *testing.T) {
		_, err := db.CreateUser(ctx, checklist.User{Username: "INS1", Role: checklist.RoleReviewer}, "hash", actor("admin-1"))
		if checklist.ErrorCode(err) != checklist.EConflict {
			t.Fatalf("err = %v, want conflict", err)
		}
	})
	t.Run("ErrUnknownFacility", func(t *testing.T) {
		_, err := db.CreateUser(ctx, checklist.User{Username: "ins2", Role: checklist.RoleInspector, FacilityIDs: []string{"nope"}}, "hash", actor("admin-1"))
		var e *checklist.Error
		if checklist.ErrorCode(err) != checklist.EInvalid || !asError(err, &e) || e.Fields[0].Field != "facility_ids[0]" {
			t.Fatalf("err = %v, want invalid facility_ids[0]", err)
		}
	})
	t.Run("UpdateRevisionGuard", func(t *testing.T) {
		name := "Inspector One"
		u, err := db.UpdateUser(ctx, inspector.ID, 1, actor("admin-1"), func(u checklist.User) (checklist.User, error) {
			return checklist.UserChange{DisplayName: &name}.Apply(u, "admin", db.Now())
		})
		if err != nil || u.Revision != 2 || u.DisplayName != name {
			t.Fatalf("update = %+v, %v", u, err)
		}
		_, err = db.UpdateUser(ctx, inspector.ID, 1, actor("admin-1"), func(u checklist.User) (checklist.User, error) { return u, nil })
		var e *checklist.Error
		if !asError(err, &e) || e.Code != checklist.ERevision || e.Current.(checklist.User).Revision != 2 {
			t.Fatalf("stale update: %v", err)
		}
	})
	t.Run("ConcurrentUpdatesOneWins", func(t *testing.T) {
		cur, _ := db.FindUser(ctx, inspector.ID)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := db.UpdateUser(ctx, inspector.ID, cur.Revision, actor("admin-1"), func(u checklist.User) (checklist.User, error) { return u, nil })
				if err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d updates of one revision won, want 1", wins.Load())
		}
	})
	t.Run("SetPasswordEndsSessions", func(t *testing.T) {
		tok := checklist.RefreshToken{Hash: "p1", Family: "pf", UserID: inspector.ID, IssuedAt: db.Now(), ExpiresAt: db.Now().Add(3600e9)}
		if err := db.StartSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := db.SetPassword(ctx, inspector.ID, "hash2", actor("admin-1")); err != nil {
			t.Fatal(err)
		}
		if _, h, _ := db.FindCredentials(ctx, "ins1"); h != "hash2" {
			t.Fatalf("hash = %q", h)
		}
		next := checklist.RefreshToken{Hash: "p2", Family: "pf", UserID: inspector.ID, IssuedAt: db.Now(), ExpiresAt: db.Now().Add(3600e9)}
		use := checklist.RefreshUse{Token: tok, UsedAt: db.Now(), Grant: "g", AccessID: "j", Next: next}
		if _, _, err := db.ConsumeRefreshToken(ctx, use); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("session survived a password reset: %v", err)
		}
	})
	t.Run("ListPages", func(t *testing.T) {
		for _, n := range []string{"bbb", "ccc", "aaa"} {
			if _, err := db.CreateUser(ctx, checklist.User{Username: n, Role: checklist.RoleReviewer}, "h", actor("admin-1")); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		q := checklist.UserQuery{Limit: 2}
		for {
			page, err := db.ListUsers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Items {
				names = append(names, u.Username)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		if want := "aaa bbb ccc ins1"; join(names) != want {
			t.Fatalf("names = %q, want %q", join(names), want)
		}
	})
}
