package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
	"tenken/storage/storagetest"
)

func TestConsumeRefreshToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	token := func(hash, family string) checklist.RefreshToken {
		return checklist.RefreshToken{Hash: hash, Family: family, UserID: "u1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	// use is a consumption of tk at `at` that issues next; each call
	// draws its own grant, as each request does.
	var grants int
	use := func(tk checklist.RefreshToken, next string, at time.Time) checklist.RefreshUse {
		grants++
		return checklist.RefreshUse{Token: tk, UsedAt: at, Grant: "grant-" + string(rune('a'+grants%26)) + next,
			AccessID: "jti-" + next, Next: token(next, tk.Family)}
	}
	start := func(t *testing.T, hash, family string) checklist.RefreshToken {
		t.Helper()
		tk := token(hash, family)
		if err := db.StartSession(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	consume := func(t *testing.T, u checklist.RefreshUse) (checklist.RefreshUse, bool) {
		t.Helper()
		got, replayed, err := db.ConsumeRefreshToken(ctx, u)
		if err != nil {
			t.Fatalf("consume %s: %v", u.Token.Hash, err)
		}
		return got, replayed
	}
	wantRefused := func(t *testing.T, u checklist.RefreshUse, what string) {
		t.Helper()
		if _, _, err := db.ConsumeRefreshToken(ctx, u); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("%s: %v, want unauthorized", what, err)
		}
	}

	t.Run("OK", func(t *testing.T) {
		tk := start(t, "h1", "f1")
		u := use(tk, "h1n", now)
		got, replayed := consume(t, u)
		if replayed || got.Grant != u.Grant || got.Next.Hash != "h1n" || got.Token.Family != "f1" {
			t.Fatalf("ConsumeRefreshToken = %+v, %v", got, replayed)
		}
		// The successor is saved and works.
		next, err := db.FindRefreshToken(ctx, "h1n")
		if err != nil || next.Family != "f1" || !next.ExpiresAt.Equal(u.Next.ExpiresAt) {
			t.Fatalf("successor = %+v, %v", next, err)
		}
		consume(t, use(next, "h1nn", now))
	})
	t.Run("ReplayWithinGrace", func(t *testing.T) {
		tk := start(t, "g1", "fg")
		first, _ := consume(t, use(tk, "g1n", now))
		// The answer was lost; the client retries with the same token.
		again, replayed := consume(t, use(tk, "g1other", now.Add(checklist.RefreshReuseGrace-time.Millisecond)))
		if !replayed || again.Grant != first.Grant || again.AccessID != first.AccessID ||
			again.Next.Hash != "g1n" || !again.UsedAt.Equal(first.UsedAt) || !again.Next.ExpiresAt.Equal(first.Next.ExpiresAt) {
			t.Fatalf("replay = %+v, %v; want the first use %+v", again, replayed, first)
		}
		if n, _ := db.CountDocuments("refresh_tokens", bson.D{{Key: "session", Value: "fg"}}); n != 2 {
			t.Fatalf("%d tokens in the family, want the first and one successor", n)
		}
		// The session lives on: the successor works.
		consume(t, use(token("g1n", "fg"), "g1nn", now.Add(time.Minute)))
	})
	t.Run("ErrReuseAfterGraceRevokesSession", func(t *testing.T) {
		tk := start(t, "h2", "f2")
		consume(t, use(tk, "h3", now))
		wantRefused(t, use(tk, "h2x", now.Add(checklist.RefreshReuseGrace)), "reuse after the grace period")
		// The successor issued before the reuse is dead too.
		wantRefused(t, use(token("h3", "f2"), "h3n", now.Add(checklist.RefreshReuseGrace)), "successor after reuse")
	})
	t.Run("ErrReuseAfterSuccessorUsedRevokesSession", func(t *testing.T) {
		tk := start(t, "s1", "fs")
		consume(t, use(tk, "s2", now))
		consume(t, use(token("s2", "fs"), "s3", now.Add(time.Second)))
		// Within the grace period, but the successor was used: the
		// legitimate client had it, so this is another party.
		wantRefused(t, use(tk, "s1x", now.Add(2*time.Second)), "reuse after the successor was used")
		wantRefused(t, use(token("s3", "fs"), "s4", now.Add(3*time.Second)), "newest token after reuse")
	})
	t.Run("ErrReuseOfUseWithoutGrant", func(t *testing.T) {
		// A use recorded before the grace period existed says nothing of
		// what it issued: a second presentation revokes, as it did then.
		tk := start(t, "o1", "fo")
		if _, err := db.RawCollection("refresh_uses").InsertOne(ctx, bson.D{
			{Key: "_id", Value: "o1"}, {Key: "session", Value: "fo"}, {Key: "user_id", Value: "u1"},
			{Key: "used_at", Value: now}, {Key: "expires_at", Value: now.Add(time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, use(tk, "o1x", now.Add(time.Second)), "reuse of a use without grant")
		if _, err := db.FindRefreshToken(ctx, "o1x"); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("the refused request's successor was saved: %v", err)
		}
	})
	t.Run("ReplaySavesSuccessor", func(t *testing.T) {
		// The consumer stopped between recording its use and saving the
		// successor: the retry saves it, so the pair it returns works.
		tk := start(t, "r1", "fr")
		consume(t, use(tk, "r1n", now))
		if err := db.DeleteDocuments("refresh_tokens", bson.D{{Key: "_id", Value: "r1n"}}); err != nil {
			t.Fatal(err)
		}
		if _, replayed := consume(t, use(tk, "r1x", now.Add(time.Second))); !replayed {
			t.Fatal("not replayed")
		}
		if _, err := db.FindRefreshToken(ctx, "r1n"); err != nil {
			t.Fatalf("successor after replay: %v", err)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		if _, err := db.FindRefreshToken(ctx, "nope"); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("unknown: %v", err)
		}
	})
	t.Run("ErrRevokedUser", func(t *testing.T) {
		tk := start(t, "h4", "f4")
		if err := db.RevokeUserSessions(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, use(tk, "h4n", now), "after revoke")
	})
	t.Run("ConcurrentExactlyOnce", func(t *testing.T) {
		for round := range 3 {
			hash, family := "c"+string(rune('a'+round)), "fc"+string(rune('a'+round))
			tk := start(t, hash, family)
			uses := make([]checklist.RefreshUse, 8)
			for i := range uses {
				uses[i] = use(tk, hash+"-next-"+string(rune('0'+i)), now)
			}
			var mu sync.Mutex
			var fresh int
			var got []checklist.RefreshUse
			var wg sync.WaitGroup
			for _, u := range uses {
				wg.Go(func() {
					issued, replayed, err := db.ConsumeRefreshToken(ctx, u)
					if err != nil {
						t.Errorf("consume: %v", err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if !replayed {
						fresh++
					}
					got = append(got, issued)
				})
			}
			wg.Wait()
			if fresh != 1 {
				t.Fatalf("round %d: %d of 8 concurrent consumers won, want exactly 1", round, fresh)
			}
			for _, g := range got {
				if g.Grant != got[0].Grant || g.Next.Hash != got[0].Next.Hash {
					t.Fatalf("round %d: the consumers got different uses: %+v and %+v", round, g, got[0])
				}
			}
			if n, _ := db.CountDocuments("refresh_tokens", bson.D{{Key: "session", Value: family}}); n != 2 {
				t.Fatalf("round %d: %d tokens in the family, want the first and one successor", round, n)
			}
		}
	})
}

// TestSessionsBoundedAndPruned: a user keeps at most MaxSessionsPerUser
// live sessions (a new login ends the oldest), and sessions whose tokens
// have all expired are deleted at the next login.
func TestSessionsBoundedAndPruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	db.Now = func() time.Time { return now }
	start := func(i int) checklist.RefreshToken {
		t.Helper()
		tk := checklist.RefreshToken{Hash: fmt.Sprintf("b%d", i), Family: fmt.Sprintf("bf%d", i), UserID: "u-bound",
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.StartSession(ctx, tk); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		return tk
	}
	consume := func(tk checklist.RefreshToken) error {
		_, _, err := db.ConsumeRefreshToken(ctx, checklist.RefreshUse{Token: tk, UsedAt: now, Grant: "g" + tk.Hash, AccessID: "j" + tk.Hash,
			Next: checklist.RefreshToken{Hash: tk.Hash + "n", Family: tk.Family, UserID: tk.UserID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}})
		return err
	}
	var tks []checklist.RefreshToken
	for i := range checklist.MaxSessionsPerUser + 3 {
		tks = append(tks, start(i))
	}
	live := bson.D{{Key: "user_id", Value: "u-bound"}, {Key: "revoked", Value: false}}
	if n, _ := db.CountDocuments("refresh_sessions", live); n != int64(checklist.MaxSessionsPerUser) {
		t.Fatalf("%d live sessions, want %d", n, checklist.MaxSessionsPerUser)
	}
	for _, tk := range tks[:3] {
		if err := consume(tk); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("the oldest session %s: %v, want unauthorized", tk.Family, err)
		}
	}
	if err := consume(tks[3]); err != nil {
		t.Fatalf("a session within the bound: %v", err)
	}

	// Two hours on every token has expired: the next login leaves only
	// its own session.
	now = now.Add(2 * time.Hour)
	start(100)
	if n, _ := db.CountDocuments("refresh_sessions", bson.D{{Key: "user_id", Value: "u-bound"}}); n != 1 {
		t.Fatalf("%d sessions after the expired ones were pruned, want 1", n)
	}
}
