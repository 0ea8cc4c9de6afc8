package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"tenken/openapi"
)

// The integration tests hold the server to its contract: every response
// any test receives through the test server's client is validated against
// openapi.yaml — the status is documented for the operation, the content
// type is one it lists, and the body matches its schema. A mismatch fails
// the test that made the request.

// contractRouter finds the operation of a request in openapi.yaml. It is
// built once per test binary.
var contractRouter = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	// The spec's only server is "/"; route on any host.
	doc.Servers = nil
	return gorillamux.NewRouter(doc)
})

func init() {
	// Bodies the spec describes as opaque text or bytes.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	for _, ct := range []string{"image/jpeg", "image/png", "image/webp"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// checkContract reports how the response to req (status, header, body)
// departs from openapi.yaml, or nil when it conforms. Requests to paths
// or methods the spec does not name are not checked here: the spec cannot
// describe their answers, and TestSpecMatchesRoutes keeps routes and spec
// in step.
func checkContract(req *http.Request, status int, header http.Header, body []byte) error {
	router, err := contractRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		var re *routers.RouteError
		if errors.As(err, &re) || errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			return nil
		}
		return fmt.Errorf("find route: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, // an undocumented status is a failure, not "default"
			MultiError:            true,
		},
	}
	if req.Method == http.MethodHead || status == http.StatusNotModified || status == http.StatusNoContent {
		in.Options.ExcludeResponseBody = true // no body by definition
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	return nil
}

// contractTransport validates every response it carries with
// checkContract and reports a mismatch as an error of t.
type contractTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (c *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	plain := body
	if res.Header.Get("Content-Encoding") == "gzip" {
		// The client asked for gzip itself, so the transport left it
		// compressed: the contract is about the JSON inside.
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			c.t.Errorf("contract: %s %s: gzip body: %v", req.Method, req.URL.RequestURI(), err)
			return res, nil
		}
		if plain, err = io.ReadAll(zr); err != nil {
			c.t.Errorf("contract: %s %s: gzip body: %v", req.Method, req.URL.RequestURI(), err)
			return res, nil
		}
	}
	if err := checkContract(req, res.StatusCode, res.Header, plain); err != nil {
		c.t.Errorf("contract: %s %s → %d: %s\nbody: %.300s", req.Method, req.URL.RequestURI(), res.StatusCode, oneLine(err), body)
	}
	return res, nil
}

// oneLine is err on one line, cut short: kin-openapi's messages quote
// whole schemas and values.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// validateResponses makes every request through client checked against
// the contract for the rest of t.
func validateResponses(t testing.TB, client *http.Client) {
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = &contractTransport{t: t, base: base}
}

// TestContractCheckCatches shows the response check can fail: it must
// reject answers that stray from openapi.yaml.
func TestContractCheckCatches(t *testing.T) {
	t.Parallel()
	get := func(path string) *http.Request {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:1"+path, nil)
		return req
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	problemHeader := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
		ok     bool
	}{
		{"OK", get("/healthz"), 200, jsonHeader, `{"status":"ok"}`, true},
		{"ErrUndocumentedStatus", get("/healthz"), 418, jsonHeader, `{"status":"ok"}`, false},
		{"ErrWrongContentType", get("/healthz"), 200, http.Header{"Content-Type": {"text/plain"}}, `ok`, false},
		{"ErrBodyShape", get("/healthz"), 200, jsonHeader, `{"status":42}`, false},
		{"ErrProblemShape", get("/v1/me"), 401, problemHeader, `{"title":7}`, false},
		{"OKUnknownPath", get("/nowhere"), 404, problemHeader, `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkContract(tt.req, tt.status, tt.header, []byte(tt.body))
			if tt.ok && err != nil {
				t.Errorf("checkContract: %v, want no error", err)
			}
			if !tt.ok && err == nil {
				t.Errorf("checkContract accepted a %d %s %s", tt.status, tt.header.Get("Content-Type"), tt.body)
			}
		})
	}
}
