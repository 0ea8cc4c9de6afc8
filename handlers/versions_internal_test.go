package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenken/checklist"
)

func TestVersionCache(t *testing.T) {
	t.Parallel()
	content := checklist.Content{Title: checklist.Text{Ja: "点検"}}
	var loads atomic.Int64
	release := make(chan struct{})
	vc := newVersionCache(func(ctx context.Context, id string, n int) (checklist.Version, error) {
		loads.Add(1)
		<-release
		if n > 1 {
			return checklist.Version{}, checklist.Errorf(checklist.ENotFound, "no version %d", n)
		}
		return checklist.Version{ChecklistID: id, Number: n, Content: content, ContentHash: checklist.ContentHash(content), PublishedAt: time.Now()}, nil
	})

	t.Run("OneLoadForConcurrentMisses", func(t *testing.T) {
		var wg sync.WaitGroup
		entries := make([]*cachedVersion, 16)
		for i := range entries {
			wg.Go(func() {
				e, err := vc.get(context.Background(), "c", 1)
				if err != nil {
					t.Error(err)
				}
				entries[i] = e
			})
		}
		time.Sleep(50 * time.Millisecond) // let them all wait on the one load
		close(release)
		wg.Wait()
		if n := loads.Load(); n != 1 {
			t.Fatalf("%d loads for 16 concurrent first reads, want 1", n)
		}
		for _, e := range entries {
			if e != entries[0] || e.etag != `"`+checklist.ContentHash(content)+`"` {
				t.Fatal("the readers did not share one entry")
			}
		}
		if _, err := vc.get(context.Background(), "c", 1); err != nil || loads.Load() != 1 {
			t.Fatalf("a cached read loaded again: %v, %d loads", err, loads.Load())
		}
	})
	t.Run("ErrNotCached", func(t *testing.T) {
		before := loads.Load()
		for range 2 {
			if _, err := vc.get(context.Background(), "c", 2); checklist.ErrorCode(err) != checklist.ENotFound {
				t.Fatalf("err = %v", err)
			}
		}
		if loads.Load()-before != 2 {
			t.Fatal("a missing version was cached: it may be published a moment later")
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		for i := range maxCachedVersions + 10 {
			vc.entries.Add(versionKey{"bulk", i}, &cachedVersion{})
		}
		if n := vc.entries.Len(); n != maxCachedVersions {
			t.Fatalf("%d entries, want the bound %d", n, maxCachedVersions)
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false}, {"gzip", true}, {"gzip, deflate, br", true}, {"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false}, {"identity", false}, {"*", true}, {"*;q=0", false}, {"br, *", true}, {"gzip;q=0, *", false},
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
