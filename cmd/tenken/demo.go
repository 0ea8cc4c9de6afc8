package main

import (
	"context"
	"log/slog"

	"tenken/storage"
)

// seedDemo fills an empty database with demo data.
func seedDemo(ctx context.Context, e env, db *storage.DB, log *slog.Logger) error {
	return nil
}
