package checklist

import (
	"bytes"
	"fmt"
	"time"
)

// Photo content types accepted for upload.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
)

// SniffImage returns the content type of an image by its first bytes
// (its magic number), whatever the client claimed: JPEG, PNG or WebP.
// ok is false for anything else. 12 bytes are enough.
func SniffImage(head []byte) (contentType string, ok bool) {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return TypeJPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG, true
	case len(head) >= 12 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return TypeWebP, true
	}
	return "", false
}

// IsSHA256 reports whether s is a lowercase hexadecimal SHA-256 digest.
func IsSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// PhotoRoom says whether the inspection can take one more photo: nil, or
// the error AddPhoto gives when it holds the most allowed. Uploads check
// it before storing any byte.
func (in *Inspection) PhotoRoom() error {
	if len(in.Photos) >= MaxInspectionPhotos {
		return &Error{Code: EInvalid, Message: "the inspection holds the most photos allowed",
			Fields: []FieldError{{Field: "photos", Code: CodeTooMany, Message: fmt.Sprintf("at most %d photos per inspection", MaxInspectionPhotos)}}}
	}
	return nil
}

// Photo dimensions accepted: a tablet camera takes 4000 × 3000; a photo
// beyond these limits is not one, and would cost memory to display.
const (
	MaxPhotoSide   = 16384
	MaxPhotoPixels = 64 << 20
)

// CheckPhotoSize refuses image dimensions no photo has.
func CheckPhotoSize(width, height int) error {
	if width < 1 || height < 1 || width > MaxPhotoSide || height > MaxPhotoSide || width*height > MaxPhotoPixels {
		return &Error{Code: EInvalid, Message: "the image's dimensions are not those of a photo",
			Fields: []FieldError{{Field: "file", Code: "dimensions",
				Message: fmt.Sprintf("%d × %d pixels; each side must be 1 to %d, and at most %d pixels in all", width, height, MaxPhotoSide, MaxPhotoPixels)}}}
	}
	return nil
}

// AddPhoto records photo p on the inspection, for item p.ItemKey or for
// the inspection as a whole when it is "". Recording the same bytes for
// the same item again changes nothing (added is false), so an upload can
// be retried. The item must be in the pinned version c.
func (in *Inspection) AddPhoto(c *Content, p Photo, by Actor, now time.Time) (ch InspectionChange, added bool, err error) {
	if err := in.CanEdit(by); err != nil {
		return InspectionChange{}, false, err
	}
	if _, ok := c.Item(p.ItemKey); p.ItemKey != "" && !ok {
		return InspectionChange{}, false, &Error{Code: EInvalid, Message: "the photo names an unknown item",
			Fields: []FieldError{{Field: "item", Code: CodeUnknownItem,
				Message: fmt.Sprintf("checklist %s version %d has no item %q", in.ChecklistID, in.Version, p.ItemKey)}}}
	}
	if !IsSHA256(p.SHA256) {
		return InspectionChange{}, false, Errorf(EInvalid, "the photo has no valid SHA-256 name")
	}
	for _, q := range in.Photos {
		if q.SHA256 == p.SHA256 && q.ItemKey == p.ItemKey {
			return InspectionChange{Action: ActionPhoto}, false, nil
		}
	}
	if err := in.PhotoRoom(); err != nil {
		return InspectionChange{}, false, err
	}
	stamp := in.touch(by, now)
	p.At, p.By = stamp.At, stamp.By
	in.Photos = append(in.Photos, p)
	var items []string
	if p.ItemKey != "" {
		items = []string{p.ItemKey}
	}
	return InspectionChange{Action: ActionPhoto, Items: items, Reason: p.SHA256}, true, nil
}

// HasPhoto reports whether the inspection holds a photo with digest sha.
func (in *Inspection) HasPhoto(sha string) bool {
	for _, p := range in.Photos {
		if p.SHA256 == sha {
			return true
		}
	}
	return false
}
