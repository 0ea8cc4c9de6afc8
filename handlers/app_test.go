package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"tenken/handlers"
	"tenken/web/app"
)

func init() {
	// The app's files are opaque text to the contract.
	for _, ct := range []string{"text/javascript", "text/css", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// The tablet app's files: types, revalidation, the service worker's scope,
// a CSP that allows only this origin and nothing inline.
func TestAppFiles(t *testing.T) {
	t.Parallel()
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	get := func(path string, header ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if err := checkContract(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("GET %s breaks the contract: %v", path, err)
		}
		return rec
	}
	for path, ct := range map[string]string{
		"/app/":                     "text/html; charset=utf-8",
		"/app/main.js":              "text/javascript; charset=utf-8",
		"/app/sw.js":                "text/javascript; charset=utf-8",
		"/app/app.css":              "text/css; charset=utf-8",
		"/app/manifest.webmanifest": "application/manifest+json",
		"/app/icon.svg":             "image/svg+xml",
		"/app/icon-192.png":         "image/png",
	} {
		rec := get(path)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != ct {
			t.Errorf("GET %s: %d %q, want 200 %q", path, rec.Code, rec.Header().Get("Content-Type"), ct)
			continue
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		etag := rec.Header().Get("ETag")
		if rec.Header().Get("Cache-Control") != "no-cache" || etag == "" {
			t.Errorf("GET %s: Cache-Control %q, ETag %q; the shell is revalidated", path, rec.Header().Get("Cache-Control"), etag)
		}
		if again := get(path, "If-None-Match", etag); again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("GET %s with its ETag: %d, %d bytes; want 304", path, again.Code, again.Body.Len())
		}
	}

	for _, path := range []string{"/app", "/console"} {
		if rec := get(path); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != path+"/" {
			t.Errorf("GET %s: %d to %q, want 301 to %s/", path, rec.Code, rec.Header().Get("Location"), path)
		}
	}

	sw := get("/app/sw.js")
	if sw.Header().Get("Service-Worker-Allowed") != "/app/" || strings.Contains(sw.Body.String(), "__BUILD__") {
		t.Errorf("sw.js: Service-Worker-Allowed %q; build marker replaced: %v", sw.Header().Get("Service-Worker-Allowed"), !strings.Contains(sw.Body.String(), "__BUILD__"))
	}
	var manifest struct {
		StartURL string `json:"start_url"`
		Scope    string `json:"scope"`
		Icons    []struct{ Src, Sizes string }
	}
	if err := json.Unmarshal(get("/app/manifest.webmanifest").Body.Bytes(), &manifest); err != nil || manifest.Scope != "/app/" || len(manifest.Icons) < 2 {
		t.Errorf("manifest: %+v, %v", manifest, err)
	}
	for _, ic := range manifest.Icons {
		if _, ok := app.Get(ic.Src); !ok {
			t.Errorf("manifest names icon %s, which is not served", ic.Src)
		}
	}
	if rec := get("/app/nope.js"); rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown file: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}
