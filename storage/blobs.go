package storage

import (
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

// Blobs is a content-addressed store of photo bytes on disk:
// <dir>/sha256/<first 2 hex>/<64 hex>. A blob's name is the SHA-256 of
// its bytes, so storing the same bytes again is a no-op, and a blob never
// changes once written.
//
// It keeps photo bytes out of the database, which the embedded server
// scans in full on every query. It serves one instance; a deployment of
// several instances on MongoDB would put the bytes in GridFS (or an
// object store) behind the same three methods.
type Blobs struct {
	dir string
}

// NewBlobs opens (creating when needed) the blob store in dir.
func NewBlobs(dir string) (*Blobs, error) {
	for _, d := range []string{filepath.Join(dir, "sha256"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	return &Blobs{dir: dir}, nil
}

func (b *Blobs) path(sha string) string {
	return filepath.Join(b.dir, "sha256", sha[:2], sha)
}

// Put stores the bytes of r, at most limit of them, and returns their
// SHA-256 and size. More than limit bytes is ETooLarge and stores
// nothing. The bytes go to a temporary file that is synced to disk and
// then renamed to its name, so a blob is either whole or absent: an
// interrupted upload leaves at most a temporary file, and a retry simply
// writes again.
func (b *Blobs) Put(r io.Reader, limit int64) (sha string, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), "upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", 0, checklist.Errorf(checklist.ETooLarge, "the photo is larger than %d bytes", limit)
		}
		return "", 0, checklist.Errorf(checklist.EBadRequest, "the upload was interrupted: %v", err)
	}
	if size > limit {
		return "", 0, checklist.Errorf(checklist.ETooLarge, "the photo is larger than %d bytes", limit)
	}
	sha = hex.EncodeToString(h.Sum(nil))
	final := b.path(sha)
	if _, err := os.Stat(final); err == nil {
		return sha, size, nil // the same bytes are already stored
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
func (b *Blobs) Open(sha string) (f *os.File, size int64, stored time.Time, err error) {
	if !checklist.IsSHA256(sha) {
		return nil, 0, time.Time{}, checklist.Errorf(checklist.ENotFound, "no photo %s", sha)
	}
	f, err = os.Open(b.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, time.Time{}, checklist.Errorf(checklist.ENotFound, "no photo %s", sha)
	}
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("blob store: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, time.Time{}, fmt.Errorf("blob store: %w", err)
	}
	return f, st.Size(), st.ModTime(), nil
}

// Has reports whether the blob with digest sha is stored.
func (b *Blobs) Has(sha string) bool {
	if !checklist.IsSHA256(sha) {
		return false
	}
	_, err := os.Stat(b.path(sha))
	return err == nil
}
