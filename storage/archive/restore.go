package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/storage"
)

// RestoreOptions say where a restore puts the files of an archive.
type RestoreOptions struct {
	// DataDir receives the archive's blobs/ (and keys/, when the archive
	// has them). Required when the archive holds files.
	DataDir string
	// Force replaces a target that is not empty: the database is dropped
	// and the data folder's blobs (and keys, when the archive has them)
	// are replaced.
	Force bool
}

// NotEmptyError is returned by Restore when the target holds data and
// Force is not set.
type NotEmptyError struct {
	Database    string
	Collections []string // collections that hold documents
	Blobs       int      // blob files in the data folder
	Keys        int      // key files, counted when the archive has keys
}

func (e *NotEmptyError) Error() string {
	var what []string
	if len(e.Collections) > 0 {
		what = append(what, fmt.Sprintf("database %q has documents in %s", e.Database, strings.Join(e.Collections, ", ")))
	}
	if e.Blobs > 0 {
		what = append(what, fmt.Sprintf("the data folder has %d blob files", e.Blobs))
	}
	if e.Keys > 0 {
		what = append(what, fmt.Sprintf("the data folder has %d key files", e.Keys))
	}
	return "the restore target is not empty: " + strings.Join(what, "; ") + " (use --force to replace them)"
}

// Restore brings the archive at path into this database and the data
// folder opts.DataDir. It first reads the whole archive and checks it
// (see VerifyArchive) and that the target is empty (or opts.Force); only
// then does it drop the database, insert every document, recreate the
// indexes, and move the blob files into place. It checks the document
// counts at the end.
//
// A failure after the first change leaves the target incomplete; the
// error says so, and a second restore with Force starts over.
func Restore(ctx context.Context, store *storage.DB, path string, opts RestoreOptions) (*Manifest, error) {
	return open(store).restore(ctx, path, opts)
}

func (db *database) restore(ctx context.Context, path string, opts RestoreOptions) (*Manifest, error) {
	m, err := readArchive(ctx, path, nil, nil)
	if err != nil {
		return nil, err
	}
	hasFiles := m.Blobs.Count > 0 || m.Keys != nil
	if hasFiles && opts.DataDir == "" {
		return nil, errors.New("restore: the archive holds files and no data folder is given")
	}
	if !opts.Force {
		if err := db.checkEmpty(ctx, opts.DataDir, m.Keys != nil); err != nil {
			return nil, err
		}
	}
	var staging string
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, err
		}
		staging, err = os.MkdirTemp(opts.DataDir, ".restore-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(staging)
	}

	// From here on the target changes.
	if err := db.restoreData(ctx, path, m, staging); err != nil {
		return nil, fmt.Errorf("restore stopped part-way, the target is incomplete (restore again with --force): %w", err)
	}
	if staging != "" {
		dirs := []string{blobsDir}
		if m.Keys != nil {
			dirs = append(dirs, keysDir)
		}
		for _, d := range dirs {
			if err := replaceDir(filepath.Join(staging, d), filepath.Join(opts.DataDir, d), staging); err != nil {
				return nil, fmt.Errorf("restore stopped part-way, the target is incomplete (restore again with --force): %w", err)
			}
		}
	}
	return m, nil
}

// checkEmpty returns a *NotEmptyError when the database holds a document
// or the data folder holds blobs (or keys, when withKeys).
func (db *database) checkEmpty(ctx context.Context, dataDir string, withKeys bool) error {
	e := &NotEmptyError{Database: db.Name()}
	cols, err := db.listCollections(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, c := range cols {
		err := db.db.Collection(c.name).FindOne(ctx, bson.D{}).Err()
		if err == nil {
			e.Collections = append(e.Collections, c.name)
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("restore: %w", translate(err))
		}
	}
	if dataDir != "" {
		if e.Blobs, err = countFiles(filepath.Join(dataDir, blobsDir)); err != nil {
			return err
		}
		if withKeys {
			if e.Keys, err = countFiles(filepath.Join(dataDir, keysDir)); err != nil {
				return err
			}
		}
	}
	if len(e.Collections) > 0 || e.Blobs > 0 || e.Keys > 0 {
		return e
	}
	return nil
}

func countFiles(root string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	return n, err
}

// restoreData drops the database and reads the archive a second time,
// inserting documents and writing files into staging, checking the
// content against the manifest m again as it goes; then it recreates the
// indexes and checks that the server took every document.
func (db *database) restoreData(ctx context.Context, path string, m *Manifest, staging string) error {
	if err := db.db.Drop(ctx); err != nil {
		return translate(err)
	}
	// Counted from the servers' acknowledgements: counting afterwards
	// would make the embedded server decode every document once more.
	inserted := map[string]int64{}
	sinks := &archiveSinks{
		collection: func(c CollectionEntry, docs func(func(bson.Raw) error) error) error {
			n, err := db.restoreCollection(ctx, c, docs)
			inserted[c.Name] = n
			return err
		},
		file: func(e FileEntry, r io.Reader) error {
			return writeStagedFile(staging, e.Path, r)
		},
	}
	if staging == "" {
		sinks.file = nil
	}
	if _, err := readArchive(ctx, path, m, sinks); err != nil {
		return err
	}
	for _, c := range m.Collections {
		if err := db.restoreIndexes(ctx, c); err != nil {
			return fmt.Errorf("collection %s: indexes: %w", c.Name, err)
		}
	}
	for _, c := range m.Collections {
		if inserted[c.Name] != c.Documents {
			return fmt.Errorf("collection %s: the server acknowledged %d documents, the archive has %d", c.Name, inserted[c.Name], c.Documents)
		}
	}
	return nil
}

// Restore inserts in batches of at most this many documents or bytes.
const (
	restoreBatchDocs  = 1000
	restoreBatchBytes = 8 << 20
)

// restoreCollection creates the collection with its options and inserts
// its documents in order, returning how many the server acknowledged.
func (db *database) restoreCollection(ctx context.Context, c CollectionEntry, docs func(func(bson.Raw) error) error) (inserted int64, err error) {
	create := bson.D{{Key: "create", Value: c.Name}}
	if len(c.Options) > 0 {
		var opts bson.D
		if err := bson.UnmarshalExtJSON(c.Options, false, &opts); err != nil {
			return 0, fmt.Errorf("collection %s: options: %w", c.Name, err)
		}
		create = append(create, opts...)
	}
	if err := db.db.RunCommand(ctx, create).Err(); err != nil {
		return 0, fmt.Errorf("collection %s: create: %w", c.Name, translate(err))
	}
	col := db.db.Collection(c.Name)
	var batch []any
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := col.InsertMany(ctx, batch, options.InsertMany().SetOrdered(true))
		if err != nil {
			return fmt.Errorf("collection %s: insert: %w", c.Name, translate(err))
		}
		inserted += int64(len(res.InsertedIDs))
		batch, size = batch[:0], 0
		return nil
	}
	err = docs(func(doc bson.Raw) error {
		batch = append(batch, doc)
		size += len(doc)
		if len(batch) >= restoreBatchDocs || size >= restoreBatchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return inserted, err
}

// restoreIndexes recreates the collection's indexes from their specs,
// all but the _id index, which every collection has.
func (db *database) restoreIndexes(ctx context.Context, c CollectionEntry) error {
	var specs bson.A
	for _, raw := range c.Indexes {
		var spec bson.D
		if err := bson.UnmarshalExtJSON(raw, false, &spec); err != nil {
			return err
		}
		spec = slices.DeleteFunc(spec, func(e bson.E) bool { return e.Key == "v" || e.Key == "ns" })
		if name, _ := specValue(spec, "name").(string); name == "_id_" {
			continue
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return nil
	}
	cmd := bson.D{{Key: "createIndexes", Value: c.Name}, {Key: "indexes", Value: specs}}
	return translate(db.db.RunCommand(ctx, cmd).Err())
}

func specValue(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// writeStagedFile writes one file of the archive under staging, synced
// so that the files are on disk before they replace the old ones.
func writeStagedFile(staging, name string, r io.Reader) error {
	p := filepath.Join(staging, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceDir puts the folder from in place of to: the old one, if any, is
// moved into trash (removed with it) and from is renamed to to. Both are
// in the data folder, so each rename is atomic.
func replaceDir(from, to, trash string) error {
	if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(from, 0o700); err != nil {
			return err
		}
	}
	if _, err := os.Stat(to); err == nil {
		if err := os.Rename(to, filepath.Join(trash, "old-"+filepath.Base(to))); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(from, to)
}
