package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/blobs"
	"tenken/storage/embedded"
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
	metricsAddr := fs.String("metrics-addr", envOr(e, "TENKEN_METRICS_ADDR", ""), "serve Prometheus metrics at /metrics on this address, apart from the API (default off) (env TENKEN_METRICS_ADDR)")
	photoStore := fs.String("photos", envOr(e, "TENKEN_PHOTOS", "disk"), "where photo bytes live: disk (the data folder) or gridfs (the database; needs MONGODB_URI) (env TENKEN_PHOTOS)")
	secureCookies := fs.Bool("secure-cookies", envOr(e, "TENKEN_SECURE_COOKIES", "") == "true", "mark the console's cookies Secure: set it when a TLS proxy serves tenken over HTTPS (env TENKEN_SECURE_COOKIES=true)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the whole run to this file, for measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := checkPhotoStore(*photoStore, db); err != nil {
		return err
	}
	if err := auth.envDurations(fs, e); err != nil {
		return err
	}
	// The logger and the access lines (cfg.AccessLog) share stderr; the
	// access lines are written in batches (logOutput).
	out := newLogOutput(e.stderr)
	defer out.Flush() // last: after the requests in flight are answered
	e.stderr = out
	log := newLogger(e)
	start := time.Now()
	// The store first: it takes the data folder's lock, so a second serve
	// on the folder stops before it touches anything, keys included.
	metrics := handlers.NewMetrics()
	store, closeStore, err := openStore(ctx, db, log, storage.WithCommandObserver(metrics.ObserveDatabase))
	if err != nil {
		return err
	}
	defer closeStore()
	// One writer per FerretDB server (see embedded.ClaimWriter); losing
	// the lease stops this serve. The embedded server's owner is its
	// data's sole writer already: it holds the data folder's lock.
	ctx, stopServe := context.WithCancelCause(ctx)
	defer stopServe(nil)
	var lease *embedded.WriterLease
	if db.uri != "" {
		if lease, err = embedded.ClaimWriter(ctx, store, stopServe); err != nil {
			return err
		}
	}
	defer func() {
		if err := lease.Release(); err != nil {
			log.Warn("writer lease release", slog.String("error", err.Error()))
		}
	}()
	store.SetLogger(log)
	// Follow-ups a crash or a database hiccup left unfinished are
	// repaired in the background: ready does not wait for them.
	stopBackground := background(ctx, func(ctx context.Context) { store.RunFollowUpRepairs(ctx, followUpRepairEvery) })
	defer stopBackground() // before closeStore
	cfg, err := auth.handlersConfig(db.dataDir, log)
	if err != nil {
		return err
	}
	cfg.AccessLog = out.Access() // where log writes: the same lines, cheaper
	if err := seedDefaultChecklist(ctx, store, log); err != nil {
		return fmt.Errorf("default checklist: %w", err)
	}
	photos, err := openPhotos(ctx, *photoStore, db, store)
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
		if err := seedDemoRound(ctx, store, time.Now(), log); err != nil {
			return fmt.Errorf("demo round: %w", err)
		}
	}
	cfg.Photos = photos
	cfg.Metrics = metrics
	cfg.SecureCookies = *secureCookies
	if disk, ok := photos.(*blobs.Disk); ok {
		stopSweep := background(ctx, func(ctx context.Context) { sweepBlobs(ctx, disk, store, log) })
		defer stopSweep()
	}
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
	// Start-up (the demo seeding, the first reads) leaves garbage the
	// runtime would keep mapped for minutes: give it back now, once.
	debug.FreeOSMemory()
	defer startGCPolicy(ctx, e.getenv)()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Float64("startup_ms", float64(time.Since(start).Microseconds())/1000))
	fmt.Fprintf(e.stdout, "tenken listening on http://%s\n", ln.Addr())
	fmt.Fprintf(e.stdout, "bureau console: http://%s/console/\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	if *metricsAddr != "" {
		stop, err := serveMetrics(*metricsAddr, srv, e, log)
		if err != nil {
			return err
		}
		defer stop()
	}
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
	if cause := context.Cause(ctx); errors.Is(cause, embedded.ErrWriterLeaseLost) {
		return cause
	}
	return nil
}

// serveMetrics serves /metrics on a listener of its own, so the API's
// clients never reach it; bind it to loopback or an internal network.
func serveMetrics(addr string, srv *handlers.Server, e env, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", srv.Metrics().Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", slog.String("error", err.Error()))
		}
	}()
	fmt.Fprintf(e.stdout, "tenken metrics on http://%s/metrics\n", ln.Addr())
	return func() { _ = hs.Close() }, nil
}

// followUpRepairEvery is how often serve looks for inspection follow-ups
// left unfinished (an empty collection, normally).
const followUpRepairEvery = 5 * time.Minute

// background runs fn in a goroutine until ctx is done or the returned
// stop is called; stop waits for fn to return.
func background(ctx context.Context, fn func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Unreferenced photo blobs are removed once they are a day old (an
// upload answered in the meantime references its blob), at start-up and
// then daily.
const (
	blobSweepAge   = 24 * time.Hour
	blobSweepEvery = 24 * time.Hour
)

// sweepBlobs removes, in the background, photo blobs that no inspection
// references, and logs how many.
func sweepBlobs(ctx context.Context, disk *blobs.Disk, store *storage.DB, log *slog.Logger) {
	referenced := func(ctx context.Context, sha string) (bool, error) {
		fs, err := store.PhotoFacilities(ctx, sha)
		return len(fs) > 0, err
	}
	for {
		n, err := disk.Sweep(ctx, time.Now().Add(-blobSweepAge), referenced)
		if err != nil && ctx.Err() == nil {
			log.Warn("photo sweep", slog.Int("removed", n), slog.String("error", err.Error()))
		} else if ctx.Err() == nil {
			log.Info("photo sweep", slog.Int("removed", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(blobSweepEvery):
		}
	}
}

// checkPhotoStore refuses a --photos value serve cannot honour, before
// anything starts.
func checkPhotoStore(kind string, db dbConfig) error {
	switch kind {
	case "disk":
		return nil
	case "gridfs":
		if db.uri == "" {
			return errors.New("--photos gridfs needs MONGODB_URI: GridFS keeps photos in the database, and the embedded database " +
				"(no MONGODB_URI) reads a whole collection for every query, so it keeps photos on disk; use --photos disk or set MONGODB_URI")
		}
		return nil
	}
	return fmt.Errorf("--photos %q: want disk or gridfs", kind)
}

// openPhotos opens the photo store: content-addressed files in the data
// folder, or the database's GridFS bucket, which several instances on one
// MongoDB share.
func openPhotos(ctx context.Context, kind string, db dbConfig, store *storage.DB) (handlers.PhotoStore, error) {
	if kind == "gridfs" {
		return blobs.NewGridFS(ctx, store, "")
	}
	return blobs.NewDisk(filepath.Join(db.dataDir, "blobs"))
}

// startCPUProfile profiles the process into file until stop.
func startCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
