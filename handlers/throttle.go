package handlers

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"tenken/checklist"
)

// ThrottleConfig limits failed logins with token buckets: each account
// and each client IP may fail Burst times in a row, then once per Every.
// Every attempt takes from both buckets before its password is hashed,
// atomically, so concurrent guesses cannot all pass the check before the
// first failure is counted; a success gives the client's token back and
// clears the account's bucket, so only failures count in the end.
//
// Password hashes (argon2id, ~19 MiB and tens of milliseconds each) run in
// at most HashSlots at once, with at most HashQueue more waiting; a login
// that finds the queue full is answered 503 with Retry-After at once, and
// one whose client hangs up while waiting is dropped unhashed.
type ThrottleConfig struct {
	AccountBurst int           // default 5
	AccountEvery time.Duration // default 1 minute
	ClientBurst  int           // default 20: offices share one IP behind NAT
	ClientEvery  time.Duration // default 5 seconds
	HashSlots    int           // default GOMAXPROCS
	HashQueue    int           // default 16
}

// Default login throttle.
const (
	DefaultAccountBurst = 5
	DefaultAccountEvery = time.Minute
	DefaultClientBurst  = 20
	DefaultClientEvery  = 5 * time.Second
	DefaultHashQueue    = 16
)

// loginThrottle keeps its buckets in this process's memory. Behind a load
// balancer with several instances each counts on its own, so an attacker
// gets the limits once per instance; that still bounds guessing to a few
// attempts per minute per account. A shared counter in the database would
// close the gap at the cost of a write per failed login.
type loginThrottle struct {
	mu       sync.Mutex // makes taking from both buckets one step
	accounts *buckets
	clients  *buckets
	hashes   *hashQueue
}

func newLoginThrottle(cfg ThrottleConfig) *loginThrottle {
	if cfg.AccountBurst <= 0 {
		cfg.AccountBurst = DefaultAccountBurst
	}
	if cfg.AccountEvery <= 0 {
		cfg.AccountEvery = DefaultAccountEvery
	}
	if cfg.ClientBurst <= 0 {
		cfg.ClientBurst = DefaultClientBurst
	}
	if cfg.ClientEvery <= 0 {
		cfg.ClientEvery = DefaultClientEvery
	}
	if cfg.HashSlots <= 0 {
		cfg.HashSlots = runtime.GOMAXPROCS(0)
	}
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = DefaultHashQueue
	}
	return &loginThrottle{
		accounts: newBuckets(cfg.AccountBurst, cfg.AccountEvery),
		clients:  newBuckets(cfg.ClientBurst, cfg.ClientEvery),
		hashes:   &hashQueue{slots: make(chan struct{}, cfg.HashSlots), maxWaiting: int64(cfg.HashQueue)},
	}
}

// loginAttempt is an attempt that took its tokens; how it ends decides
// whether they stay taken.
type loginAttempt struct {
	t               *loginThrottle
	account, client string
}

// take takes one token from the account's and one from the client's
// bucket, both or neither. A positive wait means refused: nothing was
// taken, and the caller may try again after wait.
func (t *loginThrottle) take(now time.Time, account, client string) (loginAttempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := t.accounts.take(now, account); wait > 0 {
		return loginAttempt{}, wait
	}
	if wait := t.clients.take(now, client); wait > 0 {
		t.accounts.give(now, account)
		return loginAttempt{}, wait
	}
	return loginAttempt{t: t, account: account, client: client}, 0
}

// failed keeps the tokens taken: a wrong password counts.
func (a loginAttempt) failed() {}

// succeeded forgets the account's failures and gives the client's token
// back. The client's earlier failures stay: one good password must not
// reset guessing at other accounts from the same place.
func (a loginAttempt) succeeded(now time.Time) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.t.clients.give(now, a.client)
	a.t.accounts.forget(a.account)
}

// undone gives both tokens back: the attempt ended before any answer
// about the password (database down, queue full, client gone).
func (a loginAttempt) undone(now time.Time) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.t.accounts.give(now, a.account)
	a.t.clients.give(now, a.client)
}

// errHashQueueFull refuses a login when too many wait for a hash.
var errHashQueueFull = checklist.Errorf(checklist.EUnavailable, "the server is busy checking other logins; try again in a moment")

// hashQueue bounds the password hashes running (slots) and waiting.
type hashQueue struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

// do runs hash in a free slot. It is errHashQueueFull when maxWaiting
// others already wait, and ctx's error when the client left before a slot
// came free: no work is done for nobody.
func (q *hashQueue) do(ctx context.Context, hash func()) error {
	select {
	case q.slots <- struct{}{}:
	default:
		if q.waiting.Add(1) > q.maxWaiting {
			q.waiting.Add(-1)
			return errHashQueueFull
		}
		select {
		case q.slots <- struct{}{}:
			q.waiting.Add(-1)
		case <-ctx.Done():
			q.waiting.Add(-1)
			return ctx.Err()
		}
	}
	defer func() { <-q.slots }()
	if err := ctx.Err(); err != nil {
		return err
	}
	hash()
	return nil
}

// buckets is a set of token buckets by key. Full buckets are dropped every
// minute, so memory follows the keys that failed recently.
type buckets struct {
	mu        sync.Mutex
	burst     float64
	every     time.Duration
	m         map[string]*bucket
	lastSweep time.Time
}

// bucket holds tokens as of at; it refills one per every, up to burst.
type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(burst int, every time.Duration) *buckets {
	return &buckets{burst: float64(burst), every: every, m: map[string]*bucket{}}
}

func (b *buckets) level(k *bucket, now time.Time) float64 {
	return min(b.burst, k.tokens+float64(max(now.Sub(k.at), 0))/float64(b.every))
}

// take takes a token from key's bucket, or returns how long until one is
// there (taking nothing).
func (b *buckets) take(now time.Time, key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	k := b.m[key]
	if k == nil {
		k = &bucket{tokens: b.burst, at: now} // starts full
		b.m[key] = k
	}
	tokens := b.level(k, now)
	if tokens < 1 {
		return time.Duration(math.Ceil((1 - tokens) * float64(b.every)))
	}
	k.tokens, k.at = tokens-1, now
	return 0
}

// give puts back a token take took.
func (b *buckets) give(now time.Time, key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.m[key]; k != nil {
		k.tokens, k.at = min(b.burst, b.level(k, now)+1), now
	}
}

func (b *buckets) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}

func (b *buckets) sweep(now time.Time) {
	if now.Sub(b.lastSweep) < time.Minute {
		return
	}
	b.lastSweep = now
	for key, k := range b.m {
		if b.level(k, now) >= b.burst {
			delete(b.m, key)
		}
	}
}
