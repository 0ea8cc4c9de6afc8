package auth

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"tenken/checklist"
)

// An account change that ends a user's sessions (disabled, enabled, new
// role, other facilities: checklist.User.EndsSessions) revokes their
// refresh sessions in the database and moves the user's
// SessionsValidAfter. Access tokens are verified without the database, so
// each request also asks Credentials.Check whether the user still accepts
// a credential issued when the token was. The answer comes from a per-user
// copy kept validAfterTTL: a change made through this instance is seen at
// once (Forget drops the copy), one made through another instance or the
// command line within validAfterTTL.

const (
	// validAfterTTL bounds how stale a user's copy may be: one database
	// read per active user every few seconds, however many requests.
	validAfterTTL = 5 * time.Second
	// validAfterMax bounds memory (~100 B per entry); when full, the user
	// seen least lately is read again on their next request.
	validAfterMax = 10_000
	// userReadTimeout bounds a shared read of a user, which no single
	// request's cancellation may end (see read).
	userReadTimeout = 10 * time.Second
)

// UserFinder reads a user by id; ENotFound when there is none.
type UserFinder interface {
	FindUser(ctx context.Context, id string) (checklist.User, error)
}

// Credentials decides whether a user's credential still holds, from a
// short-lived copy of each active user.
type Credentials struct {
	users  UserFinder
	copies *lru.Cache[string, userValidity]
	reads  singleflight.Group

	mu sync.Mutex // orders Forget against keeping a read
	// forgets counts Forget calls: a read that began before one may hold
	// the user as they were before the change, and is not kept.
	forgets uint64
}

type userValidity struct {
	user    checklist.User // ID empty: no such user
	fetched time.Time      // monotonic clock reading
}

// NewCredentials returns the credential check over users.
func NewCredentials(users UserFinder) *Credentials {
	copies, err := lru.New[string, userValidity](validAfterMax)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Credentials{users: users, copies: copies}
}

// Forget drops the copy of user id, after a change made through this
// instance, so that the next check reads the user again.
func (cr *Credentials) Forget(id string) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.copies.Remove(id)
	cr.reads.Forget(id)
	cr.forgets++
}

// Check is the one rule for every credential of a user — a bearer access
// token, or a browser session kept on the server: it holds while the user
// exists, is enabled, and issuedAt is not before the user's
// SessionsValidAfter. It is EUnauthorized when the credential no longer
// holds, or the store's error when the user cannot be read.
//
// A credential issued for user u must take u.CredentialIssuedAt(now) as
// its issue time, so that one issued in the second after a change holds.
func (cr *Credentials) Check(ctx context.Context, userID string, issuedAt time.Time) error {
	v, ok := cr.copies.Get(userID)
	if !ok || time.Since(v.fetched) >= validAfterTTL {
		var err error
		if v, err = cr.read(ctx, userID); err != nil {
			return err
		}
	}
	switch {
	case v.user.ID == "":
		return checklist.Errorf(checklist.EUnauthorized, "the account no longer exists")
	case v.user.Disabled:
		return checklist.Errorf(checklist.EUnauthorized, "the account is disabled")
	case !v.user.AcceptsCredential(issuedAt):
		return checklist.Errorf(checklist.EUnauthorized, "the account changed after the credential was issued; log in again")
	}
	return nil
}

// read reads user id once however many requests ask at the same moment:
// the first caller's read, detached from its cancellation so that its
// leaving does not fail the others, serves them all. The copy is kept
// unless a Forget came since the read began.
func (cr *Credentials) read(ctx context.Context, id string) (userValidity, error) {
	ch := cr.reads.DoChan(id, func() (any, error) {
		cr.mu.Lock()
		forgets := cr.forgets
		cr.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), userReadTimeout)
		defer cancel()
		u, err := cr.users.FindUser(rctx, id)
		switch checklist.ErrorCode(err) {
		case "":
		case checklist.ENotFound:
			u = checklist.User{}
		default:
			return nil, err
		}
		v := userValidity{user: u, fetched: time.Now()}
		cr.mu.Lock()
		defer cr.mu.Unlock()
		if cr.forgets == forgets {
			cr.copies.Add(id, v)
		}
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return userValidity{}, r.Err
		}
		return r.Val.(userValidity), nil
	case <-ctx.Done():
		return userValidity{}, ctx.Err()
	}
}
