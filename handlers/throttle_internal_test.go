package handlers

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestHashQueue: hashes wait for a slot in a bounded queue; a full queue
// refuses at once, and a waiter whose client left is dropped unhashed.
func TestHashQueue(t *testing.T) {
	t.Parallel()
	q := &hashQueue{slots: make(chan struct{}, 1), maxWaiting: 1}
	q.slots <- struct{}{} // a hash is running

	gone, cancel := context.WithCancel(context.Background())
	waited := make(chan error)
	hashed := false
	go func() { waited <- q.do(gone, func() { hashed = true }) }()
	for q.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := q.do(context.Background(), func() { t.Error("hashed past a full queue") }); !errors.Is(err, errHashQueueFull) {
		t.Fatalf("with the queue full: %v", err)
	}
	cancel() // the waiting client hangs up
	if err := <-waited; !errors.Is(err, context.Canceled) || hashed {
		t.Fatalf("a gone client's hash: err %v, hashed %v", err, hashed)
	}
	<-q.slots // the running hash ends
	if err := q.do(context.Background(), func() { hashed = true }); err != nil || !hashed || q.waiting.Load() != 0 {
		t.Fatalf("a free slot: err %v, hashed %v, waiting %d", err, hashed, q.waiting.Load())
	}
}

// TestThrottleTakeIsAllOrNothing: a refusal by the client's bucket does
// not cost the account a token, and a success gives the client's back.
func TestThrottleTakeIsAllOrNothing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	th := newLoginThrottle(ThrottleConfig{AccountBurst: 2, ClientBurst: 1})
	a, wait := th.take(now, "alice", "10.0.0.1")
	if wait != 0 {
		t.Fatal("the first attempt waits")
	}
	a.succeeded(now)
	if _, wait := th.take(now, "bob", "10.0.0.1"); wait != 0 {
		t.Fatal("a success did not give the client's token back")
	}
	// The client is empty now: bob's next attempt is refused whole.
	if _, wait := th.take(now, "bob", "10.0.0.1"); wait == 0 {
		t.Fatal("the client's bucket let a second failure through")
	}
	if _, wait := th.take(now, "bob", "10.0.0.2"); wait != 0 {
		t.Fatal("a refusal by the client's bucket cost the account a token")
	}
}
