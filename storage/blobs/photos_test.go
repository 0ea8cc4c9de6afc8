package blobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
	"tenken/storage/blobs"
	"tenken/storage/storagetest"
)

// photoStore is what both photo stores offer (handlers.PhotoStore).
type photoStore interface {
	Put(ctx context.Context, r io.Reader, limit int64) (string, int64, error)
	Open(ctx context.Context, sha string) (io.ReadSeekCloser, int64, time.Time, error)
	Has(ctx context.Context, sha string) (bool, error)
}

var (
	_ photoStore = (*blobs.Disk)(nil)
	_ photoStore = (*blobs.GridFS)(nil)
)

// photoStoreUnderTest is a store and a way to count what it holds: whole
// photos, and stored pieces (files on disk; chunks in GridFS).
type photoStoreUnderTest struct {
	store photoStore
	// photos counts the photos stored whole, pieces what holds bytes.
	photos, pieces func(t *testing.T) int
}

// photoStores runs test against the disk store and the GridFS store,
// each fresh.
func photoStores(t *testing.T, test func(t *testing.T, s photoStoreUnderTest)) {
	t.Run("disk", func(t *testing.T) {
		dir := t.TempDir()
		b, err := blobs.NewDisk(dir)
		if err != nil {
			t.Fatal(err)
		}
		count := func(t *testing.T) int {
			n := 0
			err := filepath.WalkDir(filepath.Join(dir, "sha256"), func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					n++
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		test(t, photoStoreUnderTest{store: b, photos: count, pieces: count})
	})
	t.Run("gridfs", func(t *testing.T) {
		g, raw := gridfsStore(t)
		test(t, photoStoreUnderTest{store: g,
			photos: func(t *testing.T) int { return countDocs(t, raw.Collection(blobs.PhotoBucket+".files")) },
			pieces: func(t *testing.T) int { return countDocs(t, raw.Collection(blobs.PhotoBucket+".chunks")) },
		})
	})
}

// gridfsStore returns a GridFS photo store on a fresh test database, and
// that database through a driver connection of the test's own.
func gridfsStore(t *testing.T) (*blobs.GridFS, *mongo.Database) {
	t.Helper()
	db := storagetest.Open(t)
	g, err := blobs.NewGridFS(context.Background(), db, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(storagetest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return g, client.Database(db.Name())
}

func countDocs(t *testing.T, c *mongo.Collection) int {
	t.Helper()
	n, err := c.CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// photoBytes returns n pseudo-random bytes, the same for the same seed.
func photoBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readPhoto(t *testing.T, s photoStore, sha string) ([]byte, int64, time.Time) {
	t.Helper()
	f, size, stored, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("Open(%s): %v", sha, err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", sha, err)
	}
	return got, size, stored
}

// failingReader gives n bytes of b, then fails, as a client whose
// connection drops does.
type failingReader struct {
	b []byte
	n int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("connection reset by peer")
	}
	k := copy(p, r.b[:min(r.n, len(p))])
	r.b, r.n = r.b[k:], r.n-k
	return k, nil
}

func TestPhotoStoreRoundTrip(t *testing.T) {
	t.Parallel()
	photoStores(t, func(t *testing.T, s photoStoreUnderTest) {
		ctx := context.Background()
		// Several chunks in GridFS (255 KiB each), the last one partial.
		img := photoBytes(1, 600_000)
		sha, size, err := s.store.Put(ctx, bytes.NewReader(img), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if sha != digest(img) || size != int64(len(img)) {
			t.Fatalf("Put = %s, %d; want %s, %d", sha, size, digest(img), len(img))
		}
		if ok, err := s.store.Has(ctx, sha); !ok || err != nil {
			t.Fatalf("Has = %v, %v", ok, err)
		}
		got, gotSize, stored := readPhoto(t, s.store, sha)
		if !bytes.Equal(got, img) || gotSize != size {
			t.Fatalf("read %d bytes (size %d), want the %d put", len(got), gotSize, len(img))
		}
		if time.Since(stored) > time.Minute || time.Until(stored) > time.Minute {
			t.Fatalf("stored at %v", stored)
		}

		// Seeking, as a range request and the handler's type sniffing do.
		f, _, _, err := s.store.Open(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		head := make([]byte, 16)
		if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, img[:16]) {
			t.Fatalf("head: %v", err)
		}
		for _, off := range []int64{0, 300_000, 16, 599_990, 261_120} {
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 10)
			if _, err := io.ReadFull(f, part); err != nil || !bytes.Equal(part, img[off:off+10]) {
				t.Fatalf("10 bytes at %d: %v", off, err)
			}
		}
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != size {
			t.Fatalf("seek to the end = %d, %v", end, err)
		}
		if n, err := f.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("read at the end = %d, %v", n, err)
		}

		// Unknown and malformed digests are not found.
		for _, unknown := range []string{digest([]byte("never stored")), "not-a-digest", strings.Repeat("0", 64)} {
			if _, _, _, err := s.store.Open(ctx, unknown); checklist.ErrorCode(err) != checklist.ENotFound {
				t.Fatalf("Open(%s) = %v, want not_found", unknown, err)
			}
			if ok, err := s.store.Has(ctx, unknown); ok || err != nil {
				t.Fatalf("Has(%s) = %v, %v", unknown, ok, err)
			}
		}
	})
}

func TestPhotoStoreSameBytesOnce(t *testing.T) {
	t.Parallel()
	photoStores(t, func(t *testing.T, s photoStoreUnderTest) {
		ctx := context.Background()
		img := photoBytes(2, 300_000)
		first, _, err := s.store.Put(ctx, bytes.NewReader(img), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		before := s.pieces(t)
		again, size, err := s.store.Put(ctx, bytes.NewReader(img), 1<<20)
		if err != nil || again != first || size != int64(len(img)) {
			t.Fatalf("second Put = %s, %d, %v", again, size, err)
		}
		if n := s.photos(t); n != 1 {
			t.Fatalf("%d photos stored, want 1", n)
		}
		if n := s.pieces(t); n != before {
			t.Fatalf("the second Put changed the pieces stored from %d to %d", before, n)
		}
	})
}

// Eight tablets upload the same photo at once: all succeed with the same
// digest, and one photo is stored, whole.
func TestPhotoStoreConcurrentSameBytes(t *testing.T) {
	t.Parallel()
	photoStores(t, func(t *testing.T, s photoStoreUnderTest) {
		ctx := context.Background()
		img := photoBytes(3, 700_000) // three chunks in GridFS
		const uploaders = 8
		shas := make([]string, uploaders)
		errs := make([]error, uploaders)
		var wg sync.WaitGroup
		for i := range uploaders {
			wg.Go(func() { shas[i], _, errs[i] = s.store.Put(ctx, bytes.NewReader(img), 1<<20) })
		}
		wg.Wait()
		for i := range uploaders {
			if errs[i] != nil || shas[i] != digest(img) {
				t.Errorf("upload %d: %s, %v", i, shas[i], errs[i])
			}
		}
		if n := s.photos(t); n != 1 {
			t.Fatalf("%d photos stored, want 1", n)
		}
		want := 1
		if _, ok := s.store.(*blobs.GridFS); ok {
			want = 3
		}
		if n := s.pieces(t); n != want {
			t.Fatalf("%d pieces stored, want %d", n, want)
		}
		if got, _, _ := readPhoto(t, s.store, digest(img)); !bytes.Equal(got, img) {
			t.Fatalf("the stored photo differs from the one uploaded")
		}
	})
}

func TestPhotoStoreTooLarge(t *testing.T) {
	t.Parallel()
	photoStores(t, func(t *testing.T, s photoStoreUnderTest) {
		ctx := context.Background()
		const limit = 100_000
		img := photoBytes(4, limit+1)
		if _, _, err := s.store.Put(ctx, bytes.NewReader(img), limit); checklist.ErrorCode(err) != checklist.ETooLarge {
			t.Fatalf("Put of limit+1 bytes = %v, want too_large", err)
		}
		if ok, _ := s.store.Has(ctx, digest(img)); ok || s.pieces(t) != 0 || s.photos(t) != 0 {
			t.Fatalf("an upload over the limit stored something")
		}
		// Exactly the limit is fine.
		if _, size, err := s.store.Put(ctx, bytes.NewReader(img[:limit]), limit); err != nil || size != limit {
			t.Fatalf("Put of limit bytes = %d, %v", size, err)
		}
	})
}

// A client whose connection drops half way leaves nothing a download
// could see, and its retry stores the photo.
func TestPhotoStoreInterruptedUpload(t *testing.T) {
	t.Parallel()
	photoStores(t, func(t *testing.T, s photoStoreUnderTest) {
		ctx := context.Background()
		img := photoBytes(5, 600_000)
		_, _, err := s.store.Put(ctx, &failingReader{b: img, n: 300_000}, 1<<20)
		if checklist.ErrorCode(err) != checklist.EBadRequest {
			t.Fatalf("Put of a failing reader = %v, want bad_request", err)
		}
		if ok, _ := s.store.Has(ctx, digest(img)); ok || s.pieces(t) != 0 || s.photos(t) != 0 {
			t.Fatalf("an interrupted upload stored something")
		}
		if _, _, _, err := s.store.Open(ctx, digest(img)); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("Open after an interrupted upload = %v", err)
		}
		sha, _, err := s.store.Put(ctx, bytes.NewReader(img), 1<<20)
		if err != nil || sha != digest(img) {
			t.Fatalf("retry = %s, %v", sha, err)
		}
		if got, _, _ := readPhoto(t, s.store, sha); !bytes.Equal(got, img) {
			t.Fatalf("the retried photo differs")
		}
	})
}

// A process that dies while GridFS writes the chunks leaves chunks
// without a files document: no one sees a photo, and the next upload of
// the same bytes completes it.
func TestGridFSPhotosCrashAfterSomeChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, raw := gridfsStore(t)
	img := photoBytes(6, 700_000)
	sha := digest(img)
	const chunk = 255 * 1024
	for n := range 2 { // of three
		_, err := raw.Collection(blobs.PhotoBucket+".chunks").InsertOne(ctx, bson.D{
			{Key: "_id", Value: bson.NewObjectID()}, {Key: "files_id", Value: sha}, {Key: "n", Value: int32(n)},
			{Key: "data", Value: bson.Binary{Data: img[n*chunk : (n+1)*chunk]}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := g.Has(ctx, sha); ok || err != nil {
		t.Fatalf("Has with only some chunks = %v, %v", ok, err)
	}
	if _, _, _, err := g.Open(ctx, sha); checklist.ErrorCode(err) != checklist.ENotFound {
		t.Fatalf("Open with only some chunks = %v", err)
	}
	if got, _, err := g.Put(ctx, bytes.NewReader(img), 1<<20); err != nil || got != sha {
		t.Fatalf("Put after a crash = %s, %v", got, err)
	}
	if got, _, _ := readPhoto(t, g, sha); !bytes.Equal(got, img) {
		t.Fatalf("the completed photo differs")
	}
	if n := countDocs(t, raw.Collection(blobs.PhotoBucket+".chunks")); n != 3 {
		t.Fatalf("%d chunks, want 3", n)
	}
}

// When the database does not answer, the store says unavailable (a 503),
// not that the upload was bad.
func TestGridFSPhotosDatabaseGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	other := storagetest.Reopen(t, db)
	g, err := blobs.NewGridFS(ctx, other, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Close(ctx); err != nil {
		t.Fatal(err)
	}
	img := photoBytes(10, 1000)
	if _, _, err := g.Put(ctx, bytes.NewReader(img), 1<<20); checklist.ErrorCode(err) != checklist.EUnavailable {
		t.Fatalf("Put = %v, want unavailable", err)
	}
	if _, err := g.Has(ctx, digest(img)); checklist.ErrorCode(err) != checklist.EUnavailable {
		t.Fatalf("Has = %v, want unavailable", err)
	}
	if _, _, _, err := g.Open(ctx, digest(img)); checklist.ErrorCode(err) != checklist.EUnavailable {
		t.Fatalf("Open = %v, want unavailable", err)
	}
}

// BenchmarkPhotoStore puts and reads 2 MB photos (a tablet camera's JPEG)
// in each store. Every Put is of new bytes. On the embedded server each
// query reads the whole chunks collection, so GridFS there slows as it
// fills: run with a fixed -benchtime (10x).
func BenchmarkPhotoStore(b *testing.B) {
	ctx := context.Background()
	stores := []struct {
		name string
		open func(b *testing.B) photoStore
	}{
		{"disk", func(b *testing.B) photoStore {
			s, err := blobs.NewDisk(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"gridfs", func(b *testing.B) photoStore {
			s, err := blobs.NewGridFS(ctx, storagetest.Open(b), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	img := photoBytes(9, 2<<20)
	for _, st := range stores {
		b.Run(st.name+"/Put", func(b *testing.B) {
			s := st.open(b)
			b.SetBytes(int64(len(img)))
			for i := 0; b.Loop(); i++ {
				img[0], img[1], img[2] = byte(i), byte(i>>8), byte(i>>16)
				if _, _, err := s.Put(ctx, bytes.NewReader(img), 10<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Open reads one photo of one stored; OpenOf20 one of 20 stored.
		for _, stored := range []int{1, 20} {
			b.Run(st.name+"/Open"+map[int]string{1: "", 20: "Of20"}[stored], func(b *testing.B) {
				s := st.open(b)
				var sha string
				for i := range stored {
					img[0], img[1], img[2] = 0xff, byte(i), byte(i>>8)
					var err error
					if sha, _, err = s.Put(ctx, bytes.NewReader(img), 10<<20); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(len(img)))
				for b.Loop() {
					f, _, _, err := s.Open(ctx, sha)
					if err != nil {
						b.Fatal(err)
					}
					if n, err := io.Copy(io.Discard, f); err != nil || n != int64(len(img)) {
						b.Fatalf("read %d bytes: %v", n, err)
					}
					f.Close()
				}
			})
		}
	}
}
