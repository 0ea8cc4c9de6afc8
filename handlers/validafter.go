package handlers

import (
	"context"
	"sync"
	"time"

	"tenken/checklist"
)

// An account change that ends a user's sessions (disabled, enabled, new
// role, other facilities: checklist.User.EndsSessions) revokes their
// refresh sessions in the database and moves the user's
// SessionsValidAfter. Access tokens are verified without the database, so
// each request also asks checkCredential whether the user still accepts a
// credential issued when the token was. The answer comes from a per-user
// copy kept validAfterTTL: a change made through this instance is seen at
// once (it drops the copy), one made through another instance or the
// command line within validAfterTTL.

const (
	// validAfterTTL bounds how stale a user's copy may be: one database
	// read per active user every few seconds, however many requests.
	validAfterTTL = 5 * time.Second
	// validAfterMax bounds memory (~100 B per entry).
	validAfterMax = 10_000
)

type userValidity struct {
	user    checklist.User // ID empty: no such user
	fetched time.Time      // monotonic clock reading
}

type validAfterCache struct {
	mu    sync.RWMutex
	users map[string]userValidity
	// forgets counts forget calls: a read that began before one may hold
	// the user as they were before the change, and is not kept.
	forgets uint64
}

func newValidAfterCache() *validAfterCache {
	return &validAfterCache{users: map[string]userValidity{}}
}

// forget drops the copy of user id, after a change made here.
func (vc *validAfterCache) forget(id string) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	delete(vc.users, id)
	vc.forgets++
}

// checkCredential is the one rule for every credential of a user — a
// bearer access token, or a browser session kept on the server: it holds
// while the user exists, is enabled, and issuedAt is not before the user's
// SessionsValidAfter. It is EUnauthorized when the credential no longer
// holds, or the store's error when the user cannot be read.
//
// A credential issued for user u must take u.CredentialIssuedAt(now) as
// its issue time, so that one issued in the second after a change holds.
func (s *Server) checkCredential(ctx context.Context, userID string, issuedAt time.Time) error {
	s.validAfter.mu.RLock()
	v, ok := s.validAfter.users[userID]
	forgets := s.validAfter.forgets
	s.validAfter.mu.RUnlock()
	if !ok || time.Since(v.fetched) >= validAfterTTL {
		u, err := s.store.FindUser(ctx, userID)
		switch checklist.ErrorCode(err) {
		case "":
		case checklist.ENotFound:
			u = checklist.User{}
		default:
			return err
		}
		v = userValidity{user: u, fetched: time.Now()}
		s.validAfter.add(userID, v, forgets)
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

// add keeps v unless a forget came since the read began (forgets).
func (vc *validAfterCache) add(id string, v userValidity, forgets uint64) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.forgets != forgets {
		return
	}
	if len(vc.users) >= validAfterMax {
		for k, e := range vc.users {
			if time.Since(e.fetched) >= validAfterTTL {
				delete(vc.users, k)
			}
		}
		if len(vc.users) >= validAfterMax {
			clear(vc.users)
		}
	}
	vc.users[id] = v
}
