package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// A request cut by the end of the run — before the answer or while its
// body is read — is not counted as a server error; a server that fails
// while the run goes on is.
func TestCallEndOfRunIsNotAnError(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow-body":
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"items":[`))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/slow-head":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			http.Error(w, "broken", 500)
		}
	}))
	defer srv.Close()
	defer close(release)
	base, _ := url.Parse(srv.URL)
	l := &loader{cfg: mixConfig{base: base, maxRequests: 100}, stats: map[string]*opStats{}, client: srv.Client()}

	for _, path := range []string{"/slow-body", "/slow-head"} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, _, err := l.call(ctx, "read", "", "GET", path, nil, nil, 200)
		cancel()
		if err == nil {
			t.Fatalf("%s: a request cut by the run's end returned no error", path)
		}
		if n := l.errors(); n != 0 {
			t.Fatalf("%s: a request cut by the run's end counted as %d server errors", path, n)
		}
	}
	if _, _, err := l.call(context.Background(), "read", "", "GET", "/broken", nil, nil, 200); err == nil {
		t.Fatal("a 500 was not an error")
	}
	if n := l.errors(); n != 1 {
		t.Fatalf("a 500 during the run counted as %d errors, want 1", n)
	}
}
