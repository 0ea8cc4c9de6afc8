// Package authtest helps tests of packages that create users and log in.
package authtest

import (
	"testing"

	"tenken/auth/internal/argoncost"
)

// LowerPasswordCost makes new password hashes cheap for the rest of the
// process. At the production cost a hash takes ~50 ms, ~250 ms under the
// race detector, and API tests create and log in many users. The rules
// around the hash (salt, encoding, constant-time compare, the dummy hash)
// are the same at any cost. Call it from a test package's init or
// TestMain.
func LowerPasswordCost() {
	argoncost.Current.Store(&argoncost.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32})
}

// UseProductionPasswordCost makes new password hashes use the production
// cost until t ends, for tests that measure time.
func UseProductionPasswordCost(t testing.TB) {
	prev := argoncost.Current.Load()
	argoncost.Current.Store(&argoncost.Production)
	t.Cleanup(func() { argoncost.Current.Store(prev) })
}

// Derivations returns how many argon2id keys the process has derived: a
// login's cost counted instead of timed. Read it around requests made
// while no other test runs (not from a parallel test).
func Derivations() int64 { return argoncost.Derivations.Load() }
