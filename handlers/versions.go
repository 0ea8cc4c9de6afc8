package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"tenken/checklist"
)

// Published versions are served from memory. A version's content never
// changes once published (the store refuses every attempt and checks the
// content hash on every read), so an entry, once filled, is right forever
// and on every instance: there is nothing to invalidate. The only mutable
// fact about a version, whether it is retired, is deliberately not part of
// the download: a retired version stays readable for the inspections that
// pinned it, and the manifest (read from the database) is what tells
// tablets which version to use. The download path therefore reads the
// database once per version and process, and never again.

// versionKey names a published version.
type versionKey struct {
	checklistID string
	number      int
}

// cachedVersion is a version ready to serve: its JSON body, the same body
// gzip-compressed once, and its strong entity tag.
type cachedVersion struct {
	version checklist.Version
	etag    string
	json    []byte
	gzip    []byte

	// Header values, built once: setting a header then costs a map
	// assignment and no allocation.
	etagHdr, jsonLenHdr, gzipLenHdr []string
}

// versionBody is the download of a version. It holds only what never
// changes (not the retired flag), so that its bytes and ETag are fixed.
type versionBody struct {
	ChecklistID string            `json:"checklist_id"`
	Number      int               `json:"number"`
	ContentHash string            `json:"content_hash"`
	PublishedAt time.Time         `json:"published_at"`
	PublishedBy string            `json:"published_by"`
	Content     checklist.Content `json:"content"`
}

// maxCachedVersions bounds the cache. A deployment has a handful of
// checklists with a few versions a year each; the bound only stops a
// caller walking version numbers from filling memory (unknown versions are
// never cached anyway). The least recently served version goes first and
// is read again on its next request.
const maxCachedVersions = 512

// versionCache holds encoded versions. A miss loads the version once
// however many requests wait for it: the first caller's load, detached
// from its cancellation, serves them all.
type versionCache struct {
	load    func(ctx context.Context, id string, number int) (checklist.Version, error)
	entries *lru.Cache[versionKey, *cachedVersion]
	loads   singleflight.Group
}

func newVersionCache(load func(ctx context.Context, id string, number int) (checklist.Version, error)) *versionCache {
	entries, err := lru.New[versionKey, *cachedVersion](maxCachedVersions)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &versionCache{load: load, entries: entries}
}

// get returns version number of checklist id, from memory when it was read
// before. Errors are the store's (ENotFound for no such version) and are
// not cached: a version may be published a moment later.
func (vc *versionCache) get(ctx context.Context, id string, number int) (*cachedVersion, error) {
	k := versionKey{id, number}
	if e, ok := vc.entries.Get(k); ok {
		return e, nil
	}
	loaded := vc.loads.DoChan(id+"\x00"+strconv.Itoa(number), func() (any, error) {
		if e, ok := vc.entries.Get(k); ok {
			return e, nil // filled by the load just before this one
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		e, err := vc.fill(lctx, id, number)
		if err != nil {
			return nil, err
		}
		vc.entries.Add(k, e)
		return e, nil
	})
	select {
	case r := <-loaded:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*cachedVersion), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill reads a version from the store and encodes it.
func (vc *versionCache) fill(ctx context.Context, id string, number int) (*cachedVersion, error) {
	v, err := vc.load(ctx, id, number)
	if err != nil {
		return nil, err
	}
	return encodeVersion(v)
}

func encodeVersion(v checklist.Version) (*cachedVersion, error) {
	var body bytes.Buffer
	if err := jsonEncode(&body, versionBody{
		ChecklistID: v.ChecklistID, Number: v.Number, ContentHash: v.ContentHash,
		PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy, Content: v.Content,
	}); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	e := &cachedVersion{version: v, etag: v.ETag(), json: body.Bytes(), gzip: gz.Bytes()}
	e.etagHdr = fullSlice(e.etag)
	e.jsonLenHdr = fullSlice(strconv.Itoa(len(e.json)))
	e.gzipLenHdr = fullSlice(strconv.Itoa(len(e.gzip)))
	return e, nil
}

// Header values shared by every version download. Each slice is full
// (len == cap), so that a later Add on a response header copies it instead
// of writing into the shared array.
var (
	hdrImmutable = fullSlice("private, max-age=31536000, immutable")
	hdrVary      = fullSlice("Accept, Accept-Encoding")
	hdrJSON      = fullSlice("application/json; charset=utf-8")
	hdrGzip      = fullSlice("gzip")
)

func fullSlice(v string) []string { return []string{v}[:1:1] }

// getVersion: GET /v1/checklists/{id}/versions/{n}. Any signed-in user
// may read any published version (inspectors included: versions are what
// they inspect with). The response is immutable: a strong ETag (the
// content hash), If-None-Match → 304, cacheable for a year by the
// client's own cache (private: authorization applies, so no shared cache
// may answer for us), gzip when accepted. ?format=yaml or Accept:
// application/yaml gives the content as a checklist file.
func (s *Server) getVersion(c *gin.Context) {
	id := c.Param("id")
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		respondError(c, checklist.Errorf(checklist.ENotFound, "checklist %q has no version %q", id, c.Param("n")))
		return
	}
	e, err := s.versions.get(c.Request.Context(), id, n)
	if err != nil {
		respondError(c, err)
		return
	}
	if c.Request.URL.RawQuery != "" || strings.Contains(c.GetHeader("Accept"), "yaml") {
		yaml, err := wantsYAML(c)
		if err != nil {
			respondError(c, err)
			return
		}
		if yaml {
			s.getVersionYAML(c, e)
			return
		}
	}
	// Canonical header keys, set directly: the values are built once.
	h := c.Writer.Header()
	h["Etag"] = e.etagHdr
	h["Cache-Control"] = hdrImmutable
	h["Vary"] = hdrVary
	if notModified(c, e.etag) {
		return
	}
	body, length := e.json, e.jsonLenHdr
	if acceptsGzip(c.GetHeader("Accept-Encoding")) {
		body, length = e.gzip, e.gzipLenHdr
		h["Content-Encoding"] = hdrGzip
	}
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = length
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(body)
}

// getVersionYAML answers a version as a checklist file.
func (s *Server) getVersionYAML(c *gin.Context, e *cachedVersion) {
	etag := `"` + e.version.ContentHash + `.yaml"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", hdrImmutable[0])
	c.Header("Vary", hdrVary[0])
	if notModified(c, etag) {
		return
	}
	respondYAML(c, e.version.Content, e.version.ChecklistID+"-v"+strconv.Itoa(e.version.Number)+".yaml")
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip:
// named with a non-zero quality, or "*" without gzip refused.
func acceptsGzip(header string) bool {
	if header == "" {
		return false
	}
	if header == "gzip" || strings.HasPrefix(header, "gzip, ") {
		return true
	}
	star := false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		ok := !zeroQuality(params)
		switch {
		case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
			return ok
		case name == "*":
			star = ok
		}
	}
	return star
}

// zeroQuality reports whether media-range parameters say q=0.
func zeroQuality(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}
