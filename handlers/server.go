// Package handlers is tenken's HTTP API on Gin: routes, middleware,
// translation between HTTP and the domain, and the one place that maps
// domain errors to statuses.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Store is everything the handlers need from the database, declared here
// as small interfaces by the features that use them.
type Store interface {
	Ping(ctx context.Context) error
	InspectionStore
}

// Config holds the HTTP layer's settings.
type Config struct {
	// Logger receives access and error logs; nil means slog.Default().
	Logger *slog.Logger

	// Photos keeps uploaded photo bytes; cmd wires a blob store in the
	// data folder. nil answers photo uploads with 503.
	Photos PhotoStore
	// MaxPhotoBytes bounds one photo; DefaultMaxPhotoBytes when zero.
	MaxPhotoBytes int64
}

// Server is tenken's HTTP API.
type Server struct {
	store Store
	log   *slog.Logger
	cfg   Config
}

// NewServer wires the API around store and returns its http.Handler.
func NewServer(cfg Config, store Store) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{store: store, log: cfg.Logger, cfg: cfg}
	return s, nil
}

// Handler returns the router with every route.
func (s *Server) Handler() http.Handler { return s.routes() }

func newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	return r
}

// Routes lists the registered routes, for the test that keeps the
// OpenAPI document and the router in sync.
func (s *Server) Routes() gin.RoutesInfo { return s.routes().Routes() }
