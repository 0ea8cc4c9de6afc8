package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// Conditional requests (RFC 9110 §13.1), read here and nowhere else. Every
// ETag this API sends is strong: a quoted string naming exact bytes (a
// content hash) or a revision ("3"; a draft's YAML is "3.yaml").
//
//   - If-None-Match, on reads, compares weakly: W/"3" matches "3". A match
//     answers 304 with the resource's ETag and caching headers, no body.
//   - If-Match, on writes, compares strongly: a weak tag never matches.
//     No match refuses the write with 412 and nothing changes.
//   - "*" matches any current representation; since a write needs an
//     existing resource, If-Match: * makes it unconditional.
//   - Either header may list several tags (comma-separated, or repeated):
//     one match is enough.
//   - A header that is neither "*" nor a list of entity tags is malformed
//     and answered 400, and nothing changes; an empty one counts as not
//     sent.
//
// Photo downloads leave Range and If-Range to http.ServeContent, after
// If-None-Match was decided here.

// condition is a parsed If-Match or If-None-Match header.
type condition struct {
	sent bool // the header was sent and not empty
	any  bool // it is "*"
	tags []entityTag
}

// entityTag is one tag of a condition. tag keeps its quotes, as an ETag
// header carries it; weak says W/ came before it.
type entityTag struct {
	tag  string
	weak bool
}

// headerOf returns header name (in canonical form) of r, its lines joined
// as one list.
func headerOf(r *http.Request, name string) string {
	switch v := r.Header[name]; len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	default:
		return strings.Join(v, ",")
	}
}

// parseCondition parses the value h of header name.
func parseCondition(name, h string) (condition, error) {
	h = strings.Trim(h, " \t")
	switch h {
	case "":
		return condition{}, nil
	case "*":
		return condition{sent: true, any: true}, nil
	}
	cond := condition{sent: true}
	for rest := h; rest != ""; {
		if rest[0] == ',' || rest[0] == ' ' || rest[0] == '\t' {
			rest = rest[1:] // separators and empty list elements
			continue
		}
		var t entityTag
		if strings.HasPrefix(rest, "W/") {
			t.weak, rest = true, rest[2:]
		}
		n := quotedLen(rest)
		if n == 0 {
			return condition{}, malformedCondition(name)
		}
		t.tag, rest = rest[:n], strings.TrimLeft(rest[n:], " \t")
		if rest != "" && rest[0] != ',' {
			return condition{}, malformedCondition(name)
		}
		cond.tags = append(cond.tags, t)
	}
	if len(cond.tags) == 0 {
		return condition{}, malformedCondition(name)
	}
	return cond, nil
}

// quotedLen is the length of the opaque tag (quotes included) s starts
// with, or 0 when it starts with none: a double quote, then printable
// ASCII but '"' (or any byte from 0x80), then a double quote.
func quotedLen(s string) int {
	if s == "" || s[0] != '"' {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch b := s[i]; {
		case b == '"':
			return i + 1
		case b < 0x21 || b == 0x7f:
			return 0
		}
	}
	return 0
}

func malformedCondition(name string) error {
	msg := name + ` must be * or a list of entity tags such as "3" or W/"3", as an ETag header sent them`
	return &checklist.Error{Code: checklist.EBadRequest, Message: msg,
		Fields: []checklist.FieldError{{Field: name, Code: "format", Message: msg}}}
}

// matchesWeakly reports whether cond names etag, W/ ignored.
func (cond condition) matchesWeakly(etag string) bool {
	if cond.any {
		return true
	}
	for _, t := range cond.tags {
		if t.tag == etag {
			return true
		}
	}
	return false
}

// notModified answers a read whose If-None-Match matches etag (the
// resource's ETag, as sent) with 304, and one whose If-None-Match is
// malformed with 400; it reports whether it answered. The caller sets the
// headers a 304 repeats (ETag, Cache-Control, Vary) before.
func notModified(c *gin.Context, etag string) bool {
	h := headerOf(c.Request, "If-None-Match")
	if h == "" {
		return false
	}
	if h == etag { // what a client sends back most of the time, without parsing
		c.Status(http.StatusNotModified)
		return true
	}
	cond, err := parseCondition("If-None-Match", h)
	if err != nil { // the problem is no representation of the resource
		c.Writer.Header().Del("ETag")
		c.Writer.Header()["Cache-Control"] = hdrPrivateNoStore
		respondError(c, err)
		return true
	}
	if cond.matchesWeakly(etag) {
		c.Status(http.StatusNotModified)
		return true
	}
	return false
}

// revisionETag is the entity tag of a resource at revision rev (an
// inspection, an action, a round's assignment): it changes with every
// write.
func revisionETag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// ifMatchRevisions reads If-Match on a resource whose ETags are
// revisionETag, with suffix inside the quotes for another representation
// of the same revision (a draft's YAML: ".yaml"), as the domain's
// precondition: the revisions its strong tags name. "*" or no header is
// no precondition; sent tells them apart. A weak tag, or a strong one no
// revision has, names nothing, so a header of only those always fails.
func ifMatchRevisions(c *gin.Context, suffix string) (pre checklist.Precondition, sent bool, err error) {
	cond, err := parseCondition("If-Match", headerOf(c.Request, "If-Match"))
	if err != nil || !cond.sent || cond.any {
		return checklist.Precondition{}, cond.sent, err
	}
	pre.Revisions = []int64{}
	for _, t := range cond.tags {
		if t.weak {
			continue
		}
		opaque := strings.TrimSuffix(t.tag[1:len(t.tag)-1], suffix)
		if n, err := strconv.ParseInt(opaque, 10, 64); err == nil && n >= 1 && revisionETag(n) == `"`+opaque+`"` {
			pre.Revisions = append(pre.Revisions, n)
		}
	}
	return pre, true, nil
}
