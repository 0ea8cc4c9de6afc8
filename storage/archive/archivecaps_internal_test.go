package archive

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// craftArchive writes a gzip'd tar at a temporary path whose entries
// come from add, which writes them to tw.
func craftArchive(t *testing.T, add func(tw *tar.Writer)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crafted.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	add(tw)
	for _, c := range []io.Closer{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// entry writes one regular file entry of size bytes read from r.
func entry(t *testing.T, tw *tar.Writer, name string, size int64, r io.Reader) {
	t.Helper()
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		t.Fatal(err)
	}
}

// repeat reads byte b forever.
type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// verifyAllocates runs VerifyArchive on path, wants an *ArchiveError that
// mentions want, and returns the bytes it allocated.
func verifyAllocates(t *testing.T, path, want string) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := VerifyArchive(path)
	runtime.ReadMemStats(&after)
	var ae *ArchiveError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), want) {
		t.Fatalf("VerifyArchive = %v, want an archive error about %q", err, want)
	}
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("VerifyArchive allocated %.1f MB in all", float64(n)/(1<<20))
	return n
}

// TestArchiveCaps: crafted archives that expand to one enormous line, to
// entries with megabyte names, or to too many entries are refused while
// reading, within 100 MB (a 7 MB crafted archive took 3.1 GB before).
func TestArchiveCaps(t *testing.T) {
	t.Run("LongLine", func(t *testing.T) {
		// The cap lowered to 1 MB, a 40 MB line: a reader that grew its
		// buffer to the line's end would allocate more than 40 MB.
		old := maxArchiveLine
		maxArchiveLine = 1 << 20
		t.Cleanup(func() { maxArchiveLine = old })
		path := craftArchive(t, func(tw *tar.Writer) {
			entry(t, tw, "collections/users.jsonl", 40<<20, repeat(' '))
		})
		if n := verifyAllocates(t, path, "longer than"); n > 20<<20 {
			t.Fatalf("allocated %d MB, want under 20", n>>20)
		}
	})
	t.Run("LongNames", func(t *testing.T) {
		// 16 names of 900 KB: the reader stops at the first (6 MB in all,
		// its buffers and tar's copies of that one name); one that went on
		// past it would allocate at least 13 MB more. (Writing the names
		// is most of the test's time under the race detector.)
		path := craftArchive(t, func(tw *tar.Writer) {
			for i := range 16 {
				name := "blobs/" + strings.Repeat("a", 900<<10) + string(rune('a'+i%26)) + strings.Repeat("b", i/26)
				entry(t, tw, name, 0, repeat(0))
			}
		})
		if n := verifyAllocates(t, path, "name is"); n > 12<<20 {
			t.Fatalf("allocated %d MB, want under 12", n>>20)
		}
	})
	t.Run("TooManyEntries", func(t *testing.T) {
		old := maxArchiveEntries
		maxArchiveEntries = 1000
		t.Cleanup(func() { maxArchiveEntries = old })
		path := craftArchive(t, func(tw *tar.Writer) {
			for i := range 1001 {
				entry(t, tw, "blobs/sha256/aa/"+strings.Repeat("0", 10)+string(rune('a'+i%26))+strings.Repeat("1", i/26), 0, repeat(0))
			}
		})
		verifyAllocates(t, path, "more than 1000 entries")
	})
}
