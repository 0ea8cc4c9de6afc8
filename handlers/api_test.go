package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/storagetest"
)

// testAPI is the real router over a real database of the test's own.
type testAPI struct {
	t   *testing.T
	srv *httptest.Server
	db  *storage.DB
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	db := storagetest.Open(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := handlers.NewServer(handlers.Config{Logger: quiet}, db)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &testAPI{t: t, srv: srv, db: db}
}

// response is a read HTTP response.
type response struct {
	*http.Response
	Body []byte
}

// request sends method path with body (nil, a string sent as is with
// JSON content type, []byte, or any value encoded as JSON) and headers
// given as "Name: value" pairs.
func (a *testAPI) request(method, path string, body any, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("read body: %v", err)
	}
	return response{Response: res, Body: data}
}

// wantStatus fails the test unless r has status; it shows the body.
func (r response) wantStatus(t *testing.T, status int) response {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	return r
}

// decode decodes the JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem decodes a problem response and checks its media type and code.
func (r response) problem(t *testing.T, status int, code string) handlers.Problem {
	t.Helper()
	r.wantStatus(t, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p handlers.Problem
	r.decode(t, &p)
	if p.Code != code {
		t.Fatalf("problem code = %q, want %q; body: %s", p.Code, code, r.Body)
	}
	return p
}
