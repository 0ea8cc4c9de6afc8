package embedded

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LockFile is the name of the lock file inside a data folder.
const LockFile = "LOCK"

// Holder describes the process that owns a data folder. It is written,
// as JSON, into the folder's LOCK file while the process holds the lock,
// so that the next process can say who is in the way and where to reach
// the data meanwhile.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
	// URI is the connection string of the embedded server the holder
	// runs over the folder, once it listens; empty before.
	URI string `json:"uri,omitempty"`
}

// String describes h for a person: pid, command, since when, where.
func (h Holder) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d", h.PID)
	if h.Command != "" {
		fmt.Fprintf(&b, " (%s)", h.Command)
	}
	if !h.Started.IsZero() {
		fmt.Fprintf(&b, " since %s", h.Started.Local().Format(time.RFC3339))
	}
	if h.URI != "" {
		fmt.Fprintf(&b, ", its database answers at %s", h.URI)
	}
	return b.String()
}

// DataDirInUseError is returned when another process holds a data folder.
// Holder is what that process wrote into the lock file; it is the zero
// value when the holder had not written it yet.
type DataDirInUseError struct {
	Dir    string
	Holder Holder
}

func (e *DataDirInUseError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("data folder %s is in use by another process (see %s)", e.Dir, filepath.Join(e.Dir, LockFile))
	}
	return fmt.Sprintf("data folder %s is in use by %s", e.Dir, e.Holder)
}

// DataLock is the exclusive ownership of a data folder, held through an
// flock(2) on dir/LOCK. The kernel releases the lock when the process
// ends, however it ends, so a crash never leaves a stale lock behind.
//
// The lock is held on a raw descriptor rather than an *os.File, whose
// finalizer would close it, and so silently release the folder, once the
// garbage collector finds the DataLock unreachable.
type DataLock struct {
	dir    string
	fd     int // -1 once released
	holder Holder
}

// LockDataDir takes the exclusive lock on the data folder dir, creating
// the folder if needed, and records h in the lock file (PID and Started
// default to this process and now). When another process holds the
// folder it returns at once with a *DataDirInUseError naming the holder.
//
// The lock belongs to the open file, not to the process: a second
// LockDataDir on the same folder inside one process is refused too.
func LockDataDir(dir string, h Holder) (*DataLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data folder lock %s: %w", path, err)
	}
	if err := lockOrName(fd, path, dir); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Started.IsZero() {
		h.Started = time.Now().UTC().Truncate(time.Second)
	}
	l := &DataLock{dir: dir, fd: fd, holder: h}
	if err := l.write(); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// flock takes the exclusive lock on fd without waiting, retrying when a
// signal interrupts the call.
func flock(fd int) error {
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Dir is the locked data folder.
func (l *DataLock) Dir() string { return l.dir }

// Holder is what the lock file says about this process.
func (l *DataLock) Holder() Holder { return l.holder }

// SetURI records the connection string of the server this process runs
// over the folder, so that tools started meanwhile can reach it.
func (l *DataLock) SetURI(uri string) error {
	l.holder.URI = uri
	return l.write()
}

func (l *DataLock) write() error {
	data, err := json.Marshal(l.holder)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	// A reader may look between the truncate and the write; lockOrName
	// retries on a file it cannot parse.
	if err := syscall.Ftruncate(l.fd, 0); err != nil {
		return fmt.Errorf("data folder lock: %w", err)
	}
	if _, err := syscall.Pwrite(l.fd, data, 0); err != nil {
		return fmt.Errorf("data folder lock: %w", err)
	}
	return nil
}

// Release empties the lock file and gives up the lock. The file stays:
// removing it would let a process that opened it just before lock an
// unlinked file while a third locks a new one.
func (l *DataLock) Release() {
	if l == nil || l.fd < 0 {
		return
	}
	_ = syscall.Ftruncate(l.fd, 0)
	_ = syscall.Close(l.fd) // closing the last descriptor releases the flock
	l.fd = -1
}

// lockOrName takes the lock on fd, the open lock file path of dir, or returns
// a *DataDirInUseError naming the holder. A holder that is starting or
// stopping may not have written the file yet, or may have emptied it; it
// gets a moment before the holder is reported unknown.
func lockOrName(fd int, path, dir string) error {
	var holder Holder
	for range 20 {
		err := flock(fd)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("data folder lock %s: %w", path, err)
		}
		data, err := os.ReadFile(path)
		if err == nil && json.Unmarshal(data, &holder) == nil && holder.PID != 0 {
			break
		}
		holder = Holder{}
		time.Sleep(10 * time.Millisecond)
	}
	return &DataDirInUseError{Dir: dir, Holder: holder}
}
