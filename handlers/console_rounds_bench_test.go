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

	"tenken/auth"
	"tenken/checklist"
	"tenken/handlers"
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
	db := roundsBureau(b, facilities)
	fy := checklist.FiscalYear(time.Now())
	if _, err := auth.CreateUser(ctx, db, checklist.User{Username: "bench-admin", Role: checklist.RoleAdmin}, testPassword, checklist.SystemActor); err != nil {
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
