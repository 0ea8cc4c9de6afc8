package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	_ "image/jpeg" // image.DecodeConfig of uploads
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	_ "golang.org/x/image/webp"

	"tenken/checklist"
)

// PhotoStore keeps photo bytes by their SHA-256: blobs.Disk on disk
// (the default), blobs.GridFS in MongoDB's GridFS for a
// deployment of several instances. Both answer alike.
type PhotoStore interface {
	// Put stores at most limit bytes of r and returns their SHA-256 and
	// size; more is ETooLarge and stores nothing, a failing reader stores
	// nothing. The same bytes twice, also concurrently, are stored once.
	Put(ctx context.Context, r io.Reader, limit int64) (sha string, size int64, err error)
	// Open returns the photo with digest sha, or ENotFound. The reader
	// reads through ctx.
	Open(ctx context.Context, sha string) (f io.ReadSeekCloser, size int64, stored time.Time, err error)
	// Has reports whether the photo with digest sha is stored whole.
	Has(ctx context.Context, sha string) (bool, error)
}

// DefaultMaxPhotoBytes is the largest photo accepted unless configured:
// a tablet camera's JPEG is 2–6 MB.
const DefaultMaxPhotoBytes = 10 << 20

// multipartOverhead is what a multipart envelope may add to a photo.
const multipartOverhead = 64 << 10

// sniffLen is how many bytes decide a photo's type.
const sniffLen = 16

func (s *Server) maxPhotoBytes() int64 {
	if s.cfg.MaxPhotoBytes > 0 {
		return s.cfg.MaxPhotoBytes
	}
	return DefaultMaxPhotoBytes
}

// photoUploadJSON answers an upload: the photo and the inspection's new
// revision.
type photoUploadJSON struct {
	photoJSON
	Revision int64 `json:"revision"`
}

// uploadPhoto stores a photo for an inspection (and optionally one of its
// items, ?item=KEY). The body is the image itself or a multipart form
// with a "file" part. Its type is decided by its first bytes — JPEG, PNG
// or WebP — whatever the client declared. The bytes are stored by their
// SHA-256, so uploading the same photo again, also after an interrupted
// attempt, is a no-op answered with 200 instead of 201.
func (s *Server) uploadPhoto(c *gin.Context) {
	ctx := c.Request.Context()
	id := strings.ToLower(c.Param("id"))
	item := c.Query("item")
	if s.cfg.Photos == nil {
		respondError(c, checklist.Errorf(checklist.EUnavailable, "photo storage is not configured"))
		return
	}
	limit := s.maxPhotoBytes()
	// A declared size over the limit is refused before the body is
	// touched: Go sends "100 Continue" only when a handler reads it, so a
	// client that asked gets the 413 instead, and one that writes its body
	// regardless sees the answer before its upload would break off.
	if c.Request.ContentLength > limit+multipartOverhead {
		respondError(c, checklist.Errorf(checklist.ETooLarge, "a photo may be at most %d bytes", limit))
		return
	}
	// Check before reading megabytes: the caller may see the inspection,
	// may change it, and it is not locked.
	in, err := s.store.FindInspection(ctx, id)
	if err != nil {
		s.failInspection(c, err)
		return
	}
	by := actorOf(c)
	if err := in.CheckAccess(by); err != nil {
		respondError(c, err)
		return
	}
	if err := in.CanEdit(by); err != nil {
		s.failInspection(c, withInspection(err, in))
		return
	}
	content, err := s.store.ChecklistContent(ctx, in.ChecklistID, in.Version)
	if err != nil {
		respondError(c, err)
		return
	}
	if _, ok := content.Item(item); item != "" && !ok {
		respondError(c, &checklist.Error{Code: checklist.EInvalid, Message: "the photo names an unknown item",
			Fields: []checklist.FieldError{{Field: "item", Code: checklist.CodeUnknownItem,
				Message: "checklist " + in.ChecklistID + " version " + strconv.Itoa(in.Version) + " has no item " + strconv.Quote(item)}}})
		return
	}

	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+multipartOverhead)
	body, err := photoPart(c)
	if err != nil {
		respondError(c, err)
		return
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		respondError(c, readError(err, limit))
		return
	}
	head = head[:n]
	if full := in.PhotoRoom(); full != nil {
		// Nothing more is stored; only a retry of a photo the
		// inspection holds is answered as before.
		s.replayPhoto(c, in, io.MultiReader(bytes.NewReader(head), body), item, limit, full)
		return
	}
	contentType, ok := checklist.SniffImage(head)
	if !ok {
		respondError(c, checklist.Errorf(checklist.EUnsupportedType, "a photo must be a JPEG, PNG or WebP image; the uploaded bytes are none of these"))
		return
	}
	// The image's header must decode, with a photo's dimensions: magic
	// bytes alone are not a photo. The bytes read to decide go to the
	// store with the rest.
	var header bytes.Buffer
	cfg, _, err := image.DecodeConfig(io.TeeReader(io.MultiReader(bytes.NewReader(head), io.LimitReader(body, maxPhotoHeader)), &header))
	if err != nil {
		if rerr := readError(err, limit); errors.Is(rerr, checklist.ETooLarge) {
			respondError(c, rerr)
			return
		}
		respondError(c, checklist.Errorf(checklist.EUnsupportedType, "the photo's image header cannot be read as %s", contentType))
		return
	}
	if err := checklist.CheckPhotoSize(cfg.Width, cfg.Height); err != nil {
		respondError(c, err)
		return
	}
	// Put tells a body that is too large or breaks off (413, 400) from
	// its store failing (503 when the database does not answer, else
	// 500): its error goes out as it is.
	sha, size, err := s.cfg.Photos.Put(ctx, io.MultiReader(&header, body), limit)
	if err != nil {
		respondError(c, err)
		return
	}

	photo := checklist.Photo{SHA256: sha, ItemKey: item, ContentType: contentType, Size: size}
	added := false
	w, err := s.store.UpdateInspection(ctx, id, by, checklist.Idempotency{}, checklist.Guard(by, checklist.Precondition{},
		func(in *checklist.Inspection, content *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			ch, ok, err := in.AddPhoto(content, photo, by, now)
			added = ok
			return ch, err
		}))
	if err != nil {
		s.failInspection(c, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	if !respondPhoto(c, status, w.Inspection, sha, item) {
		respondError(c, errors.New("uploaded photo not recorded"))
	}
}

// maxPhotoHeader bounds the bytes read to decode an image's header: a
// JPEG's metadata segments come first, at most 64 KiB each.
const maxPhotoHeader = 1 << 20

// respondPhoto answers with photo sha of item on in, if in holds it.
func respondPhoto(c *gin.Context, status int, in *checklist.Inspection, sha, item string) bool {
	for _, p := range in.Photos {
		if p.SHA256 == sha && p.ItemKey == item {
			c.Header("Location", photoURL(sha))
			respondJSON(c, status, photoUploadJSON{photoJSON: photoJSON{SHA256: p.SHA256, Item: p.ItemKey,
				ContentType: p.ContentType, Size: p.Size, URL: photoURL(p.SHA256), UploadedAt: p.At, UploadedBy: p.By},
				Revision: in.Revision})
			return true
		}
	}
	return false
}

// replayPhoto answers an upload to an inspection that takes no more
// photos: the bytes are hashed, not stored; a photo it already holds for
// item (a retry whose answer was lost) is answered as before, anything
// else with full, the cap's error.
func (s *Server) replayPhoto(c *gin.Context, in *checklist.Inspection, body io.Reader, item string, limit int64, full error) {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(body, limit+1))
	if err != nil {
		respondError(c, readError(err, limit))
		return
	}
	if n > limit {
		respondError(c, checklist.Errorf(checklist.ETooLarge, "a photo may be at most %d bytes", limit))
		return
	}
	if !respondPhoto(c, http.StatusOK, in, hex.EncodeToString(h.Sum(nil)), item) {
		s.failInspection(c, full)
	}
}

// withInspection attaches in as the current copy of a conflict.
func withInspection(err error, in *checklist.Inspection) error {
	var e *checklist.Error
	if errors.As(err, &e) && e.Current == nil && (e.Code == checklist.EConflict || e.Code == checklist.ERevision || e.Code == checklist.ENotEditable) {
		e.Current = in
	}
	return err
}

// photoPart returns the photo's bytes: the body itself, or the "file"
// part of a multipart form.
func photoPart(c *gin.Context) (io.Reader, error) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "multipart/form-data" {
		return c.Request.Body, nil
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, checklist.Errorf(checklist.EBadRequest, "the multipart form cannot be read")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, &checklist.Error{Code: checklist.EBadRequest, Message: "the form has no file part",
				Fields: []checklist.FieldError{{Field: "file", Code: checklist.CodeRequired, Message: "send the photo as the form's file part"}}}
		}
		if err != nil {
			return nil, readError(err, 0)
		}
		if part.FormName() == "file" {
			return part, nil
		}
	}
}

// readError turns a body read failure into a domain error.
func readError(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return checklist.Errorf(checklist.ETooLarge, "a photo may be at most %d bytes", limit)
	}
	if checklist.ErrorCode(err) != checklist.EInternal { // a domain error already
		return err
	}
	return checklist.Errorf(checklist.EBadRequest, "the upload could not be read")
}

// downloadPhoto serves a photo to whoever may see an inspection holding
// it. A photo's bytes never change, so it carries a strong ETag (its
// digest) and may be cached for good.
func (s *Server) downloadPhoto(c *gin.Context) {
	sha := strings.ToLower(c.Param("sha256"))
	if !checklist.IsSHA256(sha) || s.cfg.Photos == nil {
		respondError(c, checklist.Errorf(checklist.ENotFound, "no photo %s", c.Param("sha256")))
		return
	}
	facilities, err := s.store.PhotoFacilities(c.Request.Context(), sha)
	if err != nil {
		respondError(c, err)
		return
	}
	p := principalOf(c)
	allowed := false
	for _, f := range facilities {
		if p.CanAccessFacility(f) {
			allowed = true
			break
		}
	}
	if !allowed { // every signed-in user may see a good practice's photos
		if allowed, err = s.inGoodPractice(c.Request.Context(), sha, facilities); err != nil {
			respondError(c, err)
			return
		}
	}
	if !allowed {
		respondError(c, checklist.Errorf(checklist.ENotFound, "no photo %s", sha))
		return
	}
	f, _, stored, err := s.cfg.Photos.Open(c.Request.Context(), sha)
	if err != nil {
		respondError(c, err)
		return
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, _ := io.ReadFull(f, head)
	contentType, ok := checklist.SniffImage(head[:n])
	if !ok {
		contentType = "application/octet-stream"
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		respondError(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("ETag", `"`+sha+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	if notModified(c, `"`+sha+`"`) {
		return
	}
	h.Set("Content-Type", contentType)
	http.ServeContent(c.Writer, c.Request, "", stored, f)
}
