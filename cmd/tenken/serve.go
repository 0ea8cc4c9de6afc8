package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"tenken/handlers"
	"tenken/storage"
)

// shutdownGrace bounds how long in-flight requests may take to finish.
const shutdownGrace = 10 * time.Second

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("serve", e)
	var db dbConfig
	db.bind(fs, e)
	var auth authConfig
	auth.bind(fs, e)
	addr := fs.String("addr", envOr(e, "TENKEN_ADDR", "127.0.0.1:8080"), "listen address (env TENKEN_ADDR)")
	demo := fs.Bool("demo", false, "on an empty database, create demo facilities, users and inspections")
	demoInspections := fs.Bool("demo-inspections", true, "with --demo, also create two fiscal years of demo inspections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := auth.envDurations(fs, e); err != nil {
		return err
	}
	log := newLogger(e)
	start := time.Now()
	// The store first: it takes the data folder's lock, so a second serve
	// on the folder stops before it touches anything, keys included.
	store, closeStore, err := openStore(ctx, db, log)
	if err != nil {
		return err
	}
	defer closeStore()
	cfg, err := auth.handlersConfig(db.dataDir, log)
	if err != nil {
		return err
	}
	if err := seedDefaultChecklist(ctx, store, log); err != nil {
		return fmt.Errorf("default checklist: %w", err)
	}
	// Photo bytes live on disk beside the database, content-addressed.
	// (Several instances on MongoDB would share GridFS instead.)
	photos, err := storage.NewBlobs(filepath.Join(db.dataDir, "blobs"))
	if err != nil {
		return err
	}
	if *demo {
		if err := seedDemo(ctx, e, store, log); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if *demoInspections {
			if err := seedDemoInspections(ctx, store, photos, log); err != nil {
				return fmt.Errorf("demo inspections: %w", err)
			}
		}
	}
	cfg.Photos = photos
	srv, err := handlers.NewServer(cfg, store)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second, // photos over slow networks
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Float64("startup_ms", float64(time.Since(start).Microseconds())/1000))
	fmt.Fprintf(e.stdout, "tenken listening on http://%s\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight requests finish, then close the
	// database (deferred): nothing acknowledged is cut off.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", slog.String("error", err.Error()))
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
