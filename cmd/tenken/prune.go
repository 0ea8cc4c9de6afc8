package main

import (
	"context"
	"log/slog"
	"time"

	"tenken/storage"
)

// claimRetention is how long a client's idempotency key is remembered
// beyond the inspection's own short list: a tablet offline for a week
// still replays its retries exactly.
const claimRetention = 7 * 24 * time.Hour

// pruneIdempotencyClaims forgets old idempotency claims now and daily,
// keeping the collection small (the embedded server scans it on every
// retry) until ctx ends.
func pruneIdempotencyClaims(ctx context.Context, db *storage.DB, log *slog.Logger) {
	for {
		n, err := db.PruneRequests(ctx, claimRetention)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning idempotency claims", slog.String("error", err.Error()))
		case n > 0:
			log.Info("pruned idempotency claims", slog.Int64("claims", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}
