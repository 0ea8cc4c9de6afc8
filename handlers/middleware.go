package handlers

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/auth"
	"tenken/checklist"
)

// requestStateKey is the context key of a request's state when it has
// no stateWriter (a handler run without the middleware, in a test).
const requestStateKey = "tenken.request"

// requestState is what the middleware learns about a request: its id, its
// logger and who is calling. It travels with the response writer
// (stateWriter), so that a request costs one allocation for all of it
// and no map: four context keys boxed each of their values, and one key
// still made gin allocate its map of keys per request, a measurable
// share of serving a cached checklist version.
type requestState struct {
	id string
	// idHeader holds id as the X-Request-Id header's value: a full slice
	// of it (len == cap) costs no allocation of its own, and an Add on the
	// header copies instead of writing into it.
	idHeader [1]string
	base     *slog.Logger // the server's logger
	logger   *slog.Logger // base with the request id, made when first asked for

	userID    string         // who the access log names: set on sign-in, token check, session
	principal auth.Principal // the authenticated caller, when there is one
}

// stateWriter is gin's response writer with the request's state: the
// requestID middleware puts it in place for the rest of the chain (gin
// gives every request its own writer again).
type stateWriter struct {
	gin.ResponseWriter
	st requestState
}

// Unwrap lets http.ResponseController reach gin's writer, and through it
// the server's.
func (w *stateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// stateOf returns the request's state, making it when a handler runs
// without the requestID middleware (a test context).
func stateOf(c *gin.Context) *requestState {
	if w, ok := c.Writer.(*stateWriter); ok {
		return &w.st
	}
	if v, ok := c.Get(requestStateKey); ok {
		return v.(*requestState)
	}
	st := &requestState{}
	c.Set(requestStateKey, st)
	return st
}

// requestIDOf returns the request's id, or "" when it has none.
func requestIDOf(c *gin.Context) string { return stateOf(c).id }

// setUser records who the request acts for, for the access log.
func setUser(c *gin.Context, userID string) { stateOf(c).userID = userID }

// requestID takes a sane X-Request-ID from the client or makes one, echoes
// it, and gives the request a logger that carries it. The logger is made
// when first asked for (see logger): most requests log only their access
// line, which names the request id itself, and a derived logger per
// request is a noticeable share of serving a cached checklist.
func (s *Server) requestID(c *gin.Context) {
	// The map's canonical key: Header.Get would canonicalise
	// "X-Request-ID" into a new string on every request.
	var id string
	if v := c.Request.Header["X-Request-Id"]; len(v) > 0 {
		id = v[0]
	}
	if !saneRequestID(id) {
		id = newRequestID()
	}
	w := &stateWriter{ResponseWriter: c.Writer, st: requestState{id: id, base: s.log}}
	w.st.idHeader[0] = id
	c.Writer = w
	c.Writer.Header()["X-Request-Id"] = w.st.idHeader[:]
	c.Next()
}

// newRequestID returns 16 random hex digits. A request id names a request
// in the logs and is no secret (the client sees it, and may choose it), so
// the runtime's generator will do: it needs no system call and no lock.
func newRequestID() string {
	var n [8]byte
	var b [16]byte
	binary.BigEndian.PutUint64(n[:], rand.Uint64())
	hex.Encode(b[:], n[:])
	return string(b[:])
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// logger returns the request's logger, which carries its request id.
func logger(c *gin.Context) *slog.Logger {
	st := stateOf(c)
	if st.logger != nil {
		return st.logger
	}
	if st.base == nil {
		return slog.Default()
	}
	st.logger = st.base.With(slog.String("request_id", st.id))
	return st.logger
}

// accessLog logs one line per request after it is served.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	st := stateOf(c)
	if s.access != nil {
		if s.log.Enabled(c.Request.Context(), level) {
			s.access.write(accessEntry{at: time.Now(), level: level, id: st.id, method: c.Request.Method,
				route: route, status: status, bytes: c.Writer.Size(), ms: float64(time.Since(start).Microseconds()) / 1000,
				user: st.userID})
		}
		return
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("request_id", st.id),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("user", st.userID),
	)
}

// recoverPanic turns a panic into a logged 500 problem.
func recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			respondError(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// securityHeaders sets the headers every response should carry: no
// content sniffing, a CSP that allows nothing (and no framing), and no
// cross-origin reads. Headers that only govern a document a browser renders
// (X-Frame-Options, Referrer-Policy) are set by the one page that is such a
// document, /docs (see documentHeaders): on JSON they do nothing, and a
// ninth response header makes Go grow and copy a larger header map for
// every response, a third of what serving a cached checklist costs.
//
// The values are built once and assigned under their canonical names; each
// slice is full (len == cap), so an Add later copies instead of writing
// into the shared array.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for _, kv := range securityHeaderValues {
		h[kv.name] = kv.value
	}
	c.Next()
}

// documentHeaders adds the headers of an HTML page.
func documentHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for _, kv := range documentHeaderValues {
		h[kv.name] = kv.value
	}
}

type headerValue struct {
	name  string
	value []string
}

var (
	securityHeaderValues = []headerValue{
		{"X-Content-Type-Options", fullSlice("nosniff")},
		{"Content-Security-Policy", fullSlice("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")},
		{"Cross-Origin-Resource-Policy", fullSlice("same-origin")},
	}
	documentHeaderValues = []headerValue{
		{"X-Frame-Options", fullSlice("DENY")},
		{"Referrer-Policy", fullSlice("no-referrer")},
	}
)

// notFound and methodNotAllowed answer unknown routes with problems.
func notFound(c *gin.Context) {
	respondError(c, checklist.Errorf(checklist.ENotFound, "no such resource: %s", c.Request.URL.Path))
}

func methodNotAllowed(c *gin.Context) {
	writeProblem(c, Problem{
		Type: "about:blank", Title: "Method Not Allowed", Status: 405, Code: "method_not_allowed",
		Detail: fmt.Sprintf("%s is not allowed here", c.Request.Method), RequestID: requestIDOf(c),
	})
}
