package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is the in-process MongoDB-compatible server (FerretDB with its
// SQLite handler) that tenken runs when no MONGODB_URI is configured.
// The same driver code talks to it over loopback as to a real MongoDB.
//
// A Server owns its data folder: it holds the folder's lock from
// start to Stop, so no second server can open the same SQLite files.
type Server struct {
	uri    string
	dbDir  string // the SQLite files
	lock   *DataLock
	cancel context.CancelFunc
	done   chan struct{}
}

// Sync is how the embedded server's SQLite makes a committed write
// durable (its journal is a write-ahead log either way).
type Sync string

const (
	// SyncFull, the default, syncs the log to disk at every commit: an
	// acknowledged write survives a crash of the process, of the
	// operating system and a power cut.
	SyncFull Sync = "full"
	// SyncNormal syncs the log only when SQLite copies it into the
	// database (a checkpoint, every ~1,000 pages): an acknowledged write
	// survives a crash or kill of the process, but a crash of the
	// operating system or a power cut may undo the writes of the last
	// moments before it. The database itself stays consistent. It saves
	// one fsync per write.
	SyncNormal Sync = "normal"
)

// ParseSync reads "full" or "normal"; "" is SyncFull.
func ParseSync(s string) (Sync, error) {
	switch Sync(s) {
	case "":
		return SyncFull, nil
	case SyncFull, SyncNormal:
		return Sync(s), nil
	}
	return "", fmt.Errorf("embedded database sync %q: want full or normal", s)
}

// Option changes how Start starts the server.
type Option func(*startConfig)

type startConfig struct{ sync Sync }

// WithSync sets how commits are made durable (SyncFull when not given).
func WithSync(s Sync) Option { return func(c *startConfig) { c.sync = s } }

// newMu serialises ferretdb.New (see start).
var newMu sync.Mutex

// Start locks the data folder dir (see LockDataDir) and starts
// the embedded server over the SQLite files in dir/db. addr is a TCP
// address such as "127.0.0.1:0" (a free port), or the path of a Unix
// socket ending in ".sock" (any addr containing a slash is a path).
// logger receives the server's own logs; pass one filtered to warnings.
//
// When another process owns dir it returns a *DataDirInUseError that
// names it. The server's connection string is recorded in the lock file
// for tools that want to reach the data while it runs.
func Start(dir, addr string, logger *slog.Logger, opts ...Option) (*Server, error) {
	c := startConfig{sync: SyncFull}
	for _, o := range opts {
		o(&c)
	}
	if _, err := ParseSync(string(c.sync)); err != nil {
		return nil, err
	}
	lock, err := LockDataDir(dir, Holder{Command: commandLine()})
	if err != nil {
		return nil, err
	}
	e, err := start(dir, addr, logger, c)
	if err != nil {
		lock.Release()
		return nil, err
	}
	e.lock = lock
	if err := lock.SetURI(e.uri); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

func start(dir, addr string, logger *slog.Logger, c startConfig) (*Server, error) {
	dbDir := filepath.Join(dir, "db")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded database folder: %w", err)
	}
	if err := os.Chmod(dbDir, 0o700); err != nil { // also a folder made before this rule
		return nil, fmt.Errorf("embedded database folder: %w", err)
	}
	listener := ferretdb.ListenerConfig{TCP: addr}
	if strings.Contains(addr, "/") {
		if !strings.HasSuffix(addr, ".sock") {
			// The driver takes a host ending in .sock for a socket path.
			return nil, fmt.Errorf("embedded database: socket path %q must end in .sock", addr)
		}
		if err := removeStaleSocket(addr); err != nil {
			return nil, err
		}
		listener = ferretdb.ListenerConfig{Unix: addr}
	}
	// ferretdb.New writes a package variable of FerretDB's (its version
	// record), so two servers started at once in one process race.
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: listener,
		Handler:  "sqlite",
		// Each connection FerretDB opens applies the pragma; its own
		// defaults (WAL, busy timeout) are added to it.
		SQLiteURL: "file:" + dbDir + "/?_pragma=synchronous(" + string(c.sync) + ")",
		Logger:    logger,
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	if listener.Unix != "" {
		// The server has no authentication: only this user may connect.
		if err := os.Chmod(listener.Unix, 0o600); err != nil {
			return nil, fmt.Errorf("embedded database socket: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Server{dbDir: dbDir, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	// New has opened the listener; MongoDBURI reads its address.
	e.uri = f.MongoDBURI()
	return e, nil
}

// removeStaleSocket removes a socket file that a crashed server left
// behind, so that listening on it again works. A socket somebody still
// answers on is left alone and listening fails with "address in use".
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded database socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("embedded database socket: %s exists and is not a socket", path)
	}
	c, err := net.Dial("unix", path)
	if err == nil {
		c.Close()
		return fmt.Errorf("embedded database socket: %s: another server answers on it", path)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return os.Remove(path)
	}
	return nil
}

// URI is the connection string of the running server.
func (e *Server) URI() string { return e.uri }

// Stop closes the listener, every connection and the SQLite files, and
// returns when they are closed; then it releases the data folder. It does
// nothing on a server another process runs (Attach).
func (e *Server) Stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	e.lock.Release()
}

// commandLine names this process for the lock file: the program and its
// subcommand ("tenken serve"), never the rest of its arguments.
func commandLine() string {
	if len(os.Args) == 0 {
		return ""
	}
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		cmd += " " + os.Args[1]
	}
	return cmd
}
