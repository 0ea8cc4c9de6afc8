package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"tenken/auth"
	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/handlers"
	"tenken/storage/storagetest"
)

// BenchmarkManifest is the CPU one manifest request costs the server, in
// process (no network): "cached" as tablets poll it, "rebuilt" as the
// first request after a write (what every request cost before the
// manifests were kept in memory).
//
//	go test -run '^$' -bench Manifest -benchtime 2s ./handlers/
func BenchmarkManifest(b *testing.B) {
	ctx := context.Background()
	db := storagetest.Open(b)
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, db)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.EnsureDefaultChecklist(ctx, checklistfile.Default()); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, code := range []string{"M-1", "M-2", "M-3"} {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: code, Kind: checklist.KindPublicHall, Active: true,
			Name: checklist.FacilityName{JA: "会館 " + code, EN: "Hall " + code}}, checklist.SystemActor)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	if _, err := auth.CreateUser(ctx, db, checklist.User{Username: "manifest-inspector", Role: checklist.RoleInspector,
		FacilityIDs: ids}, testPassword, checklist.SystemActor); err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	token := loginToken(b, h, "manifest-inspector")
	req := httptest.NewRequest("GET", "/v1/checklists/manifest", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for _, mode := range []string{"cached", "rebuilt"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				if mode == "rebuilt" {
					s.DropManifestCache()
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// loginToken logs username in through h and returns its access token.
func loginToken(b *testing.B, h http.Handler, username string) string {
	b.Helper()
	req := httptest.NewRequest("POST", "/v1/auth/login", stringsReader(`{"username":"`+username+`","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var tk tokens
	if err := json.Unmarshal(w.Body.Bytes(), &tk); err != nil || tk.AccessToken == "" {
		b.Fatalf("login: %d %s", w.Code, w.Body)
	}
	return tk.AccessToken
}
