package main

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
)

// TestGCLimit: the floor while the live heap is small, then a fixed
// multiple of it.
func TestGCLimit(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, gcLimitFloor},
		{20 << 20, gcLimitFloor},
		{32 << 20, gcLimitFloor},
		{40 << 20, 100 << 20},
		{80 << 20, 200 << 20},
		{1 << 30, 2560 << 20},
	} {
		if got := gcLimit(tc.live); got != tc.want {
			t.Errorf("gcLimit(%d MB) = %d MB, want %d MB", tc.live>>20, got>>20, tc.want>>20)
		}
	}
}

// TestGCPolicy: serve's collector settings hold while it runs and are
// restored after; an operator's GOGC or GOMEMLIMIT leaves them alone.
// Not parallel: the settings are the process's.
func TestGCPolicy(t *testing.T) {
	percent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	// Known settings to start from: the runtime's defaults.
	p0, l0 := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(p0); debug.SetMemoryLimit(l0) })
	p0, l0 = 100, math.MaxInt64

	stop := startGCPolicy(context.Background(), func(string) string { return "" })
	if p, l := percent(), limit(); p != gcPercent || l < gcLimitFloor || l == math.MaxInt64 {
		t.Errorf("while serving: GOGC %d, limit %d MB; want %d and at least %d MB", p, l>>20, gcPercent, gcLimitFloor>>20)
	}
	stop()
	if p, l := percent(), limit(); p != p0 || l != l0 {
		t.Errorf("after: GOGC %d, limit %d; want %d, %d as before", p, l, p0, l0)
	}

	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		stop := startGCPolicy(context.Background(), func(k string) string {
			if k == name {
				return "150"
			}
			return ""
		})
		if p, l := percent(), limit(); p != p0 || l != l0 {
			t.Errorf("with %s set: GOGC %d, limit %d; want them untouched (%d, %d)", name, p, l, p0, l0)
		}
		stop()
	}
}
