package handlers

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ThrottleConfig limits failed logins with token buckets: each account
// and each client IP may fail Burst times in a row, then once per Every.
// Only failures take from the buckets; a success clears the account's.
type ThrottleConfig struct {
	AccountBurst int           // default 5
	AccountEvery time.Duration // default 1 minute
	ClientBurst  int           // default 20: offices share one IP behind NAT
	ClientEvery  time.Duration // default 5 seconds
}

// Default login throttle.
const (
	DefaultAccountBurst = 5
	DefaultAccountEvery = time.Minute
	DefaultClientBurst  = 20
	DefaultClientEvery  = 5 * time.Second
)

// loginThrottle keeps its buckets in this process's memory. Behind a load
// balancer with several instances each counts on its own, so an attacker
// gets the limits once per instance; that still bounds guessing to a few
// attempts per minute per account. A shared counter in the database would
// close the gap at the cost of a write per failed login.
type loginThrottle struct {
	accounts *buckets
	clients  *buckets
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
	return &loginThrottle{
		accounts: newBuckets(cfg.AccountBurst, cfg.AccountEvery),
		clients:  newBuckets(cfg.ClientBurst, cfg.ClientEvery),
	}
}

// wait returns how long the account and client must wait before the next
// attempt; zero means now.
func (t *loginThrottle) wait(now time.Time, account, client string) time.Duration {
	return max(t.accounts.wait(now, account), t.clients.wait(now, client))
}

// failed records a failed attempt.
func (t *loginThrottle) failed(now time.Time, account, client string) {
	t.accounts.take(now, account)
	t.clients.take(now, client)
}

// succeeded forgets the account's failures. The client's stay: one good
// password must not reset guessing at other accounts from the same place.
func (t *loginThrottle) succeeded(account string) { t.accounts.forget(account) }

// buckets is a set of token buckets by key. Full buckets are dropped every
// minute, so memory follows the keys that failed recently.
type buckets struct {
	mu        sync.Mutex
	burst     int
	every     time.Duration
	m         map[string]*rate.Limiter
	lastSweep time.Time
}

func newBuckets(burst int, every time.Duration) *buckets {
	return &buckets{burst: burst, every: every, m: map[string]*rate.Limiter{}}
}

func (b *buckets) wait(now time.Time, key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	lim := b.m[key]
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(b.every)))
}

func (b *buckets) take(now time.Time, key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lim := b.m[key]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(b.every), b.burst) // starts full
		b.m[key] = lim
	}
	lim.AllowN(now, 1)
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
	for k, lim := range b.m {
		if lim.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
}
