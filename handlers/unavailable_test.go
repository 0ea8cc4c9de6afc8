package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/blobs"
	"tenken/storage/embedded"
)

// TestDatabaseUnavailable stops the database under a running API: reads
// and writes answer 503 with Retry-After and change nothing, and the API
// recovers by itself when the database is back.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	emb, err := embedded.Start(dir, "127.0.0.1:0", quiet)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(emb.URI())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			emb.Stop()
		}
	})
	// A short server selection: each request made while the database is
	// down waits this long before its 503 (the default is 5 s).
	quick := *u
	quick.RawQuery = "serverSelectionTimeoutMS=500"
	db, err := storage.Open(ctx, quick.String(), "unavailable", embedded.Adapt())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	photos, err := blobs.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := handlers.NewServer(handlers.Config{Logger: quiet, Photos: photos}, db)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	api := &testAPI{t: t, srv: srv, db: db}

	cl := checklist.Checklist{ID: testChecklistID, Title: checklist.Text{Ja: "点検"}, Draft: testChecklistContent()}
	v, err := cl.Publish(time.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	fac := api.createFacility("UNAVAIL-1")
	auth := bearer(api.tokenFor(checklist.RoleInspector, fac))
	id := uuid.NewString()
	api.request("PUT", "/v1/inspections/"+id, map[string]any{"facility_id": fac, "checklist_id": testChecklistID,
		"version": 1, "inspection_date": "2026-05-12"}, auth).wantStatus(t, http.StatusCreated)

	emb.Stop()
	stopped = true
	for _, r := range []response{
		api.request("GET", "/v1/inspections/"+id, nil, auth),
		api.request("PATCH", "/v1/inspections/"+id, map[string]any{"base_revision": 1,
			"answers": map[string]any{"notes.n01": map[string]any{"value": "停止中"}}}, auth, "Idempotency-Key: k1"),
		api.request("GET", "/readyz", nil),
	} {
		r.problem(t, http.StatusServiceUnavailable, checklist.EUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s %s: 503 without Retry-After", r.Request.Method, r.Request.URL.Path)
		}
	}

	// The database comes back on the same address; the API follows by
	// itself, and the save refused during the outage can be retried.
	emb, err = embedded.Start(dir, u.Host, quiet)
	if err != nil {
		t.Fatal(err)
	}
	stopped = false
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := api.request("GET", "/v1/inspections/"+id, nil, auth)
		if r.StatusCode == http.StatusOK {
			var got inspectionView
			r.decode(t, &got)
			if got.Revision != 1 {
				t.Fatalf("revision %d after the outage, want 1: a refused save was applied", got.Revision)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API did not recover: %d %s", r.StatusCode, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	api.request("PATCH", "/v1/inspections/"+id, map[string]any{"base_revision": 1,
		"answers": map[string]any{"notes.n01": map[string]any{"value": "停止中"}}}, auth, "Idempotency-Key: k1").wantStatus(t, http.StatusOK)
}
