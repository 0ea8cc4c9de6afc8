package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tenken/auth"
	"tenken/checklist"
	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/blobs"
	"tenken/storage/storagetest"
)

// testAPI is the real router over a real database of the test's own.
type testAPI struct {
	t   *testing.T
	srv *httptest.Server
	db  *storage.DB
	cfg handlers.Config  // as given to NewServer
	key auth.SigningKey  // the key that signs access tokens
	clk *testClock       // the server's clock; advance it to expire tokens
	api *handlers.Server // the server behind srv
	seq atomic.Int64     // numbers the users and facilities helpers create
}

// testPassword is the password of every user the helpers create.
const testPassword = "correct horse battery staple"

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	return newTestAPIWith(t, nil)
}

// newTestAPIWith is newTestAPI with the Config changed by configure
// before the server is built.
func newTestAPIWith(t *testing.T, configure func(*handlers.Config)) *testAPI {
	t.Helper()
	return newTestAPIOn(t, "disk", configure)
}

// photoStoreKinds are the photo stores the photo tests run against: the
// disk store (the default) and GridFS (--photos gridfs).
var photoStoreKinds = []string{"disk", "gridfs"}

// newTestAPIOn is newTestAPIWith keeping photos in the store named by
// photos, one of photoStoreKinds.
func newTestAPIOn(t *testing.T, photos string, configure func(*handlers.Config)) *testAPI {
	t.Helper()
	db := storagetest.Open(t)
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{now: time.Now().UTC()}
	cfg := handlers.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Keys:   keys,
		Now:    clk.Now,
	}
	switch photos {
	case "disk":
		b, err := blobs.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Photos = b
	case "gridfs":
		g, err := blobs.NewGridFS(context.Background(), db, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Photos = g
	default:
		t.Fatalf("no photo store %q", photos)
	}
	if configure != nil {
		configure(&cfg)
	}
	s, err := handlers.NewServer(cfg, db)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	validateResponses(t, srv.Client())
	return &testAPI{t: t, srv: srv, db: db, cfg: cfg, key: key, clk: clk, api: s}
}

// testClock is a clock tests move by hand. It starts at the real time and
// only moves when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newUser creates a user with role directly through the store, with
// testPassword, and returns it. An inspector with no facilityIDs gets a
// new facility of their own.
func (a *testAPI) newUser(role checklist.Role, facilityIDs ...string) checklist.User {
	a.t.Helper()
	if role == checklist.RoleInspector && len(facilityIDs) == 0 {
		facilityIDs = []string{a.createFacility(fmt.Sprintf("AUTO-%d", a.seq.Add(1)))}
	}
	u, err := auth.CreateUser(context.Background(), a.db, checklist.User{
		Username: fmt.Sprintf("%s-%d", role, a.seq.Add(1)), Role: role, FacilityIDs: facilityIDs,
	}, testPassword, checklist.SystemActor)
	if err != nil {
		a.t.Fatalf("create %s user: %v", role, err)
	}
	return u
}

// tokenFor creates a user with role (bound to facilityIDs) through the
// store, logs in through the API and returns the access token. Send it
// with bearer(token).
func (a *testAPI) tokenFor(role checklist.Role, facilityIDs ...string) string {
	a.t.Helper()
	return a.login(a.newUser(role, facilityIDs...).Username, testPassword).AccessToken
}

// tokens is the body of a token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// login logs in through the API and fails the test unless it succeeds.
func (a *testAPI) login(username, password string) tokens {
	a.t.Helper()
	var tk tokens
	a.request("POST", "/v1/auth/login", map[string]string{"username": username, "password": password}).
		wantStatus(a.t, http.StatusOK).decode(a.t, &tk)
	return tk
}

// bearer is the Authorization header for token, for request's headers.
func bearer(token string) string { return "Authorization: Bearer " + token }

// createFacility creates an active facility with code directly through
// the store and returns its id.
func (a *testAPI) createFacility(code string) string {
	return a.createFacilityOfKind(code, checklist.KindPublicHall)
}

// createFacilityOfKind stores an active facility of kind and returns its id.
func (a *testAPI) createFacilityOfKind(code string, kind checklist.FacilityKind) string {
	a.t.Helper()
	f, err := a.db.CreateFacility(context.Background(), checklist.Facility{
		Code: code, Name: checklist.FacilityName{JA: "施設 " + code, EN: "Facility " + code},
		Kind: kind, Active: true,
	}, checklist.SystemActor)
	if err != nil {
		a.t.Fatalf("create facility %s: %v", code, err)
	}
	return f.ID
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
func (r response) wantStatus(t testing.TB, status int) response {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	return r
}

// decode decodes the JSON body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem decodes a problem response and checks its media type and code.
func (r response) problem(t *testing.T, status int, code checklist.Code) handlers.Problem {
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
