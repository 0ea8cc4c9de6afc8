package archive_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/storage"
	"tenken/storage/archive"
	"tenken/storage/blobs"
	"tenken/storage/storagetest"
)

// TestBackupRestore backs up a populated database and data folder and
// restores them into a fresh database and a fresh folder: every
// document (compared as canonical Extended JSON), every index and every
// blob comes back identical, and the signing keys stay out.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcDir := t.TempDir()
	src := sourceDB(t)
	populate(t, src.raw, srcDir)

	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	m := backup(t, src.db, file, archive.BackupOptions{DataDir: srcDir, Source: "test"})
	if m.Consistency != archive.PerDocument {
		t.Errorf("Consistency = %q, want %q", m.Consistency, archive.PerDocument)
	}
	if m.Keys != nil {
		t.Errorf("keys archived without IncludeKeys: %+v", m.Keys)
	}
	if m.Blobs.Count != 3 {
		t.Errorf("Blobs.Count = %d, want 3", m.Blobs.Count)
	}
	wantCounts := map[string]int64{"audit": 1200, "checklists": 1, "facilities": 2, "inspections": 2, "outbox": 0, "types": 1, "users": 2}
	gotCounts := map[string]int64{}
	for _, c := range m.Collections {
		gotCounts[c.Name] = c.Documents
	}
	if fmt.Sprint(gotCounts) != fmt.Sprint(wantCounts) {
		t.Errorf("manifest counts = %v, want %v", gotCounts, wantCounts)
	}

	dstDir := t.TempDir()
	dst := freshDB(t)
	got, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got.Documents() != m.Documents() {
		t.Errorf("restored manifest has %d documents, want %d", got.Documents(), m.Documents())
	}
	assertSameDatabase(t, src.raw, dst.raw)
	assertSameFiles(t, filepath.Join(srcDir, "blobs"), filepath.Join(dstDir, "blobs"))
	if _, err := os.Stat(filepath.Join(dstDir, "keys")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("keys folder restored from an archive without keys: %v", err)
	}
	if entries, _ := os.ReadDir(dstDir); len(entries) > 0 {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".restore-") {
				t.Errorf("staging folder left behind: %s", e.Name())
			}
		}
	}
}

// TestBackupWhileWriting backs up while a writer keeps storing photos and
// the inspections that name them, the way the service does (photo file
// first, then the document). The archive is whole, and every photo a
// restored inspection names is restored with it.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcDir := t.TempDir()
	src := sourceDB(t)
	stop, started := make(chan struct{}), make(chan struct{})
	written := make(chan int)
	go func() {
		n := 0
		defer func() { written <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			photo := writeBlobAtomically(t, srcDir, []byte(fmt.Sprintf("photo %d", n)))
			doc := bson.D{{Key: "_id", Value: fmt.Sprintf("i%05d", n)}, {Key: "photos", Value: bson.A{photo}}}
			if _, err := src.raw.Collection("inspections").InsertOne(ctx, doc); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
			if n++; n == 3 {
				close(started)
			}
		}
	}()
	t.Cleanup(func() { // on an early failure, stop the writer first
		select {
		case <-stop:
		default:
			close(stop)
			<-written
		}
	})
	select {
	case <-started:
	case n := <-written:
		close(stop)
		t.Fatalf("writer stopped after %d inspections", n)
	}
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	m := backup(t, src.db, file, archive.BackupOptions{DataDir: srcDir})
	close(stop)
	total := <-written
	if len(m.Collections) != 1 || m.Collections[0].Documents == 0 || m.Collections[0].Documents > int64(total) {
		t.Fatalf("archived %+v of %d written", m.Collections, total)
	}

	dstDir := t.TempDir()
	dst := freshDB(t)
	if _, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	cur, err := dst.raw.Collection("inspections").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID     string   `bson:"_id"`
		Photos []string `bson:"photos"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		for _, p := range d.Photos {
			if _, err := os.Stat(filepath.Join(dstDir, p)); err != nil {
				t.Errorf("inspection %s names %s, not restored: %v", d.ID, p, err)
			}
		}
	}
	t.Logf("%d of %d inspections archived while writing", len(docs), total)
}

// writeBlobAtomically stores data as the blob store does: into a
// temporary file beside the blobs, renamed into place.
func writeBlobAtomically(t testing.TB, dataDir string, data []byte) string {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	rel := filepath.Join("blobs", "sha256", h[:2], h)
	tmp, err := os.CreateTemp(dataDir, ".upload-*")
	if err == nil {
		_, err = tmp.Write(data)
		tmp.Close()
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(filepath.Join(dataDir, rel)), 0o700)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dataDir, rel))
	}
	if err != nil {
		t.Errorf("write blob: %v", err)
	}
	return rel
}

// TestBackupIncludeKeys archives the keys folder on request and restores it.
func TestBackupIncludeKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcDir := t.TempDir()
	src := sourceDB(t)
	writeFile(t, filepath.Join(srcDir, "keys", "jwt-2026.key"), []byte("secret key material"))
	writeBlob(t, srcDir, []byte("photo"))

	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	m := backup(t, src.db, file, archive.BackupOptions{DataDir: srcDir, IncludeKeys: true})
	if m.Keys == nil || m.Keys.Count != 1 {
		t.Fatalf("Keys = %+v, want one file", m.Keys)
	}
	dstDir := t.TempDir()
	dst := freshDB(t)
	if _, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	assertSameFiles(t, filepath.Join(srcDir, "keys"), filepath.Join(dstDir, "keys"))
}

// TestRestoreRefusesNonEmptyTarget: a database with a document, or a data
// folder with a blob, is not overwritten unless forced; forced, the target
// ends up holding exactly the archive.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcDir := t.TempDir()
	src := sourceDB(t)
	if _, err := src.raw.Collection("users").InsertOne(ctx, bson.M{"_id": "u1", "username": "sato"}); err != nil {
		t.Fatal(err)
	}
	blob := writeBlob(t, srcDir, []byte("archived photo"))
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	backup(t, src.db, file, archive.BackupOptions{DataDir: srcDir})

	t.Run("ErrDocuments", func(t *testing.T) {
		dstDir := t.TempDir()
		dst := freshDB(t)
		if _, err := dst.raw.Collection("facilities").InsertOne(ctx, bson.M{"_id": "f9"}); err != nil {
			t.Fatal(err)
		}
		_, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir})
		var notEmpty *archive.NotEmptyError
		if !errors.As(err, &notEmpty) || !slices.Equal(notEmpty.Collections, []string{"facilities"}) {
			t.Fatalf("Restore = %v, want *NotEmptyError naming facilities", err)
		}
		if n, _ := dst.raw.Collection("facilities").CountDocuments(ctx, bson.D{}); n != 1 {
			t.Errorf("refused restore changed the target: %d facilities", n)
		}
	})
	t.Run("ErrBlobs", func(t *testing.T) {
		dstDir := t.TempDir()
		dst := freshDB(t)
		writeBlob(t, dstDir, []byte("a photo already here"))
		_, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir})
		var notEmpty *archive.NotEmptyError
		if !errors.As(err, &notEmpty) || notEmpty.Blobs != 1 {
			t.Fatalf("Restore = %v, want *NotEmptyError with 1 blob", err)
		}
		if !strings.Contains(err.Error(), "--force") {
			t.Errorf("message %q does not say how to override", err)
		}
	})
	t.Run("OKForce", func(t *testing.T) {
		dstDir := t.TempDir()
		dst := freshDB(t)
		if _, err := dst.raw.Collection("facilities").InsertOne(ctx, bson.M{"_id": "f9"}); err != nil {
			t.Fatal(err)
		}
		old := writeBlob(t, dstDir, []byte("a photo already here"))
		if _, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir, Force: true}); err != nil {
			t.Fatalf("Restore with Force: %v", err)
		}
		assertSameDatabase(t, src.raw, dst.raw)
		if _, err := os.Stat(filepath.Join(dstDir, old)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("old blob still there after a forced restore: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dstDir, blob)); err != nil {
			t.Errorf("archived blob missing: %v", err)
		}
	})
	t.Run("OKEmptyCollections", func(t *testing.T) {
		// A folder where the service started once has its collections
		// and indexes but no data: that is empty.
		dstDir := t.TempDir()
		dst := freshDB(t)
		if err := dst.raw.CreateCollection(ctx, "users"); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dstDir, "blobs", "sha256"), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir}); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		assertSameDatabase(t, src.raw, dst.raw)
	})
}

// TestRestoreRejectsDamagedArchive: an archive that does not match its
// manifest is refused before anything in the target changes.
func TestRestoreRejectsDamagedArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcDir := t.TempDir()
	src := sourceDB(t)
	populateSmall(t, src.raw, srcDir)
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	backup(t, src.db, file, archive.BackupOptions{DataDir: srcDir})

	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"ErrBlobHash", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			if strings.HasPrefix(name, "blobs/") {
				data = slices.Clone(data)
				data[0] ^= 0xff
			}
			return data, true
		}), "does not match the manifest"},
		{"ErrBlobMissing", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			return data, !strings.HasPrefix(name, "blobs/")
		}), "missing"},
		{"ErrDocumentEdited", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			if name == "collections/users.jsonl" {
				data = bytes.Replace(data, []byte("sato"), []byte("kato"), 1)
			}
			return data, true
		}), "users: content does not match"},
		{"ErrDocumentCount", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			if name == "manifest.json" {
				data = bytes.Replace(data, []byte(`"documents": 1,`), []byte(`"documents": 2,`), 1)
			}
			return data, true
		}), "manifest says 2"},
		{"ErrBadJSON", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			if name == "collections/users.jsonl" {
				data = append([]byte("{not json\n"), data...)
			}
			return data, true
		}), "users.jsonl line 1"},
		{"ErrNoManifest", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			return data, name != "manifest.json"
		}), "no manifest.json"},
		{"ErrUnexpectedEntry", rewriteEntries(func(name string, data []byte) ([]byte, bool) {
			return data, true
		}, "../evil"), "unexpected entry"},
		{"ErrTruncated", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
				t.Fatal(err)
			}
		}, "truncated"},
		{"ErrNotGzip", func(t *testing.T, path string) {
			writeFile(t, path, []byte("PK\x03\x04 a zip file"))
		}, "not a gzip file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			damaged := filepath.Join(t.TempDir(), "damaged.tar.gz")
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, damaged, data)
			tt.damage(t, damaged)

			if _, err := archive.VerifyArchive(damaged); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("VerifyArchive = %v, want an error containing %q", err, tt.want)
			}
			dstDir := t.TempDir()
			dst := freshDB(t)
			_, err = archive.Restore(ctx, dst.db, damaged, archive.RestoreOptions{DataDir: dstDir})
			var archiveErr *archive.ArchiveError
			if !errors.As(err, &archiveErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Restore = %v, want an *ArchiveError containing %q", err, tt.want)
			}
			if names, _ := dst.raw.ListCollectionNames(ctx, bson.D{}); len(names) > 0 {
				t.Errorf("rejected restore created collections %v", names)
			}
			if entries, _ := os.ReadDir(dstDir); len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				if slices.Contains(names, "blobs") || slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, ".restore") }) {
					t.Errorf("rejected restore left files: %v", names)
				}
			}
		})
	}
}

// benchDocs and benchBlobs size the database of the backup benchmarks:
// inspections of 20 answers each (about 2 KB of BSON), and photos of
// 100 KB. Each benchmark also runs its baseline, the same work through
// the driver alone, so that the ratio means something on a busy machine.
const (
	benchDocs  = 2000
	benchBlobs = 20
)

// benchSource fills a new database with benchDocs inspections and a data
// folder with benchBlobs photos.
func benchSource(b *testing.B) (testDB, string, []any) {
	ctx := context.Background()
	src := sourceDB(b)
	docs := make([]any, benchDocs)
	for i := range docs {
		docs[i] = inspectionDoc(i)
	}
	if _, err := src.raw.Collection("inspections").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for i := range benchBlobs {
		writeBlob(b, dir, bytes.Repeat([]byte{byte(i), 0x5a, 0xc3}, 100<<10/3))
	}
	return src, dir, docs
}

// BenchmarkBackup backs up benchDocs documents and benchBlobs photos;
// its baseline reads every document through the driver and does nothing
// with it.
func BenchmarkBackup(b *testing.B) {
	src, dir, _ := benchSource(b)
	ctx := context.Background()
	b.Run("ReadAll", func(b *testing.B) {
		for b.Loop() {
			cur, err := src.raw.Collection("inspections").Find(ctx, bson.D{})
			if err != nil {
				b.Fatal(err)
			}
			for cur.Next(ctx) {
			}
			if err := cur.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Backup", func(b *testing.B) {
		for b.Loop() {
			if _, err := archive.Backup(ctx, src.db, io.Discard, archive.BackupOptions{DataDir: dir}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRestore restores the archive of such a backup, replacing the
// previous iteration's restore; its baseline drops the database and
// inserts the same documents with InsertMany in batches of 1000.
func BenchmarkRestore(b *testing.B) {
	src, dir, docs := benchSource(b)
	ctx := context.Background()
	file := filepath.Join(b.TempDir(), "backup.tar.gz")
	backup(b, src.db, file, archive.BackupOptions{DataDir: dir})
	dst := openTestDB(b, storagetest.URI(b), storagetest.NewName())
	b.Run("InsertMany", func(b *testing.B) {
		for b.Loop() {
			if err := dst.raw.Drop(ctx); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < len(docs); i += 1000 {
				if _, err := dst.raw.Collection("inspections").InsertMany(ctx, docs[i:min(i+1000, len(docs))]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Restore", func(b *testing.B) {
		dstDir := b.TempDir()
		for b.Loop() {
			if _, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir, Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// testDB is one database seen both through storage and through the driver.
type testDB struct {
	db  *storage.DB
	raw *mongo.Database
}

// sourceDB is a new database on the test server (embedded, or MONGODB_URI).
func sourceDB(t testing.TB) testDB {
	t.Helper()
	uri := storagetest.URI(t)
	return openTestDB(t, uri, storagetest.NewName())
}

// freshDB is an empty database on the test server, as a fresh
// installation has. The test
// server is the embedded one in a process of its own (storagetest), so
// restores go through FerretDB without running it under the race
// detector: a 600 KB photo restored in process took most of a minute.
func freshDB(t testing.TB) testDB {
	t.Helper()
	return openTestDB(t, storagetest.URI(t), storagetest.NewName())
}

func openTestDB(t testing.TB, uri, name string) testDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Connect(ctx, uri, name)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = db.Close(ctx)
		_ = client.Disconnect(ctx)
	})
	return testDB{db: db, raw: client.Database(name)}
}

func backup(t testing.TB, db *storage.DB, path string, opts archive.BackupOptions) *archive.Manifest {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := archive.Backup(context.Background(), db, f, opts)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return m
}

// populate fills raw with what a bureau's database holds: users,
// facilities, a checklist, inspections with answers and photos, an audit
// trail large enough to take several insert batches, a collection with a
// document of every BSON type the servers share, and an empty collection;
// and writes the photos and a signing key into dataDir.
func populate(t *testing.T, raw *mongo.Database, dataDir string) {
	t.Helper()
	ctx := context.Background()
	photo1 := writeBlob(t, dataDir, bytes.Repeat([]byte("JPEG\x00\xff"), 50000))
	photo2 := writeBlob(t, dataDir, []byte("\x89PNG small"))
	writeBlob(t, dataDir, []byte("an orphan photo"))
	writeFile(t, filepath.Join(dataDir, "keys", "jwt-2026.key"), []byte("secret key material"))

	tokyo := time.FixedZone("JST", 9*3600)
	at := func(s string) bson.DateTime {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return bson.NewDateTimeFromTime(tm)
	}
	insert := func(col string, docs ...any) {
		t.Helper()
		if _, err := raw.Collection(col).InsertMany(ctx, docs); err != nil {
			t.Fatalf("insert into %s: %v", col, err)
		}
	}
	insert("users",
		bson.D{{Key: "_id", Value: "u-admin"}, {Key: "username", Value: "admin"}, {Key: "displayName", Value: "管理者"}, {Key: "role", Value: "admin"},
			{Key: "passwordHash", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 254, 255}}}, {Key: "createdAt", Value: at("2026-04-01 09:00")}},
		bson.D{{Key: "_id", Value: "u-tanaka"}, {Key: "username", Value: "tanaka"}, {Key: "displayName", Value: "田中 太郎"}, {Key: "role", Value: "inspector"},
			{Key: "facilityIds", Value: bson.A{"f-chuo", "f-kita"}}, {Key: "createdAt", Value: at("2026-04-02 10:30")}, {Key: "disabled", Value: false}},
	)
	insert("facilities",
		bson.D{{Key: "_id", Value: "f-chuo"}, {Key: "name", Value: bson.D{{Key: "ja", Value: "中央職業訓練センター"}, {Key: "en", Value: "Central Vocational Training Centre"}}},
			{Key: "kind", Value: "training"}, {Key: "location", Value: bson.D{{Key: "lat", Value: 35.6812}, {Key: "lng", Value: 139.7671}}}},
		bson.D{{Key: "_id", Value: "f-kita"}, {Key: "name", Value: bson.D{{Key: "ja", Value: "北労働相談所"}, {Key: "en", Value: "North Labour Consultation Office"}}},
			{Key: "kind", Value: "consultation"}, {Key: "closedOn", Value: nil}},
	)
	checklistID := bson.NewObjectID()
	insert("checklists", bson.D{
		{Key: "_id", Value: checklistID}, {Key: "version", Value: int32(3)}, {Key: "publishedAt", Value: at("2026-03-20 17:00")},
		{Key: "sections", Value: bson.A{
			bson.D{{Key: "id", Value: "signage"}, {Key: "title", Value: bson.D{{Key: "ja", Value: "案内表示"}, {Key: "en", Value: "Signage and guidance"}}},
				{Key: "items", Value: bson.A{
					bson.D{{Key: "id", Value: "racks"}, {Key: "text", Value: bson.D{
						{Key: "ja", Value: "チラシ・ポスターは分野別・時期別に整理され、期限切れのものは撤去されている"},
						{Key: "en", Value: "Flyers and posters sorted by field and period; out-of-date ones removed"}}},
						{Key: "points", Value: int32(2)}},
				}}},
		}},
	})
	insert("inspections",
		bson.D{{Key: "_id", Value: "3f1c7c1e-9d0a-4b57-8a55-2d3c0b0e7a11"}, {Key: "facilityId", Value: "f-chuo"}, {Key: "checklistId", Value: checklistID},
			{Key: "fiscalYear", Value: int32(2026)}, {Key: "revision", Value: int64(7)}, {Key: "status", Value: "submitted"},
			{Key: "answers", Value: bson.A{
				bson.D{{Key: "itemId", Value: "racks"}, {Key: "failed", Value: int32(1)}, {Key: "na", Value: int32(0)}, {Key: "points", Value: int32(0)}, {Key: "maxPoints", Value: int32(2)},
					{Key: "comment", Value: "2025年度のチラシが残っている\n\"至急\" <撤去>"}, {Key: "photos", Value: bson.A{photo1, photo2}}},
			}},
			{Key: "score", Value: 87.5}, {Key: "submittedAt", Value: at("2026-06-15 16:45")}},
		bson.D{{Key: "_id", Value: "8a2b3c4d-0000-4000-8000-000000000002"}, {Key: "facilityId", Value: "f-kita"}, {Key: "fiscalYear", Value: int32(2026)},
			{Key: "revision", Value: int64(1)}, {Key: "status", Value: "draft"}, {Key: "answers", Value: bson.A{}}},
	)
	audit := make([]any, 1200)
	for i := range audit {
		audit[i] = bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "seq", Value: int64(i)}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Date(2026, 4, 1, 0, 0, i, 0, time.UTC))},
			{Key: "actor", Value: "u-tanaka"}, {Key: "action", Value: "inspection.answer"}, {Key: "detail", Value: fmt.Sprintf("設問 %d を更新", i)}}
	}
	insert("audit", audit...)
	insert("types", bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "double", Value: 3.14159}, {Key: "wholeDouble", Value: 2.0}, {Key: "int32", Value: int32(-42)}, {Key: "int64", Value: int64(1) << 53},
		{Key: "string", Value: "tab\tnewline\n quote\" backslash\\ emoji 🏢 </script>"}, {Key: "empty", Value: ""},
		{Key: "true", Value: true}, {Key: "false", Value: false}, {Key: "null", Value: nil},
		{Key: "date", Value: bson.NewDateTimeFromTime(time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC))},
		{Key: "binary", Value: bson.Binary{Subtype: 0, Data: bytes.Repeat([]byte{0, 0xff, 0x10}, 70000)}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: []byte("0123456789abcdef")}},
		{Key: "oid", Value: bson.NewObjectID()},
		{Key: "regex", Value: bson.Regex{Pattern: "^点検.*$", Options: "i"}},
		{Key: "timestamp", Value: bson.Timestamp{T: 1780000000, I: 3}},
		{Key: "nested", Value: bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: bson.D{{Key: "c", Value: bson.A{int32(1), "二", bson.D{}, bson.D{{Key: "d", Value: bson.A{}}}}}}}}}}},
		{Key: "日本語キー", Value: "値"},
	})
	if err := raw.CreateCollection(ctx, "outbox"); err != nil {
		t.Fatal(err)
	}
	indexes := map[string][]mongo.IndexModel{
		"users":       {{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true)}},
		"inspections": {{Keys: bson.D{{Key: "facilityId", Value: 1}, {Key: "fiscalYear", Value: -1}}, Options: options.Index().SetName("facility_year")}},
		"outbox":      {{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetUnique(true)}},
	}
	for col, models := range indexes {
		if _, err := raw.Collection(col).Indexes().CreateMany(ctx, models); err != nil {
			t.Fatalf("indexes on %s: %v", col, err)
		}
	}
}

// populateSmall writes one user and one blob.
func populateSmall(t *testing.T, raw *mongo.Database, dataDir string) {
	t.Helper()
	if _, err := raw.Collection("users").InsertOne(context.Background(), bson.M{"_id": "u1", "username": "sato"}); err != nil {
		t.Fatal(err)
	}
	writeBlob(t, dataDir, []byte("photo of a poster rack"))
}

func inspectionDoc(i int) bson.D {
	answers := bson.A{}
	for j := range 20 {
		answers = append(answers, bson.D{{Key: "itemId", Value: fmt.Sprintf("item-%02d", j)}, {Key: "failed", Value: int32(j % 2)},
			{Key: "na", Value: int32(0)}, {Key: "points", Value: int32(1)}, {Key: "maxPoints", Value: int32(2)}, {Key: "comment", Value: "掲示物を確認した"}})
	}
	return bson.D{{Key: "_id", Value: fmt.Sprintf("insp-%06d", i)}, {Key: "facilityId", Value: fmt.Sprintf("f-%02d", i%40)},
		{Key: "fiscalYear", Value: int32(2026)}, {Key: "revision", Value: int64(1)},
		{Key: "updatedAt", Value: bson.NewDateTimeFromTime(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))}, {Key: "answers", Value: answers}}
}

// writeBlob stores data content-addressed under dataDir, as the blob
// store does, and returns its path relative to dataDir.
func writeBlob(t testing.TB, dataDir string, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	rel := filepath.Join("blobs", "sha256", h[:2], h)
	writeFile(t, filepath.Join(dataDir, rel), data)
	return rel
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// assertSameDatabase compares two databases collection by collection:
// names, documents as canonical Extended JSON in _id order, and indexes.
func assertSameDatabase(t *testing.T, want, got *mongo.Database) {
	t.Helper()
	ctx := context.Background()
	wantNames, err := want.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	gotNames, err := got.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(wantNames)
	slices.Sort(gotNames)
	if !slices.Equal(wantNames, gotNames) {
		t.Fatalf("collections = %v, want %v", gotNames, wantNames)
	}
	for _, name := range wantNames {
		w, g := dumpCollection(t, want.Collection(name)), dumpCollection(t, got.Collection(name))
		if len(w) != len(g) {
			t.Errorf("%s: %d documents, want %d", name, len(g), len(w))
			continue
		}
		for i := range w {
			if w[i] != g[i] {
				t.Errorf("%s document %d:\n got %s\nwant %s", name, i, g[i], w[i])
				break
			}
		}
		if wi, gi := dumpIndexes(t, want.Collection(name)), dumpIndexes(t, got.Collection(name)); !slices.Equal(wi, gi) {
			t.Errorf("%s indexes:\n got %v\nwant %v", name, gi, wi)
		}
	}
}

func dumpCollection(t *testing.T, col *mongo.Collection) []string {
	t.Helper()
	ctx := context.Background()
	cur, err := col.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []string
	for cur.Next(ctx) {
		b, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpIndexes lists a collection's indexes by name, keys and uniqueness.
func dumpIndexes(t *testing.T, col *mongo.Collection) []string {
	t.Helper()
	specs, err := col.Indexes().ListSpecifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range specs {
		out = append(out, fmt.Sprintf("%s %s unique=%v", s.Name, s.KeysDocument, s.Unique != nil && *s.Unique))
	}
	slices.Sort(out)
	return out
}

// assertSameFiles compares two folder trees file by file.
func assertSameFiles(t *testing.T, want, got string) {
	t.Helper()
	w, g := readTree(t, want), readTree(t, got)
	if len(w) != len(g) {
		t.Errorf("%s has %d files, want %d", got, len(g), len(w))
	}
	for name, data := range w {
		if !bytes.Equal(g[name], data) {
			t.Errorf("%s differs or is missing in %s", name, got)
		}
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rewriteEntries returns a damage function that passes every entry of an
// archive through edit (which may change or drop it) and appends extra
// entries with the given names.
func rewriteEntries(edit func(name string, data []byte) ([]byte, bool), extra ...string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(gz)
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		tw := tar.NewWriter(zw)
		put := func(name string, data []byte) {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(data))}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(data); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range extra {
			put(name, []byte("x"))
		}
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if data, keep := edit(hdr.Name, data); keep {
				put(hdr.Name, data)
			}
		}
		f.Close()
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, out.Bytes())
	}
}

// Backup copies the GridFS bucket like any collection; restore brings the
// photos back, readable, and the unique chunk index with them.
func TestGridFSPhotosBackupRestore(t *testing.T) {
	ctx := context.Background()
	src := sourceDB(t)
	g, err := blobs.NewGridFS(ctx, src.db, "")
	if err != nil {
		t.Fatal(err)
	}
	imgs := [][]byte{bytes.Repeat([]byte{7}, 600_000), bytes.Repeat([]byte{8}, 1000)}
	for _, img := range imgs {
		if _, _, err := g.Put(ctx, bytes.NewReader(img), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	m := backup(t, src.db, file, archive.BackupOptions{DataDir: t.TempDir(), Source: "test"})
	counts, order := map[string]int64{}, map[string]int{}
	for i, c := range m.Collections {
		counts[c.Name], order[c.Name] = c.Documents, i
	}
	// Files before chunks, so that an upload running during the backup
	// cannot leave a files document without its chunks in the archive.
	if order["photos.files"] > order["photos.chunks"] {
		t.Errorf("photos.chunks archived before photos.files: %v", order)
	}
	if m.GridFSPhotos() != 2 {
		t.Errorf("manifest GridFSPhotos = %d, want 2", m.GridFSPhotos())
	}
	if counts["photos.files"] != 2 || counts["photos.chunks"] != 4 {
		t.Fatalf("archived collections: %v, want photos.files 2 and photos.chunks 4", counts)
	}

	dstDir := t.TempDir()
	dst := freshDB(t)
	if _, err := archive.Restore(ctx, dst.db, file, archive.RestoreOptions{DataDir: dstDir}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	assertSameDatabase(t, src.raw, dst.raw)
	restored, err := blobs.NewGridFS(ctx, dst.db, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		sum := sha256.Sum256(img)
		f, _, _, err := restored.Open(ctx, hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, img) {
			t.Fatalf("restored photo %x differs (%v)", sum, err)
		}
		if _, _, err := restored.Put(ctx, bytes.NewReader(img), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := dst.raw.Collection("photos.chunks").CountDocuments(ctx, bson.D{}); err != nil || n != 4 {
		t.Fatalf("%d chunks after re-uploading the restored photos (%v), want 4", n, err)
	}
}
