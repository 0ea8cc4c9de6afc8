// Package argoncost holds the argon2id cost of new password hashes. It is
// internal so that only auth reads it and only authtest lowers it: no
// production caller can weaken hashes.
package argoncost

import "sync/atomic"

// Params are argon2id's parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// Production is the cost OWASP recommends for argon2id: 19 MiB, 2 passes,
// 1 lane.
var Production = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32}

// Current is the cost of new hashes: Production unless a test lowered it.
var Current atomic.Pointer[Params]

func init() { Current.Store(&Production) }

// Derivations counts the argon2id keys derived in this process, so that a
// test can tell that a login paid for a hash without timing it.
var Derivations atomic.Int64
