package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tenken/storage"
	"tenken/storage/embedded"
)

// dbConfig says where the data is: a MongoDB connection string, or the
// data folder of the embedded server.
type dbConfig struct {
	uri     string
	dataDir string
	name    string
	// sync is the embedded server's embedded.Sync ("full" or "normal").
	sync string
}

// bind registers the database flags on fs, with environment defaults.
func (c *dbConfig) bind(fs *flag.FlagSet, e env) {
	fs.StringVar(&c.dataDir, "data", envOr(e, "TENKEN_DATA", "tenken-data"), "data folder: embedded database, keys, photos (env TENKEN_DATA)")
	fs.StringVar(&c.name, "database", envOr(e, "TENKEN_DATABASE", "tenken"), "database name (env TENKEN_DATABASE)")
	fs.StringVar(&c.sync, "sqlite-sync", envOr(e, "TENKEN_SQLITE_SYNC", string(embedded.SyncFull)),
		"embedded database: full syncs every write to disk; normal only at checkpoints, cheaper, but an OS crash or power cut may undo the last writes (docs/operations.md) (env TENKEN_SQLITE_SYNC)")
	c.uri = e.getenv("MONGODB_URI")
}

// openStore connects to MONGODB_URI, or starts the embedded server in the
// data folder and connects to it. close releases both.
func openStore(ctx context.Context, c dbConfig, log *slog.Logger, opts ...storage.Option) (db *storage.DB, close func(), err error) {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data folder: %w", err)
	}
	if c.uri == "" {
		// The embedded database has no authentication: its folder,
		// socket and files are this user's alone.
		if err := os.Chmod(c.dataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data folder: %w", err)
		}
	}
	stopEmbedded := func() {}
	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if c.uri != "" {
		db, err = storage.Open(openCtx, c.uri, c.name, append(opts, embedded.Adapt())...)
	} else {
		// Assign, not declare: a new err here would shadow the result, and
		// a failed Open would return a nil store with no error.
		var e *embedded.Server
		sock, serr := embeddedSocket(c.dataDir)
		if serr != nil {
			return nil, nil, serr
		}
		sync, serr := embedded.ParseSync(c.sync)
		if serr != nil {
			return nil, nil, serr
		}
		e, err = embedded.Start(c.dataDir, sock, embeddedLogger(log), embedded.WithSync(sync))
		if err != nil {
			return nil, nil, ownerHint(err)
		}
		stopEmbedded = e.Stop
		log.Info("embedded database started", slog.String("folder", filepath.Join(c.dataDir, "db")))
		db, err = e.Open(openCtx, c.name, opts...)
	}
	if err != nil {
		stopEmbedded()
		return nil, nil, err
	}
	return db, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = db.Close(ctx)
		stopEmbedded()
	}, nil
}

// embeddedSocket is the Unix socket the embedded server listens on: in
// the data folder, so that only its owner can connect (no TCP port that
// any local process could reach). A socket path is limited to 107 bytes.
func embeddedSocket(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "db.sock"))
	if err != nil {
		return "", fmt.Errorf("data folder: %w", err)
	}
	if len(abs) > 100 {
		return "", fmt.Errorf("data folder %s: its path is too long for the embedded database's socket (%s: over 100 bytes); use a shorter --data", dataDir, abs)
	}
	return abs, nil
}

// embeddedLogger passes on the embedded server's warnings and errors.
func embeddedLogger(log *slog.Logger) *slog.Logger {
	return slog.New(embeddedLogs{Handler: log.With(slog.String("component", "embedded-db")).Handler(), min: slog.LevelWarn})
}

// ownerHint adds what to do to the error of a data folder in use.
func ownerHint(err error) error {
	var inUse *embedded.DataDirInUseError
	if errors.As(err, &inUse) {
		return fmt.Errorf("%w\n(one tenken serve or tenken db owns a data folder at a time: stop that one first, or use another --data)", err)
	}
	return err
}

// embeddedLogs filters the embedded server's logs: records below min, and
// its dumps of wire messages (it logs the whole reply of every command it
// refuses, such as the endSessions the driver sends at each disconnect),
// are dropped.
//
// Attributes and groups are applied only to a record that is logged: the
// embedded server adds every SQL statement's arguments — whole documents —
// to its logger twice per statement, for a debug line, and the JSON
// handler encodes attributes as soon as they are added. Eagerly that was
// 2 % of a submission's server CPU, and the garbage of it more.
type embeddedLogs struct {
	slog.Handler
	min slog.Level
	// pending are the WithAttrs and WithGroup calls not yet applied to
	// Handler, in order.
	pending []func(slog.Handler) slog.Handler
}

func (h embeddedLogs) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h embeddedLogs) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "Response ") || strings.HasPrefix(r.Message, "Request ") {
		return nil
	}
	out := h.Handler
	for _, apply := range h.pending {
		out = apply(out)
	}
	return out.Handle(ctx, r)
}

func (h embeddedLogs) WithAttrs(a []slog.Attr) slog.Handler {
	return h.then(func(n slog.Handler) slog.Handler { return n.WithAttrs(a) })
}

func (h embeddedLogs) WithGroup(name string) slog.Handler {
	return h.then(func(n slog.Handler) slog.Handler { return n.WithGroup(name) })
}

// then is h with apply added to its pending calls; h's own are unchanged.
func (h embeddedLogs) then(apply func(slog.Handler) slog.Handler) embeddedLogs {
	h.pending = append(slices.Clip(h.pending), apply)
	return h
}

// newLogger returns the JSON logger on stderr at the configured level.
func newLogger(e env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(envOr(e, "TENKEN_LOG_LEVEL", "info"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}
