// Package storagetest gives tests a real database of their own: on the
// server named by MONGODB_URI when set, otherwise on one embedded server
// shared by the test binary. Each call creates a fresh database that is
// dropped when the test ends.
//
// The shared embedded server runs in a process of its own, `tenken db`
// built without the race detector, and the tests open their databases on
// it as the server's sole writer, as serve does on its own embedded
// server (embedded.Attach). Under the race detector FerretDB and its
// SQLite (C translated to Go, full of unsafe pointer arithmetic that
// -race also checks) ran 12 times slower — 20,000 inserts took 96 s
// instead of 8 — and they were most of the suite's time, checking code
// that is not ours. Ours stays race-checked: the storage layer, the
// handlers and the driver run in the test binary. The embedded server in
// process is tested where it matters: storage/embedded, and cmd/tenken's
// in-process serve. TENKEN_TEST_DB=inprocess runs the shared server in
// the test binary as before.
package storagetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tenken/storage"
	"tenken/storage/embedded"
)

var (
	once      sync.Once
	sharedURI string
	server    *embedded.Server // nil when MONGODB_URI is set
	folder    string           // the embedded server's data folder
	stopProc  func()           // stops the server's process, if it runs in one
	procState func() string    // the server process's state and log, for errors
	startErr  error
)

// Main runs a package's tests (call it from TestMain) and then stops the
// shared embedded server and removes its folder, so a test run leaves
// nothing in the temporary directory.
//
// The tests' temporary files (t.TempDir, the shared server's folder, data
// folders of the binaries tests start) go to memory when the machine has
// a tmpfs at /dev/shm: a database test on disk spends most of its time
// waiting for fsync (3–4 ms each here, several per write), which proves
// nothing a test can check — a killed process's writes survive in the
// page cache either way, and power loss is not testable. Set
// TENKEN_TEST_TMPDIR to choose the folder (e.g. a disk's, to run them
// with fsync).
//
// after runs, in order, once the tests have run and before the shared
// server stops and the temporary folder goes: it stops what else the
// tests shared (the browser of browsertest.Stop).
func Main(m *testing.M, after ...func()) int {
	removeTemp := memoryTemp()
	code := m.Run()
	for _, f := range after {
		f()
	}
	if stopProc != nil {
		stopProc()
	}
	if server != nil {
		server.Stop()
	}
	for _, dir := range []string{folder, binFolder} {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}
	removeTemp()
	return code
}

// memoryTemp points TMPDIR at a new folder in TENKEN_TEST_TMPDIR or,
// when that is unset, /dev/shm if it is a writable tmpfs; it returns a
// function that removes the folder. Nothing changes when neither exists.
func memoryTemp() (remove func()) {
	parent := os.Getenv("TENKEN_TEST_TMPDIR")
	if parent == "" {
		parent = "/dev/shm"
	}
	dir, err := os.MkdirTemp(parent, "tk") // short: serve refuses data paths over 100 bytes
	if err != nil {
		return func() {}
	}
	prev, had := os.LookupEnv("TMPDIR")
	if err := os.Setenv("TMPDIR", dir); err != nil {
		_ = os.Remove(dir)
		return func() {}
	}
	return func() {
		if had {
			_ = os.Setenv("TMPDIR", prev)
		} else {
			_ = os.Unsetenv("TMPDIR")
		}
		_ = os.RemoveAll(dir)
	}
}

// URI returns the connection string tests use, starting the shared
// embedded server on first use when MONGODB_URI is not set.
func URI(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if uri := os.Getenv("MONGODB_URI"); uri != "" {
			sharedURI = uri
			return
		}
		dir, err := os.MkdirTemp("", "tenken-test-db-")
		if err != nil {
			startErr = err
			return
		}
		folder = dir
		// The server lives as long as the test binary; Main stops it
		// and removes its folder.
		if os.Getenv("TENKEN_TEST_DB") == "inprocess" {
			quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
			e, err := embedded.Start(dir, "127.0.0.1:0", quiet)
			if err != nil {
				startErr = err
				return
			}
			sharedURI, server = e.URI(), e
			return
		}
		uri, stop, err := startProcess(dir)
		if err != nil {
			startErr = err
			return
		}
		stopProc = stop
		procState = func() string { return describeProcess(dir) }
		sharedURI, server = uri, embedded.Attach(filepath.Join(dir, "data"), uri)
	})
	if startErr != nil {
		t.Fatalf("test database server: %v", startErr)
	}
	return sharedURI
}

// startProcess runs `tenken db` (Binary) over dir/data on a Unix socket in dir. It returns the
// server's connection string and a function that stops it. The server is
// killed if the test binary dies first (Pdeathsig: the signal follows the
// thread that started the process, so that thread stays locked to the
// goroutine that waits for it).
func startProcess(dir string) (uri string, stop func(), err error) {
	bin, err := Binary()
	if err != nil {
		return "", nil, fmt.Errorf("build tenken for the test database: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "db.log"))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "db", "--data", filepath.Join(dir, "data"), "--addr", filepath.Join(dir, "db.sock"))
	cmd.Env = append(os.Environ(), "TENKEN_LOG_LEVEL=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	started, exited := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		fmt.Fprintf(logFile, "tenken db exited: %v\n", err)
		_ = logFile.Close()
		close(exited)
	}()
	if err := <-started; err != nil {
		return "", nil, err
	}
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		first <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case uri = <-first:
	case <-exited:
	case <-time.After(60 * time.Second):
	}
	if uri == "" {
		stop()
		log, _ := os.ReadFile(logFile.Name())
		return "", nil, errors.New("tenken db printed no connection string: " + string(log))
	}
	return uri, stop, nil
}

// serverState describes the shared server's process when it runs in one:
// whether it exited, and its log.
func serverState() string {
	if procState == nil {
		return ""
	}
	return "\n" + procState()
}

// describeProcess returns the log of the server process started in dir.
func describeProcess(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "db.log"))
	if err != nil {
		return "tenken db log: " + err.Error()
	}
	return "tenken db log:\n" + string(b)
}

// Open returns a connected *storage.DB on a new, empty database.
func Open(t testing.TB) *storage.DB {
	t.Helper()
	uri := URI(t) // first: building and starting the server has no deadline
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := open(ctx, uri, NewName())
	if err != nil {
		t.Fatalf("open test database: %v%s", err, serverState())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		_ = db.Close(ctx)
	})
	return db
}

// OpenKept opens a new database as the server does, like Open, but
// neither drops nor closes it: data that several benchmarks share.
func OpenKept(tb testing.TB) (*storage.DB, error) {
	tb.Helper()
	uri := URI(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return open(ctx, uri, NewName())
}

// Reopen returns a second connection to db's database, with locks of its
// own: to the storage layer it is another instance of the server, as on a
// MongoDB replica set shared by several API processes. It is closed (not
// dropped) when the test ends.
func Reopen(t testing.TB, db *storage.DB) *storage.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Not through the embedded server's Open: only one DB owns the data.
	other, err := storage.Open(ctx, URI(t), db.Name(), embedded.Adapt())
	if err != nil {
		t.Fatalf("reopen test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = other.Close(ctx)
	})
	return other
}

// open opens database name as the server does: through the embedded
// server's Open when it is the one tests use.
func open(ctx context.Context, uri, name string) (*storage.DB, error) {
	if server != nil {
		return server.Open(ctx, name)
	}
	return storage.Open(ctx, uri, name, embedded.Adapt())
}

// NewName returns a database name no other test uses.
func NewName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test_" + hex.EncodeToString(b)
}

// Binary returns the path of the tenken binary built from this module
// without the race detector, for tests that run it: the shared test
// database here, the end-to-end tests in cmd/tenken.
//
// It is the executable `go run` keeps in the Go build cache (Go 1.24 and
// later), so that every test binary of a `go test ./...` run, and the
// README's `go run ./cmd/tenken`, share one link of it instead of each
// linking a 50 MB binary of its own (several seconds of CPU each). The go
// command runs a fresh link from a temporary folder and caches it: the
// second call then names the cached file. If the go command does not
// cache it, the binary is built into a folder of its own, removed by Main.
var Binary = sync.OnceValues(func() (string, error) {
	// The test binaries of one `go test ./...` ask at the same moment; on
	// a cold build cache each go command would compile FerretDB and SQLite
	// without -race on its own (minutes on two cores). One at a time, the
	// first builds and the others find its result in the cache.
	defer lockBuild()()
	for range 2 {
		out, err := exec.Command("go", "run", "-exec", "echo", "tenken/cmd/tenken").Output()
		if err != nil {
			return "", goError(err)
		}
		if path := strings.TrimSpace(string(out)); fileExists(path) {
			return path, nil
		}
	}
	dir, err := os.MkdirTemp("", "tenken-bin-")
	if err != nil {
		return "", err
	}
	binFolder = dir
	bin := filepath.Join(dir, "tenken")
	if out, err := exec.Command("go", "build", "-o", bin, "tenken/cmd/tenken").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return bin, nil
})

// lockBuild takes a lock shared by every test binary of this user
// (a file in the user's cache folder) and returns its release. Without a
// cache folder it locks nothing: the builds only repeat work.
func lockBuild() (unlock func()) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return func() {}
	}
	dir = filepath.Join(dir, "tenken-test")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return func() {}
	}
	return func() { f.Close() } // closing releases the lock
}

// binFolder is the folder Binary built into when the build cache did
// not keep the binary; Main removes it.
var binFolder string

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// goError adds the go command's error output to err.
func goError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%v: %s", err, ee.Stderr)
	}
	return err
}
