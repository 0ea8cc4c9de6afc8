package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	t.Run("Healthz", func(t *testing.T) {
		api.request("GET", "/healthz", nil).wantStatus(t, http.StatusOK)
	})
	t.Run("Readyz", func(t *testing.T) {
		api.request("GET", "/readyz", nil).wantStatus(t, http.StatusOK)
	})
	t.Run("RequestIDEchoed", func(t *testing.T) {
		r := api.request("GET", "/healthz", nil, "X-Request-ID: abc-123")
		if got := r.Header.Get("X-Request-ID"); got != "abc-123" {
			t.Fatalf("X-Request-ID = %q", got)
		}
		r = api.request("GET", "/healthz", nil, "X-Request-ID: <script>")
		if got := r.Header.Get("X-Request-ID"); got == "<script>" || len(got) != 16 {
			t.Fatalf("unsafe X-Request-ID kept: %q", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		api.request("GET", "/v1/nothing-here", nil).problem(t, http.StatusNotFound, "not_found")
	})
	t.Run("ErrMethodNotAllowed", func(t *testing.T) {
		api.request("DELETE", "/healthz", nil).problem(t, http.StatusMethodNotAllowed, "method_not_allowed")
	})
	t.Run("SecurityHeaders", func(t *testing.T) {
		r := api.request("GET", "/healthz", nil)
		for _, h := range []string{"X-Content-Type-Options", "Content-Security-Policy", "Cross-Origin-Resource-Policy"} {
			if r.Header.Get(h) == "" {
				t.Errorf("missing %s", h)
			}
		}
		// The HTML page also gets the headers of a document.
		r = api.request("GET", "/docs", nil)
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
			if r.Header.Get(h) == "" {
				t.Errorf("/docs: missing %s", h)
			}
		}
	})
	t.Run("Docs", func(t *testing.T) {
		r := api.request("GET", "/docs", nil).wantStatus(t, http.StatusOK)
		if !strings.Contains(string(r.Body), "/readyz") || strings.Contains(string(r.Body), "<script") {
			t.Fatalf("docs page does not list the routes or loads scripts:\n%s", r.Body)
		}
		r = api.request("GET", "/openapi.yaml", nil).wantStatus(t, http.StatusOK)
		if !strings.HasPrefix(string(r.Body), "openapi: 3.1") {
			t.Fatalf("spec body starts %q", r.Body[:20])
		}
	})
}
