package handlers_test

import (
	"io"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"tenken/handlers"
	"tenken/openapi"
)

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// TestSpecMatchesRoutes fails when a route is missing from openapi.yaml or
// the spec names a route the router does not have.
func TestSpecMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range s.Routes() {
		// The console's HTML pages are not part of the JSON API, nor are
		// the redirects of /app and /console to their homes (a redirect
		// has no 2xx answer to document).
		if r.Method == "HEAD" || r.Path == "/console" || r.Path == "/app" || strings.HasPrefix(r.Path, "/console/") {
			continue
		}
		routes = append(routes, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(routes)
	spec := doc.Routes()
	for _, r := range routes {
		if !slices.Contains(spec, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, r := range spec {
		if !slices.Contains(routes, r) {
			t.Errorf("openapi.yaml names %s, which has no route", r)
		}
	}
}
