package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/storage/blobs"
)

// The archive format is described in ARCHIVE.md beside this file.
const (
	ArchiveFormat  = "tenken-backup"
	ArchiveVersion = 1

	manifestName = "manifest.json"
	blobsDir     = "blobs"
	keysDir      = "keys"
)

// Consistency of an archive, as recorded in its manifest.
const (
	// PointInTime: nothing wrote to the database or the data folder while
	// the backup ran (the backup owned the data folder).
	PointInTime = "point-in-time"
	// PerDocument: the service ran during the backup. Every document and
	// blob is whole, but documents, within a collection and across
	// collections, may come from different moments of the backup's run.
	PerDocument = "per-document"
)

// Manifest describes an archive: what it holds and how to check it. It is
// the archive's last entry, written when everything before it is known.
type Manifest struct {
	Format      string            `json:"format"`
	Version     int               `json:"version"`
	CreatedAt   time.Time         `json:"createdAt"`
	Database    string            `json:"database"`
	Source      string            `json:"source,omitempty"`
	Consistency string            `json:"consistency"`
	Collections []CollectionEntry `json:"collections"`
	Blobs       FileSet           `json:"blobs"`
	// Keys is nil when the signing keys were left out (the default).
	Keys     *FileSet `json:"keys,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// GridFSPhotos is how many photos the archive holds in the GridFS
// bucket (collection photos.files), besides Blobs on disk.
func (m *Manifest) GridFSPhotos() int64 {
	for _, c := range m.Collections {
		if c.Name == blobs.PhotoBucket+".files" {
			return c.Documents
		}
	}
	return 0
}

// CollectionEntry is one collection: its file of documents, one canonical
// Extended JSON document per line, and what it takes to recreate it.
type CollectionEntry struct {
	Name      string `json:"name"`
	File      string `json:"file"`
	Documents int64  `json:"documents"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	// Options are the collection's creation options and Indexes its index
	// specifications (the _id index included), as listCollections and
	// listIndexes return them, in canonical Extended JSON.
	Options json.RawMessage   `json:"options,omitempty"`
	Indexes []json.RawMessage `json:"indexes"`
}

// FileSet lists files copied from the data folder.
type FileSet struct {
	Count int         `json:"count"`
	Bytes int64       `json:"bytes"`
	Files []FileEntry `json:"files"`
}

// FileEntry is one file: its path in the archive (which is also its path
// relative to the data folder), size and SHA-256.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Documents is the number of documents over all collections.
func (m *Manifest) Documents() int64 {
	var n int64
	for _, c := range m.Collections {
		n += c.Documents
	}
	return n
}

// ArchiveError is a damaged, incomplete or foreign archive.
type ArchiveError struct {
	Path    string
	Problem string
}

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("archive %s: %s", e.Path, e.Problem)
}

func archiveErrorf(path, format string, args ...any) *ArchiveError {
	return &ArchiveError{Path: path, Problem: fmt.Sprintf(format, args...)}
}

// VerifyArchive reads the archive at path through and checks it against
// its manifest: a tenken archive of a version this code reads; every
// collection file present, each line an Extended JSON document, as many
// as the manifest says, with the recorded SHA-256; every blob and key file
// present with its recorded size and SHA-256; no other entries. It
// returns the manifest, or an *ArchiveError saying what is wrong.
func VerifyArchive(path string) (*Manifest, error) {
	return readArchive(context.Background(), path, nil, nil)
}

// Caps on what reading an archive holds in memory, whatever the archive
// claims: a few kilobytes of gzip can expand to gigabytes of one line, or
// to thousands of entries with megabyte names. Each cap is far above what
// a backup of tenken's data has: documents are at most 16 MB (tenken's
// inspections, 8 MB), a blob path is under 100 bytes, and one entry per
// photo. Variables, so that tests can lower them.
var (
	maxArchiveLine     = 24 << 20 // one document's Extended JSON
	maxArchiveEntries  = 200_000  // entries of one archive
	maxArchiveName     = 256      // bytes of an entry's name
	maxArchiveManifest = 32 << 20 // bytes of manifest.json
)

// archiveSinks receive an archive's content while readArchive checks it.
// Each is called once per entry of its kind, and must consume r.
type archiveSinks struct {
	collection func(c CollectionEntry, docs func(yield func(bson.Raw) error) error) error
	file       func(e FileEntry, r io.Reader) error
}

// readArchive reads the archive at path, passing its content to sinks
// (nil: only check). The manifest is the last entry, so content is
// checked against it at the end; Restore therefore reads twice, first
// with no sinks, and changes nothing unless the first pass succeeds.
func readArchive(ctx context.Context, file string, m *Manifest, sinks *archiveSinks) (*Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, archiveErrorf(file, "not a gzip file: %v", err)
	}
	tr := tar.NewReader(gz)

	type seen struct {
		size, lines int64
		sha256      string
	}
	found := map[string]seen{}
	var manifest *Manifest
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, archiveErrorf(file, "damaged or truncated: %v", err)
		}
		name := hdr.Name
		if len(name) > maxArchiveName {
			return nil, archiveErrorf(file, "an entry's name is %d bytes long (at most %d)", len(name), maxArchiveName)
		}
		if len(found) >= maxArchiveEntries {
			return nil, archiveErrorf(file, "more than %d entries", maxArchiveEntries)
		}
		if hdr.Typeflag != tar.TypeReg || !filepath.IsLocal(name) || path.Clean(name) != name {
			return nil, archiveErrorf(file, "unexpected entry %q", name)
		}
		if _, dup := found[name]; dup {
			return nil, archiveErrorf(file, "entry %q appears twice", name)
		}
		if manifest != nil {
			return nil, archiveErrorf(file, "entry %q after the manifest", name)
		}
		sum := sha256.New()
		body := io.TeeReader(tr, sum)
		var s seen
		switch {
		case name == manifestName:
			data, err := io.ReadAll(io.LimitReader(body, int64(maxArchiveManifest)+1))
			if err != nil {
				return nil, archiveErrorf(file, "damaged or truncated: %v", err)
			}
			if len(data) > maxArchiveManifest {
				return nil, archiveErrorf(file, "%s is larger than %d bytes", manifestName, maxArchiveManifest)
			}
			manifest = new(Manifest)
			if err := json.Unmarshal(data, manifest); err != nil {
				return nil, archiveErrorf(file, "manifest: %v", err)
			}
			s.size = int64(len(data))
		case strings.HasPrefix(name, "collections/"):
			lines, n, err := readCollection(ctx, file, name, body, m, sinks)
			if err != nil {
				return nil, err
			}
			s.size, s.lines = n, lines
		case strings.HasPrefix(name, blobsDir+"/"), strings.HasPrefix(name, keysDir+"/"):
			var n int64
			if sinks != nil && sinks.file != nil {
				cr := &countingReader{r: body}
				if err := sinks.file(FileEntry{Path: name, Size: hdr.Size}, cr); err != nil {
					return nil, err
				}
				n = cr.n
			}
			rest, err := io.Copy(io.Discard, body)
			if err != nil {
				return nil, archiveErrorf(file, "damaged or truncated at %s: %v", name, err)
			}
			s.size = n + rest
		default:
			return nil, archiveErrorf(file, "unexpected entry %q", name)
		}
		s.sha256 = hex.EncodeToString(sum.Sum(nil))
		found[name] = s
	}
	// Read the gzip stream to its end, where its checksum is checked.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return nil, archiveErrorf(file, "damaged or truncated: %v", err)
	}
	if manifest == nil {
		return nil, archiveErrorf(file, "no %s: not a tenken archive, or truncated", manifestName)
	}
	if manifest.Format != ArchiveFormat {
		return nil, archiveErrorf(file, "format %q, want %q", manifest.Format, ArchiveFormat)
	}
	if manifest.Version < 1 || manifest.Version > ArchiveVersion {
		return nil, archiveErrorf(file, "format version %d; this tenken reads versions 1 to %d", manifest.Version, ArchiveVersion)
	}
	if m != nil && (m.CreatedAt != manifest.CreatedAt || m.Database != manifest.Database) {
		return nil, archiveErrorf(file, "changed while being restored")
	}

	expected := map[string]bool{manifestName: true}
	for _, c := range manifest.Collections {
		got, ok := found[c.File]
		switch {
		case c.File != collectionFile(c.Name):
			return nil, archiveErrorf(file, "collection %q is in file %q, want %q", c.Name, c.File, collectionFile(c.Name))
		case !ok:
			return nil, archiveErrorf(file, "collection %s: file %s missing", c.Name, c.File)
		case got.lines != c.Documents:
			return nil, archiveErrorf(file, "collection %s: %d documents, manifest says %d", c.Name, got.lines, c.Documents)
		case got.size != c.Bytes || got.sha256 != c.SHA256:
			return nil, archiveErrorf(file, "collection %s: content does not match the manifest (SHA-256 %s, want %s)", c.Name, got.sha256, c.SHA256)
		}
		expected[c.File] = true
	}
	sets := []*FileSet{&manifest.Blobs}
	if manifest.Keys != nil {
		sets = append(sets, manifest.Keys)
	}
	for i, set := range sets {
		prefix := []string{blobsDir, keysDir}[i] + "/"
		if set.Count != len(set.Files) {
			return nil, archiveErrorf(file, "manifest lists %d files under %s, says %d", len(set.Files), prefix, set.Count)
		}
		for _, e := range set.Files {
			got, ok := found[e.Path]
			switch {
			case !strings.HasPrefix(e.Path, prefix):
				return nil, archiveErrorf(file, "manifest file %q is not under %s", e.Path, prefix)
			case !ok:
				return nil, archiveErrorf(file, "%s missing", e.Path)
			case got.size != e.Size || got.sha256 != e.SHA256:
				return nil, archiveErrorf(file, "%s: content does not match the manifest (SHA-256 %s, want %s)", e.Path, got.sha256, e.SHA256)
			}
			expected[e.Path] = true
		}
	}
	for name := range found {
		if !expected[name] {
			return nil, archiveErrorf(file, "entry %q is not in the manifest", name)
		}
	}
	return manifest, nil
}

// readCollection reads one collection file, parsing each line, and passes
// the documents to the collection sink when there is one. It returns the
// number of documents and of bytes read.
func readCollection(ctx context.Context, archive, name string, r io.Reader, m *Manifest, sinks *archiveSinks) (docs, size int64, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var lineErr error
	each := func(yield func(bson.Raw) error) error {
		for {
			line, err := readLine(br, maxArchiveLine)
			size += int64(len(line))
			if errors.Is(err, errLineTooLong) {
				lineErr = archiveErrorf(archive, "%s line %d is longer than %d bytes", name, docs+1, maxArchiveLine)
				return lineErr
			}
			if err == io.EOF && len(line) == 0 {
				return nil
			}
			if err != nil && err != io.EOF {
				lineErr = archiveErrorf(archive, "damaged or truncated at %s: %v", name, err)
				return lineErr
			}
			if err == io.EOF {
				lineErr = archiveErrorf(archive, "%s: last line has no newline (truncated?)", name)
				return lineErr
			}
			var doc bson.Raw
			if err := bson.UnmarshalExtJSON(line, false, &doc); err != nil {
				lineErr = archiveErrorf(archive, "%s line %d: %v", name, docs+1, err)
				return lineErr
			}
			docs++
			if docs%1000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if yield != nil {
				if err := yield(doc); err != nil {
					return err
				}
			}
		}
	}
	if sinks == nil || sinks.collection == nil {
		err := each(nil)
		return docs, size, err
	}
	var entry *CollectionEntry
	for i := range m.Collections {
		if m.Collections[i].File == name {
			entry = &m.Collections[i]
		}
	}
	if entry == nil {
		return 0, 0, archiveErrorf(archive, "entry %q is not in the manifest", name)
	}
	if err := sinks.collection(*entry, each); err != nil {
		if lineErr != nil {
			return 0, 0, lineErr
		}
		return 0, 0, err
	}
	return docs, size, nil
}

var errLineTooLong = errors.New("line too long")

// readLine is bufio.Reader.ReadBytes('\n') that stops with errLineTooLong
// once the line is longer than limit, instead of growing without bound.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			return line, errLineTooLong
		}
		if cap(line)-len(line) < len(frag) { // grow by doubling: few copies
			grown := make([]byte, len(line), max(2*cap(line), len(line)+len(frag)))
			copy(grown, line)
			line = grown
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
