package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
	"tenken/storage"
)

// PhotoBucket is the GridFS bucket that holds photos: collections
// photos.files and photos.chunks. Backup copies them like every other
// collection.
const PhotoBucket = "photos"

// gridfsChunkSize is the size of every chunk but a file's last. It must
// never change: an upload completes the chunks an interrupted or
// concurrent upload of the same bytes left (see GridFS.complete),
// which is only right when both cut the bytes alike.
const gridfsChunkSize = 255 * 1024 // the driver's default

// GridFS is a content-addressed store of photo bytes in the
// database's GridFS bucket "photos", for deployments of several instances
// on MongoDB. It has the disk store's (Disk) methods and answers: a
// file's _id and filename are the SHA-256 of its bytes, so the same bytes
// twice are stored once, and a file never changes once written.
//
// An upload is received whole (hashed while it streams into a temporary
// file, the size limit enforced) before anything is written to the
// database, so a client that stops half way leaves nothing there. Then
// GridFS writes the chunks and last the files document: a photo exists
// for Has and Open only once its files document does, and by then every
// chunk is stored. A process that dies between the two leaves chunks no
// one sees; the next upload of the same bytes completes them.
//
// The embedded server scans a whole collection on every query, chunks
// included, so it keeps photos on disk instead (cmd refuses gridfs
// without MONGODB_URI); this store runs there too, for tests.
type GridFS struct {
	db      *mongo.Database
	tempDir string
}

// NewGridFS opens the photo bucket of db, creating its indexes (the
// ones the driver would create on a first write, so that the unique
// (files_id, n) index exists before concurrent first uploads). Uploads
// are received in tempDir ("" is the system's temporary folder).
func NewGridFS(ctx context.Context, db *storage.DB, tempDir string) (*GridFS, error) {
	g := &GridFS{db: db.Database(), tempDir: tempDir}
	b := g.bucket()
	if _, err := b.GetFilesCollection().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "filename", Value: int32(1)}, {Key: "uploadDate", Value: int32(1)}},
	}); err != nil {
		return nil, fmt.Errorf("photo bucket: %w", storage.Translate(err))
	}
	if _, err := b.GetChunksCollection().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "files_id", Value: int32(1)}, {Key: "n", Value: int32(1)}},
		Options: options.Index().SetUnique(true),
	}); err != nil {
		return nil, fmt.Errorf("photo bucket: %w", storage.Translate(err))
	}
	return g, nil
}

// bucket returns a GridFS bucket handle. A handle is made per operation:
// the driver's handle remembers its first write in a field it does not
// guard, so one handle shared by concurrent uploads is a data race.
func (g *GridFS) bucket() *mongo.GridFSBucket {
	return g.db.GridFSBucket(options.GridFSBucket().SetName(PhotoBucket).SetChunkSizeBytes(int32(gridfsChunkSize)))
}

// Put stores the bytes of r, at most limit of them, and returns their
// SHA-256 and size. More than limit bytes is ETooLarge and stores
// nothing; a reader that fails is EBadRequest and stores nothing. Storing
// bytes already stored is a no-op, also when several uploads of them race:
// they all succeed and one file remains.
func (g *GridFS) Put(ctx context.Context, r io.Reader, limit int64) (sha string, size int64, err error) {
	tmp, sha, size, err := receive(r, limit, g.tempDir)
	if err != nil {
		return "", 0, err
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	if ok, err := g.Has(ctx, sha); err != nil {
		return "", 0, err
	} else if ok {
		return sha, size, nil // the same bytes are already stored
	}
	err = g.upload(ctx, tmp, sha)
	if isDuplicate(err) {
		// Another upload of these bytes is under way, or one died after
		// writing some chunks: the chunks there are these bytes, cut the
		// same way, so complete the file rather than fail.
		err = g.complete(ctx, tmp, sha, size)
	}
	if err != nil {
		return "", 0, fmt.Errorf("photo store: %w", storage.Translate(err))
	}
	return sha, size, nil
}

// upload writes tmp's bytes through the driver's GridFS upload stream as
// file sha. On failure it leaves what it wrote: the stream's Abort
// deletes the chunks by file id, which would also delete those of a
// concurrent upload of the same bytes. Chunks without a files document
// are invisible, and complete reuses them.
func (g *GridFS) upload(ctx context.Context, tmp *os.File, sha string) error {
	ctx, cancel := context.WithCancel(ctx) // ends the stream's context on every path
	defer cancel()
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	us, err := g.bucket().OpenUploadStreamWithID(ctx, sha, sha)
	if err != nil {
		return err
	}
	if _, err := io.Copy(us, tmp); err != nil {
		return err
	}
	return us.Close()
}

// complete makes file sha whole whatever other uploads of the same bytes
// did: it inserts each chunk that is missing (a duplicate key means
// another upload stored that chunk, with the same bytes), then the files
// document unless it exists. The files document still comes last, once
// every chunk is there.
func (g *GridFS) complete(ctx context.Context, tmp *os.File, sha string, size int64) error {
	b := g.bucket()
	chunks, files := b.GetChunksCollection(), b.GetFilesCollection()
	buf := make([]byte, gridfsChunkSize)
	for n := int64(0); n*gridfsChunkSize < size; n++ {
		k, err := tmp.ReadAt(buf, n*gridfsChunkSize)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		_, err = chunks.InsertOne(ctx, bson.D{
			{Key: "_id", Value: bson.NewObjectID()},
			{Key: "files_id", Value: sha},
			{Key: "n", Value: int32(n)},
			{Key: "data", Value: bson.Binary{Data: buf[:k]}},
		})
		if err != nil && !isDuplicate(err) {
			return err
		}
	}
	_, err := files.InsertOne(ctx, bson.D{
		{Key: "_id", Value: sha},
		{Key: "length", Value: size},
		{Key: "chunkSize", Value: int32(gridfsChunkSize)},
		{Key: "uploadDate", Value: bson.NewDateTimeFromTime(time.Now())},
		{Key: "filename", Value: sha},
	})
	if err != nil && !isDuplicate(err) {
		return err
	}
	return nil
}

// isDuplicate says whether err is a unique index refusing a write.
func isDuplicate(err error) bool {
	return err != nil && checklist.ErrorCode(storage.Translate(err)) == checklist.EConflict
}

// Has reports whether the photo with digest sha is stored whole.
func (g *GridFS) Has(ctx context.Context, sha string) (bool, error) {
	if !checklist.IsSHA256(sha) {
		return false, nil
	}
	err := g.bucket().GetFilesCollection().FindOne(ctx, bson.D{{Key: "_id", Value: sha}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("photo store: %w", storage.Translate(err))
	}
	return true, nil
}

// Open returns the photo with digest sha for reading, its size and when
// it was stored. A missing photo is ENotFound. The reader can seek (for
// range requests); it reads through ctx, which must outlive it.
func (g *GridFS) Open(ctx context.Context, sha string) (f io.ReadSeekCloser, size int64, stored time.Time, err error) {
	if !checklist.IsSHA256(sha) {
		return nil, 0, time.Time{}, checklist.Errorf(checklist.ENotFound, "no photo %s", sha)
	}
	b := g.bucket()
	ds, err := b.OpenDownloadStream(ctx, sha)
	if errors.Is(err, mongo.ErrFileNotFound) {
		return nil, 0, time.Time{}, checklist.Errorf(checklist.ENotFound, "no photo %s", sha)
	}
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("photo store: %w", storage.Translate(err))
	}
	file := ds.GetFile()
	return &gridfsReader{ctx: ctx, bucket: b, sha: sha, size: file.Length, stream: ds}, file.Length, file.UploadDate, nil
}

// gridfsReader reads a GridFS file as an io.ReadSeeker. The driver's
// stream only reads forward, so a seek elsewhere reopens it at the next
// read. The first bytes read are kept, so that reading the head (to
// decide the content type) and seeking back to the start costs nothing.
type gridfsReader struct {
	ctx    context.Context
	bucket *mongo.GridFSBucket
	sha    string
	size   int64

	pos    int64                       // where the next Read reads
	stream *mongo.GridFSDownloadStream // nil when closed
	at     int64                       // where stream is
	head   []byte                      // the file's first bytes, as read
}

// headKeep is how many of a file's first bytes a gridfsReader keeps.
const headKeep = 512

func (r *gridfsReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.pos < int64(len(r.head)) {
		n := copy(p, r.head[r.pos:])
		r.pos += int64(n)
		return n, nil
	}
	if r.stream != nil && r.at != r.pos {
		_ = r.stream.Close()
		r.stream = nil
	}
	if r.stream == nil {
		ds, err := r.bucket.OpenDownloadStream(r.ctx, r.sha)
		if err != nil {
			return 0, fmt.Errorf("photo store: %w", storage.Translate(err))
		}
		if r.pos > 0 {
			if _, err := ds.Skip(r.pos); err != nil {
				_ = ds.Close()
				return 0, fmt.Errorf("photo store: %w", storage.Translate(err))
			}
		}
		r.stream, r.at = ds, r.pos
	}
	n, err := r.stream.Read(p)
	if r.at < headKeep && r.at == int64(len(r.head)) {
		r.head = append(r.head, p[:min(int64(n), headKeep-r.at)]...)
	}
	r.at += int64(n)
	r.pos += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("photo store: %w", storage.Translate(err))
	}
	return n, err
}

func (r *gridfsReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("photo store: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("photo store: negative position")
	}
	r.pos = offset
	return offset, nil
}

func (r *gridfsReader) Close() error {
	if r.stream == nil {
		return nil
	}
	err := r.stream.Close()
	r.stream = nil
	return err
}
