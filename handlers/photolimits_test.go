package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
)

// fillPhotos records fake photos on inspection id until it holds the most
// allowed, straight through the store.
func fillPhotos(t *testing.T, e *inspectionEnv, id string) {
	t.Helper()
	_, err := e.db.UpdateInspection(context.Background(), id, checklist.Actor{UserID: e.inspectorID, Role: checklist.RoleInspector},
		checklist.Idempotency{}, func(in *checklist.Inspection, content *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			ch, _, err := in.AddPhoto(content, checklist.Photo{SHA256: sha256Hex([]byte("fill")), ContentType: checklist.TypePNG, Size: 1}, checklist.Actor{UserID: e.inspectorID, Role: checklist.RoleInspector}, now)
			for i := len(in.Photos); i < checklist.MaxInspectionPhotos; i++ {
				in.Photos = append(in.Photos, checklist.Photo{SHA256: sha256Hex(fmt.Appendf(nil, "fill-%d", i)), ContentType: checklist.TypePNG, Size: 1, At: now})
			}
			return ch, err
		})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPhotoCapStoresNothing: an upload to an inspection that holds the
// most photos allowed is refused without storing its bytes, while a retry
// of a photo it already holds is answered as before.
func TestPhotoCapStoresNothing(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	ctx := context.Background()
	id := e.create(t, e.inspector, e.own)
	held := pngBytes(t, 1)
	e.upload(e.inspector, id, "", held, "image/png").wantStatus(t, http.StatusCreated)
	fillPhotos(t, e, id)

	for i := range 5 {
		img := pngBytes(t, 100+i)
		e.upload(e.inspector, id, "", img, "image/png").problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		if ok, err := e.cfg.Photos.Has(ctx, sha256Hex(img)); err != nil || ok {
			t.Fatalf("refused upload %d: stored %v (%v), want nothing stored", i, ok, err)
		}
	}
	e.upload(e.inspector, id, "", held, "image/png").wantStatus(t, http.StatusOK)
}

// TestPhotoHeaderMustDecode: magic bytes alone are not a photo, nor is an
// image whose header claims dimensions no photo has.
func TestPhotoHeaderMustDecode(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	png := pngBytes(t, 2)
	e.upload(e.inspector, id, "", png[:16], "image/png").problem(t, http.StatusUnsupportedMediaType, checklist.EUnsupportedType)
	e.upload(e.inspector, id, "", []byte("\xff\xd8\xff\xe0 not a jpeg at all"), "image/jpeg").problem(t, http.StatusUnsupportedMediaType, checklist.EUnsupportedType)

	// The IHDR chunk (after the 8-byte signature and its length and type)
	// rewritten to 100000 × 100000, with a valid checksum.
	huge := bytes.Clone(png)
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	p := e.upload(e.inspector, id, "", huge, "image/png").problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	if !hasField(p.Errors, "file") {
		t.Fatalf("dimensions refused without naming the file: %+v", p.Errors)
	}
	if in := e.stored(t, id); len(in.Photos) != 0 {
		t.Fatalf("refused uploads recorded %d photos", len(in.Photos))
	}
}

// TestPhotoTooLargeDeclared: a Content-Length over the limit with
// "Expect: 100-continue" is answered 413 at once — no "100 Continue",
// and the body is never read.
func TestPhotoTooLargeDeclared(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/inspections/%s/photos HTTP/1.1\r\nHost: tenken\r\n%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		id, e.inspector, 31<<20)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413 before any body byte is sent", res.StatusCode)
	}
}
