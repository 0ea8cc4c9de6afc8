package auth_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenken/auth"
	"tenken/auth/authtest"
	"tenken/checklist"
	"tenken/storage"
	"tenken/storage/storagetest"
)

func TestMain(m *testing.M) {
	authtest.LowerPasswordCost()
	os.Exit(storagetest.Main(m))
}

// gatedUsers reads users from the real database, counting the reads.
// With a gate, a read stops after reading, tells reading (buffered 1),
// and returns once gate is closed, holding the user as they were.
type gatedUsers struct {
	db      *storage.DB
	reads   atomic.Int64
	gate    chan struct{}
	reading chan struct{}
}

func (g *gatedUsers) FindUser(ctx context.Context, id string) (checklist.User, error) {
	g.reads.Add(1)
	u, err := g.db.FindUser(ctx, id)
	if g.gate != nil {
		select {
		case g.reading <- struct{}{}:
		default:
		}
		<-g.gate
	}
	return u, err
}

func newReviewer(t *testing.T, db *storage.DB) checklist.User {
	t.Helper()
	u, err := auth.CreateUser(t.Context(), db, checklist.User{Username: "reviewer1", Role: checklist.RoleReviewer},
		"correct horse battery staple", checklist.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func disable(t *testing.T, db *storage.DB, u checklist.User) {
	t.Helper()
	yes := true
	_, err := db.UpdateUser(t.Context(), u.ID, u.Revision, checklist.SystemActor, func(u checklist.User) (checklist.User, error) {
		return checklist.UserChange{Disabled: &yes}.Apply(u, "admin", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCredentials(t *testing.T) {
	t.Run("ErrNoSuchUser", func(t *testing.T) {
		cr := auth.NewCredentials(storagetest.Open(t))
		err := cr.Check(t.Context(), "nobody", time.Now())
		if checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("got %v, want EUnauthorized", err)
		}
	})
	t.Run("ErrDisabledAtOnceAfterForget", func(t *testing.T) {
		db := storagetest.Open(t)
		users := &gatedUsers{db: db}
		cr := auth.NewCredentials(users)
		u := newReviewer(t, db)
		issued := u.CredentialIssuedAt(time.Now())
		if err := cr.Check(t.Context(), u.ID, issued); err != nil {
			t.Fatalf("enabled user: %v", err)
		}
		disable(t, db, u)
		if err := cr.Check(t.Context(), u.ID, issued); err != nil {
			t.Fatalf("within the copy's life, before Forget: %v, want the copy's answer", err)
		}
		if n := users.reads.Load(); n != 1 {
			t.Fatalf("%d reads, want 1: the copy was not used", n)
		}
		cr.Forget(u.ID)
		if err := cr.Check(t.Context(), u.ID, issued); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("after Forget: %v, want EUnauthorized", err)
		}
	})
	t.Run("ErrReadBeforeForgetNotKept", func(t *testing.T) {
		db := storagetest.Open(t)
		gate := make(chan struct{})
		users := &gatedUsers{db: db, gate: gate, reading: make(chan struct{}, 1)}
		cr := auth.NewCredentials(users)
		u := newReviewer(t, db)
		issued := u.CredentialIssuedAt(time.Now())
		first := make(chan error)
		go func() { first <- cr.Check(context.Background(), u.ID, issued) }()
		<-users.reading // the read holds the user as enabled
		disable(t, db, u)
		cr.Forget(u.ID)
		close(gate)
		if err := <-first; err != nil {
			t.Fatalf("the request that began before the change: %v", err)
		}
		if err := cr.Check(t.Context(), u.ID, issued); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Fatalf("after the change: %v, want EUnauthorized (the earlier read was kept)", err)
		}
	})
	t.Run("OKOneReadForConcurrentChecks", func(t *testing.T) {
		db := storagetest.Open(t)
		gate := make(chan struct{})
		users := &gatedUsers{db: db, gate: gate, reading: make(chan struct{}, 1)}
		cr := auth.NewCredentials(users)
		u := newReviewer(t, db)
		issued := u.CredentialIssuedAt(time.Now())
		const n = 16
		var started, done sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			started.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				started.Done()
				errs <- cr.Check(context.Background(), u.ID, issued)
			}()
		}
		<-users.reading
		started.Wait()
		// Give the others time to reach the read in flight; the check
		// below holds however the scheduler orders them.
		time.Sleep(50 * time.Millisecond)
		close(gate)
		done.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := users.reads.Load(); got != 1 {
			t.Fatalf("%d database reads for %d concurrent checks, want 1", got, n)
		}
	})
}
