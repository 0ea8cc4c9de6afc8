package blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"tenken/checklist"
)

// Disk is a content-addressed store of photo bytes on disk:
// <dir>/sha256/<first 2 hex>/<64 hex>. A blob's name is the SHA-256 of
// its bytes, so storing the same bytes again is a no-op, and a blob never
// changes once written.
//
// It keeps photo bytes out of the database, which the embedded server
// scans in full on every query. It serves one instance; a deployment of
// several instances on MongoDB puts the bytes in GridFS instead
// (GridFS, the same three methods).
type Disk struct {
	dir string
}

// NewDisk opens (creating when needed) the blob store in dir.
func NewDisk(dir string) (*Disk, error) {
	for _, d := range []string{filepath.Join(dir, "sha256"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	return &Disk{dir: dir}, nil
}

func (b *Disk) path(sha string) string {
	return filepath.Join(b.dir, "sha256", sha[:2], sha)
}

// Put stores the bytes of r, at most limit of them, and returns their
// SHA-256 and size. More than limit bytes is ETooLarge and stores
// nothing. The bytes go to a temporary file that is synced to disk and
// then renamed to its name, so a blob is either whole or absent: an
// interrupted upload leaves at most a temporary file, and a retry simply
// writes again.
func (b *Disk) Put(_ context.Context, r io.Reader, limit int64) (sha string, size int64, err error) {
	tmp, sha, size, err := receive(r, limit, filepath.Join(b.dir, "tmp"))
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	final := b.path(sha)
	if _, err := os.Stat(final); err == nil {
		// The same bytes are already stored. Touched, so that the sweep
		// of unreferenced blobs leaves them to the write about to
		// reference them.
		now := time.Now()
		if err := os.Chtimes(final, now, now); err != nil {
			return "", 0, fmt.Errorf("blob store: %w", err)
		}
		return sha, size, nil
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("blob store: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	tmp = nil
	syncDir(filepath.Dir(final))
	return sha, size, nil
}

// receive copies at most limit bytes of r into a new temporary file in
// dir ("" is the system's), hashing them on the way, and returns the
// file (positioned at its end; the caller closes and removes it), their
// SHA-256 and size. More than limit bytes is ETooLarge, a failing reader
// EBadRequest; either way the temporary file is already removed. Both
// photo stores take an upload this way, so they answer alike.
func receive(r io.Reader, limit int64, dir string) (tmp *os.File, sha string, size int64, err error) {
	tmp, err = os.CreateTemp(dir, "upload-*")
	if err != nil {
		return nil, "", 0, fmt.Errorf("photo store: %w", err)
	}
	fail := func(err error) (*os.File, string, int64, error) {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return nil, "", 0, err
	}
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fail(checklist.Errorf(checklist.ETooLarge, "the photo is larger than %d bytes", limit))
		}
		return fail(checklist.Errorf(checklist.EBadRequest, "the upload was interrupted: %v", err))
	}
	if size > limit {
		return fail(checklist.Errorf(checklist.ETooLarge, "the photo is larger than %d bytes", limit))
	}
	return tmp, hex.EncodeToString(h.Sum(nil)), size, nil
}

// syncDir makes a rename in dir durable. Failure is not fatal: some file
// systems cannot sync directories.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Open returns the blob with digest sha for reading, its size and when
// it was stored. A missing blob is ENotFound.
func (b *Disk) Open(_ context.Context, sha string) (f io.ReadSeekCloser, size int64, stored time.Time, err error) {
	if !checklist.IsSHA256(sha) {
		return nil, 0, time.Time{}, checklist.Errorf(checklist.ENotFound, "no photo %s", sha)
	}
	file, err := os.Open(b.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, time.Time{}, checklist.Errorf(checklist.ENotFound, "no photo %s", sha)
	}
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("blob store: %w", err)
	}
	st, err := file.Stat()
	if err != nil {
		_ = file.Close()
		return nil, 0, time.Time{}, fmt.Errorf("blob store: %w", err)
	}
	return file, st.Size(), st.ModTime(), nil
}

// Has reports whether the blob with digest sha is stored.
func (b *Disk) Has(_ context.Context, sha string) (bool, error) {
	if !checklist.IsSHA256(sha) {
		return false, nil
	}
	_, err := os.Stat(b.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blob store: %w", err)
	}
	return true, nil
}
