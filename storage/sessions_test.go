package storage_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/storage/storagetest"
)

func TestConsumeRefreshToken(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Now().UTC()
	token := func(hash, family string) checklist.RefreshToken {
		return checklist.RefreshToken{Hash: hash, Family: family, UserID: "u1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}

	t.Run("OK", func(t *testing.T) {
		if err := db.StartSession(ctx, token("h1", "f1")); err != nil {
			t.Fatal(err)
		}
		got, err := db.ConsumeRefreshToken(ctx, "h1")
		if err != nil || got.Family != "f1" || got.UserID != "u1" {
			t.Fatalf("ConsumeRefreshToken = %+v, %v", got, err)
		}
	})
	t.Run("ErrReuseRevokesSession", func(t *testing.T) {
		if err := db.StartSession(ctx, token("h2", "f2")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ConsumeRefreshToken(ctx, "h2"); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveRefreshToken(ctx, token("h3", "f2")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ConsumeRefreshToken(ctx, "h2"); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("reuse: %v, want unauthorized", err)
		}
		// The successor issued before the reuse is dead too.
		if _, err := db.ConsumeRefreshToken(ctx, "h3"); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("successor after reuse: %v, want unauthorized", err)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		if _, err := db.ConsumeRefreshToken(ctx, "nope"); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("unknown: %v", err)
		}
	})
	t.Run("ErrRevokedUser", func(t *testing.T) {
		if err := db.StartSession(ctx, token("h4", "f4")); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeUserSessions(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ConsumeRefreshToken(ctx, "h4"); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("after revoke: %v", err)
		}
	})
	t.Run("ConcurrentExactlyOnce", func(t *testing.T) {
		for round := range 3 {
			hash, family := "c"+string(rune('a'+round)), "fc"+string(rune('a'+round))
			if err := db.StartSession(ctx, token(hash, family)); err != nil {
				t.Fatal(err)
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if _, err := db.ConsumeRefreshToken(ctx, hash); err == nil {
						wins.Add(1)
					} else if checklist.ErrorCode(err) != checklist.EUnauthorized {
						t.Errorf("consume: %v", err)
					}
				})
			}
			wg.Wait()
			if got := wins.Load(); got != 1 {
				t.Fatalf("round %d: %d of 8 concurrent consumers won, want exactly 1", round, got)
			}
		}
	})
}
