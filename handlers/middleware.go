package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

const (
	requestIDKey = "request_id"
	loggerKey    = "logger"
	userIDKey    = "user_id"
)

// requestID takes a sane X-Request-ID from the client or makes one, echoes
// it, and gives the request a logger that carries it.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !saneRequestID(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(requestIDKey, id)
	c.Set(loggerKey, s.log.With(slog.String("request_id", id)))
	c.Header("X-Request-ID", id)
	c.Next()
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

// logger returns the request's logger.
func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
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
	logger(c).LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("user", c.GetString(userIDKey)),
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

// securityHeaders sets the headers every response should carry.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Next()
}

// notFound and methodNotAllowed answer unknown routes with problems.
func notFound(c *gin.Context) {
	respondError(c, checklist.Errorf(checklist.ENotFound, "no such resource: %s", c.Request.URL.Path))
}

func methodNotAllowed(c *gin.Context) {
	writeProblem(c, Problem{
		Type: "about:blank", Title: "Method Not Allowed", Status: 405, Code: "method_not_allowed",
		Detail: fmt.Sprintf("%s is not allowed here", c.Request.Method), RequestID: c.GetString(requestIDKey),
	})
}
