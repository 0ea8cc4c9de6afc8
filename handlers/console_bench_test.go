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
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/handlers"
	"tenken/storage/storagetest"
)

// BenchmarkConsole measures the server time of the dashboard and the
// inspection page through the router (no network) on data the size of
// `tenken serve --demo`: the default checklist, six facilities, two
// fiscal years. It reports the median as p50-ms; the goal is ≤ 30 ms.
//
//	go test ./handlers -run '^$' -bench BenchmarkConsole -benchtime 200x
func BenchmarkConsole(b *testing.B) {
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
	for i := range 6 {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: fmt.Sprintf("D-%02d", i+1), Kind: checklist.KindPublicHall, Active: true,
			Department: "産業労働局", Name: checklist.FacilityName{JA: fmt.Sprintf("施設 %d", i+1), EN: fmt.Sprintf("Facility %d", i+1)}}, checklist.SystemActor)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	fy := checklist.FiscalYear(time.Now())
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &content,
		Facilities: ids, FirstYear: fy - 1, Years: 2, PerYear: 1, Seed: 3, Today: checklist.DateOf(time.Now())})
	ins, err := g.All()
	if err != nil {
		b.Fatal(err)
	}
	extra, err := g.Inspection(ids[0], checklist.DateOf(time.Now()), checklist.StatusSubmitted)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.InsertInspections(ctx, append(ins, extra)); err != nil {
		b.Fatal(err)
	}
	if _, err := auth.CreateUser(ctx, db, checklist.User{Username: "bench-reviewer", Role: checklist.RoleReviewer}, testPassword, checklist.SystemActor); err != nil {
		b.Fatal(err)
	}
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, db)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	cookie := benchSignIn(b, h, "bench-reviewer")

	for _, tc := range []struct{ name, path string }{
		{"Dashboard", "/console/"},
		{"Inspection", "/console/inspections/" + extra.ID},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			var size int
			for b.Loop() {
				req := httptest.NewRequest("GET", tc.path, nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", tc.path, rec.Code)
				}
				size = rec.Body.Len()
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(size)/1024, "page-KB")
		})
	}
}

// benchSignIn signs in through the form and returns the Cookie header.
func benchSignIn(b *testing.B, h http.Handler, username string) string {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/console/login", nil))
	pre := rec.Result().Cookies()[0]
	tok := csrfInput.FindStringSubmatch(rec.Body.String())[1]
	form := url.Values{"_csrf": {tok}, "username": {username}, "password": {testPassword}}
	req := httptest.NewRequest("POST", "/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "tenken_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	b.Fatalf("sign-in: %d", rec.Code)
	return ""
}
