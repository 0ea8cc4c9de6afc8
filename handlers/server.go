// Package handlers is tenken's HTTP API on Gin: routes, middleware,
// translation between HTTP and the domain, and the one place that maps
// domain errors to statuses.
package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/auth"
	"tenken/checklist"
)

// Store is everything the handlers need from the database, declared here
// as small interfaces by the features that use them.
type Store interface {
	Ping(ctx context.Context) error
	UserStore
	SessionStore
	FacilityStore
	ChecklistStore
	InspectionStore
	ReportStore
	ActionStore
	RoundStore
	ConsoleStore
}

// Config holds the HTTP layer's settings. Zero fields take the defaults
// documented on them.
type Config struct {
	// Logger receives access and error logs; nil means slog.Default().
	Logger *slog.Logger
	// AccessLog, when set, receives the access lines instead of Logger,
	// at Logger's level and as slog's JSON handler writes them: give it
	// the writer of a JSON Logger for a cheaper line per request.
	AccessLog io.Writer

	// Issuer and Audience are the iss and aud of access tokens, written
	// when issuing and required when verifying. Defaults "tenken" and
	// "tenken-api".
	Issuer   string
	Audience string
	// Keys sign (the newest) and verify (all) access tokens. nil means a
	// fresh key held in memory only: tokens then die with the process,
	// which suits tests but not a server; cmd always passes keys.
	Keys *auth.KeySet
	// AccessTTL is the life of an access token, 10 minutes by default.
	// A change of role, facilities or disabled state refuses the user's
	// tokens at once (see auth.Credentials).
	AccessTTL time.Duration
	// RefreshTTL is the life of a refresh token, 14 days by default; each
	// refresh issues a new one, so an active device stays signed in.
	RefreshTTL time.Duration
	// LoginThrottle limits failed logins; zero fields take defaults.
	LoginThrottle ThrottleConfig
	// TrustedProxies are the proxies (IPs or CIDRs) whose X-Forwarded-For
	// names the client, for the per-client login throttle. None by
	// default: the client is the TCP peer.
	TrustedProxies []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Photos keeps uploaded photo bytes; cmd wires the blob store in the
	// data folder, or GridFS (--photos gridfs). nil answers photo uploads
	// with 503.
	Photos PhotoStore
	// Metrics receive the request counts; nil means a set of the
	// server's own (Server.Metrics returns it either way).
	Metrics *Metrics

	// MaxPhotoBytes bounds one photo; DefaultMaxPhotoBytes when zero.
	MaxPhotoBytes int64

	// SecureCookies marks the console's cookies Secure even when the
	// request did not arrive over TLS (behind a TLS-terminating proxy).
	SecureCookies bool
}

// Server is tenken's HTTP API.
type Server struct {
	store       Store
	log         *slog.Logger
	cfg         Config
	tokens      *auth.Tokens
	credentials *auth.Credentials
	throttle    *loginThrottle
	versions    *versionCache // published versions, encoded, in memory
	reports     reportCache
	metrics     *Metrics
	facilities  facilityListCache // every facility, for rounds (rounds.go)
	manifests   manifestCache     // manifest_cache.go
	access      *accessWriter     // nil: access lines go through log
}

// NewServer wires the API around store and returns its http.Handler.
func NewServer(cfg Config, store Store) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = auth.DefaultRefreshTTL
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{
		Keys: cfg.Keys, Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTTL, Now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP nor a CIDR", p)
		}
	}
	s := &Server{
		store:       store,
		log:         cfg.Logger,
		cfg:         cfg,
		tokens:      tokens,
		credentials: auth.NewCredentials(store),
		throttle:    newLoginThrottle(cfg.LoginThrottle),
		metrics:     cfg.Metrics,
		reports:     newReportCache(),
	}
	if cfg.AccessLog != nil {
		s.access = &accessWriter{w: cfg.AccessLog}
	}
	s.versions = newVersionCache(func(ctx context.Context, id string, number int) (checklist.Version, error) {
		return s.store.ChecklistVersion(ctx, id, number)
	})
	return s, nil
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Handler returns the router with every route.
func (s *Server) Handler() http.Handler { return s.routes() }

func (s *Server) now() time.Time { return s.cfg.Now() }

func newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	return r
}

// trustProxies makes r believe X-Forwarded-For only from the configured
// proxies (Gin trusts every peer unless told otherwise). The list was
// checked by NewServer.
func (s *Server) trustProxies(r *gin.Engine) {
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		panic(fmt.Sprintf("trusted proxies %s: %v", strings.Join(s.cfg.TrustedProxies, ","), err))
	}
}

// Routes lists the registered routes, for the test that keeps the
// OpenAPI document and the router in sync.
func (s *Server) Routes() gin.RoutesInfo { return s.routes().Routes() }
