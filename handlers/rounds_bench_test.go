package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"tenken/auth"
	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/storagetest"
)

// BenchmarkRounds opens rounds over 1,000 facilities and reads the
// coverage of one with 1,000 inspections, through the real router on the
// embedded default. The bar is 1 s for each.
//
// Setting up 1,000 facilities and their inspections takes most of the
// run (about two minutes here).
//
//	go test ./handlers -run '^$' -bench BenchmarkRounds -benchtime 5x
func BenchmarkRounds(b *testing.B) {
	const facilities = 1000
	ctx := context.Background()
	db := roundsBureau(b, facilities)
	fy := checklist.FiscalYear(time.Now())
	srv, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, db)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	if _, err := auth.CreateUser(ctx, db, checklist.User{Username: "bench-admin", Role: checklist.RoleAdmin}, testPassword, checklist.SystemActor); err != nil {
		b.Fatal(err)
	}
	res, err := ts.Client().Post(ts.URL+"/v1/auth/login", "application/json",
		stringsReader(fmt.Sprintf(`{"username":"bench-admin","password":%q}`, testPassword)))
	if err != nil {
		b.Fatal(err)
	}
	var tk tokens
	if err := json.NewDecoder(res.Body).Decode(&tk); err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	do := func(method, path, body string, want int) {
		req, _ := http.NewRequest(method, ts.URL+path, stringsReader(body))
		req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := ts.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
		}
	}
	do("POST", "/v1/rounds", fmt.Sprintf(`{"fiscal_year":%d}`, fy), http.StatusCreated)

	b.Run("Open1000", func(b *testing.B) {
		next := fy + 1
		for b.Loop() {
			do("POST", "/v1/rounds", fmt.Sprintf(`{"fiscal_year":%d}`, next), http.StatusCreated)
			next++
		}
	})
	b.Run("Coverage1000", func(b *testing.B) {
		for b.Loop() {
			do("GET", fmt.Sprintf("/v1/rounds/%d", fy), "", http.StatusOK)
		}
	})
	b.Run("Assignments1000", func(b *testing.B) {
		for b.Loop() {
			do("GET", fmt.Sprintf("/v1/rounds/%d/assignments", fy), "", http.StatusOK)
		}
	})
	b.Run("InterimReportXLSX1000", func(b *testing.B) {
		for b.Loop() {
			do("GET", fmt.Sprintf("/v1/rounds/%d/reports/interim?format=xlsx", fy), "", http.StatusOK)
		}
	})
}

// roundsBureau is a database with the default checklist published and n
// facilities in 8 departments, each with one inspection of this fiscal
// year: the bureau the round benchmarks open rounds over.
func roundsBureau(b *testing.B, n int) *storage.DB {
	b.Helper()
	ctx := context.Background()
	db := storagetest.Open(b)
	content := checklistfile.Default()
	v, err := checklist.Publish(defaultChecklistID, content, 1, time.Now(), "admin")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range n {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: fmt.Sprintf("R-%04d", i+1), Kind: checklist.KindPublicHall,
			Department: fmt.Sprintf("部 %d", i%8), Active: true,
			Name: checklist.FacilityName{JA: fmt.Sprintf("施設 %d", i+1), EN: fmt.Sprintf("Facility %d", i+1)}}, checklist.SystemActor)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &content,
		Facilities: ids, FirstYear: checklist.FiscalYear(time.Now()), Years: 1, PerYear: 1, Seed: 1, Today: checklist.DateOf(time.Now())})
	ins, err := g.All()
	if err != nil {
		b.Fatal(err)
	}
	if err := db.InsertInspections(ctx, ins); err != nil {
		b.Fatal(err)
	}
	return db
}
