package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/handlers"
	"tenken/storage/storagetest"
)

// BenchmarkConsoleRounds measures the round page of an admin (every form
// shown) over a round of 300 facilities in 8 departments, one inspection
// each, through the router on the embedded default: the whole page, a
// department filter, and the interim view. It reports the median as
// p50-ms and the page size, and fails when a page holds more assignment
// rows than one page of the table.
//
//	go test ./handlers -run '^$' -bench BenchmarkConsoleRounds -benchtime 20x
func BenchmarkConsoleRounds(b *testing.B) {
	const facilities = 300
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
	for i := range facilities {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: fmt.Sprintf("R-%04d", i+1), Kind: checklist.KindPublicHall,
			Department: fmt.Sprintf("部 %d", i%8), Active: true,
			Name: checklist.FacilityName{JA: fmt.Sprintf("施設 %d", i+1), EN: fmt.Sprintf("Facility %d", i+1)}}, checklist.SystemActor)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	fy := checklist.FiscalYear(time.Now())
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &content,
		Facilities: ids, FirstYear: fy, Years: 1, PerYear: 1, Seed: 1, Today: checklist.DateOf(time.Now())})
	ins, err := g.All()
	if err != nil {
		b.Fatal(err)
	}
	if err := db.InsertInspections(ctx, ins); err != nil {
		b.Fatal(err)
	}
	if _, err := handlers.CreateUser(ctx, db, checklist.User{Username: "bench-admin", Role: checklist.RoleAdmin}, testPassword, checklist.SystemActor); err != nil {
		b.Fatal(err)
	}
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, db)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	cookie := benchSignIn(b, h, "bench-admin")
	serve := func(method, path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	page := serve("GET", "/console/rounds", nil).Body.String()
	tok := csrfInput.FindStringSubmatch(page)[1]
	if rec := serve("POST", fmt.Sprintf("/console/rounds/%d/open", fy), url.Values{"_csrf": {tok}}); rec.Code != http.StatusSeeOther {
		b.Fatalf("open: %d %s", rec.Code, rec.Body)
	}

	for _, tc := range []struct{ name, path string }{
		{"Page300", "/console/rounds"},
		{"Department", "/console/rounds?department=" + url.QueryEscape("部 3")},
		{"Interim", "/console/rounds?view=interim"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			var size int
			for b.Loop() {
				start := time.Now()
				rec := serve("GET", tc.path, nil)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", tc.path, rec.Code)
				}
				if n := strings.Count(rec.Body.String(), "<tr data-facility="); n > 100 {
					b.Fatalf("%s: %d assignment rows on one page", tc.path, n)
				}
				size = rec.Body.Len()
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(size)/1024, "page-KB")
		})
	}
}
