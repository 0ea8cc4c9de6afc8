package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/storage"
)

// BackupOptions say what a backup takes besides the database.
type BackupOptions struct {
	// DataDir is the data folder whose blobs/ (photos) are archived; ""
	// archives no files.
	DataDir string
	// IncludeKeys archives DataDir/keys too. The keys sign access tokens:
	// an archive holding them must be guarded like the keys themselves.
	IncludeKeys bool
	// Quiescent says that nothing else writes while the backup runs (the
	// caller owns the data folder); the manifest then says point-in-time.
	Quiescent bool
	// Source describes where the data comes from, for the manifest.
	Source string
	// TempDir holds each collection's documents while they are counted
	// (a tar entry states its size first); "" is the system's default.
	// Put it where there is room for the largest collection.
	TempDir string
}

// Backup writes the whole database and the data folder's blobs to w as a
// gzip-compressed tar archive (see ARCHIVE.md) and returns its manifest.
//
// Collections are read first, one cursor each, then the blob files: a
// photo is stored before the document that refers to it, so every photo
// a backed-up document names is in the archive even while the service
// runs. Photos kept in GridFS are collections like the others (read
// after the inspections, files before chunks: see backupOrder). Documents written during the backup may or may not be included.
func Backup(ctx context.Context, store *storage.DB, w io.Writer, opts BackupOptions) (*Manifest, error) {
	return open(store).backup(ctx, w, opts)
}

func (db *database) backup(ctx context.Context, w io.Writer, opts BackupOptions) (*Manifest, error) {
	m := &Manifest{
		Format:      ArchiveFormat,
		Version:     ArchiveVersion,
		CreatedAt:   db.Now().UTC().Truncate(time.Millisecond),
		Database:    db.Name(),
		Source:      opts.Source,
		Consistency: PerDocument,
		Collections: []CollectionEntry{},
		Blobs:       FileSet{Files: []FileEntry{}},
	}
	if opts.Quiescent {
		m.Consistency = PointInTime
	}
	// Fastest compression: photos (most of the bytes) do not compress, and
	// on them the default level is four times slower for nothing; the
	// Extended JSON still shrinks to about a twentieth.
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)

	cols, err := db.listCollections(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: list collections: %w", err)
	}
	for _, c := range cols {
		entry, err := db.backupCollection(ctx, tw, c, m.CreatedAt, opts.TempDir)
		if err != nil {
			return nil, fmt.Errorf("backup: collection %s: %w", c.name, err)
		}
		m.Collections = append(m.Collections, entry)
	}
	if opts.DataDir != "" {
		if err := backupFiles(ctx, tw, opts.DataDir, blobsDir, &m.Blobs, &m.Warnings); err != nil {
			return nil, fmt.Errorf("backup: blobs: %w", err)
		}
		if opts.IncludeKeys {
			m.Keys = &FileSet{Files: []FileEntry{}}
			if err := backupFiles(ctx, tw, opts.DataDir, keysDir, m.Keys, &m.Warnings); err != nil {
				return nil, fmt.Errorf("backup: keys: %w", err)
			}
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	if err := writeEntry(tw, manifestName, m.CreatedAt, int64(len(data)), bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// collectionInfo is what listCollections says about one collection.
type collectionInfo struct {
	name    string
	options bson.Raw
}

// listCollections lists the database's collections by name, leaving out
// views and the server's own system.* collections.
func (db *database) listCollections(ctx context.Context) ([]collectionInfo, error) {
	cur, err := db.db.ListCollections(ctx, bson.D{})
	if err != nil {
		return nil, translate(err)
	}
	defer cur.Close(ctx)
	var cols []collectionInfo
	for cur.Next(ctx) {
		var spec struct {
			Name    string   `bson:"name"`
			Type    string   `bson:"type"`
			Options bson.Raw `bson:"options"`
		}
		if err := cur.Decode(&spec); err != nil {
			return nil, err
		}
		if (spec.Type != "" && spec.Type != "collection") || strings.HasPrefix(spec.Name, "system.") {
			continue
		}
		cols = append(cols, collectionInfo{name: spec.Name, options: spec.Options})
	}
	if err := cur.Err(); err != nil {
		return nil, translate(err)
	}
	slices.SortFunc(cols, func(a, b collectionInfo) int { return strings.Compare(backupOrder(a.name), backupOrder(b.name)) })
	return cols, nil
}

// backupOrder is the key collections are backed up in: by name, except
// that a GridFS bucket's chunks come right after its files. An upload
// writes the chunks, then the files document, so a files document the
// backup reads had its chunks stored before the chunks are read: every
// photo in the archive is whole even while uploads run. (By name the
// chunks would come first and could miss those of a photo whose files
// document is then read.) Photos (photos.files) are read after the
// inspections that name them, as the disk blobs are.
func backupOrder(name string) string {
	if bucket, ok := strings.CutSuffix(name, ".chunks"); ok {
		return bucket + ".files\x01"
	}
	return name
}

// backupCollection writes one collection's documents, one canonical
// Extended JSON document per line. A tar entry states its size before its
// content, so the lines go to a temporary file first.
func (db *database) backupCollection(ctx context.Context, tw *tar.Writer, c collectionInfo, modTime time.Time, tempDir string) (CollectionEntry, error) {
	entry := CollectionEntry{Name: c.name, File: collectionFile(c.name), Indexes: []json.RawMessage{}}
	col := db.db.Collection(c.name)

	if len(c.options) > 0 {
		opts, err := bson.MarshalExtJSON(c.options, true, false)
		if err != nil {
			return entry, err
		}
		if string(opts) != "{}" {
			entry.Options = opts
		}
	}
	icur, err := col.Indexes().List(ctx)
	if err != nil {
		return entry, translate(err)
	}
	for icur.Next(ctx) {
		spec, err := bson.MarshalExtJSON(icur.Current, true, false)
		if err != nil {
			icur.Close(ctx)
			return entry, err
		}
		entry.Indexes = append(entry.Indexes, spec)
	}
	if err := icur.Err(); err != nil {
		icur.Close(ctx)
		return entry, translate(err)
	}
	icur.Close(ctx)

	tmp, err := os.CreateTemp(tempDir, ".tenken-backup-*.jsonl")
	if err != nil {
		return entry, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sum := sha256.New()
	out := bufio.NewWriterSize(io.MultiWriter(tmp, sum), 1<<20)

	cur, err := col.Find(ctx, bson.D{})
	if err != nil {
		return entry, translate(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		line, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			return entry, fmt.Errorf("document %d: %w", entry.Documents+1, err)
		}
		out.Write(line)
		out.WriteByte('\n')
		entry.Documents++
		entry.Bytes += int64(len(line)) + 1
	}
	if err := cur.Err(); err != nil {
		return entry, translate(err)
	}
	if err := out.Flush(); err != nil {
		return entry, err
	}
	entry.SHA256 = hex.EncodeToString(sum.Sum(nil))
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return entry, err
	}
	return entry, writeEntry(tw, entry.File, modTime, entry.Bytes, tmp)
}

// collectionFile is the archive path of a collection's documents. The
// name is escaped so that any collection name is one safe file name.
func collectionFile(name string) string {
	return "collections/" + url.PathEscape(name) + ".jsonl"
}

// blobName matches content-addressed blob paths, whose name is their hash.
var blobName = regexp.MustCompile(`^blobs/sha256/[0-9a-f]{2}/([0-9a-f]{64})$`)

// backupFiles archives every regular file under dataDir/sub, recording
// each in set. A file that disappears between listing and reading (a
// temporary upload renamed meanwhile) is skipped; a content-addressed blob
// whose content does not match its name is archived as it is, with a
// warning, since a backup should not lose the rest over one bad photo.
func backupFiles(ctx context.Context, tw *tar.Writer, dataDir, sub string, set *FileSet, warnings *[]string) error {
	root := filepath.Join(dataDir, sub)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			if !d.IsDir() {
				*warnings = append(*warnings, fmt.Sprintf("skipped %s: not a regular file", p))
			}
			return nil
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		sum := sha256.New()
		if err := writeEntry(tw, name, fi.ModTime(), fi.Size(), io.TeeReader(f, sum)); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		e := FileEntry{Path: name, Size: fi.Size(), SHA256: hex.EncodeToString(sum.Sum(nil))}
		if m := blobName.FindStringSubmatch(name); m != nil && m[1] != e.SHA256 {
			*warnings = append(*warnings, fmt.Sprintf("%s: content does not match its name (SHA-256 %s); archived as found", name, e.SHA256))
		}
		set.Files = append(set.Files, e)
		set.Count++
		set.Bytes += e.Size
		return nil
	})
	return err
}

// writeEntry writes one regular file of size bytes from r.
func writeEntry(tw *tar.Writer, name string, modTime time.Time, size int64, r io.Reader) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o600,
		Size:     size,
		ModTime:  modTime.UTC().Truncate(time.Second),
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("changed size while being read (%d of %d bytes)", n, size)
	}
	return nil
}
