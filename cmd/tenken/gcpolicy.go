package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// serve's collector: GOGC=200 while the live heap is small, never
// letting the heap grow past what the runtime's default would at a large
// one. The collector was a sixth of serve's CPU under load (a full
// submission: 2 of 12.6 ms), and at the default GOGC=100 a heap of a few
// tens of MB is collected again after every few hundred requests. Twice
// the heap between collections halves that work; the soft memory limit
// (debug.SetMemoryLimit) keeps the peak under the 150 MB the full-
// submission load may take (gcLimitFloor: 131 MB measured; 100 MiB let it
// reach 152 MB for 0.3 ms less per submission) and, as the live heap
// grows, at gcLimitFactor times it, which is about what GOGC=100 reaches
// with the runtime's own memory on top. An operator's GOGC or GOMEMLIMIT
// turns all of this off.
const (
	gcPercent     = 200
	gcLimitFloor  = 80 << 20
	gcLimitFactor = 2.5
	gcPolicyEvery = 5 * time.Second
)

// gcLimit is the soft memory limit for a live heap of live bytes.
func gcLimit(live uint64) int64 {
	return max(gcLimitFloor, int64(gcLimitFactor*float64(live)))
}

// startGCPolicy applies the policy until stop, which restores the
// runtime's settings as they were; with GOGC or GOMEMLIMIT set it
// changes nothing.
func startGCPolicy(ctx context.Context, getenv func(string) string) (stop func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(gcPercent)
	oldLimit := debug.SetMemoryLimit(-1) // -1 reads it
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	adjust := func() {
		metrics.Read(live)
		if live[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(gcLimit(live[0].Value.Uint64()))
		}
	}
	adjust()
	stopLoop := background(ctx, func(ctx context.Context) {
		t := time.NewTicker(gcPolicyEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				adjust()
			}
		}
	})
	return func() {
		stopLoop()
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}
