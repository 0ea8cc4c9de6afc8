package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
)

// /metrics counts what the API answered: requests by route template and
// status (unknown paths under one label), logins and saves by outcome,
// database commands as reported, and the Go runtime.
func TestMetrics(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	u := a.newUser(checklist.RoleReviewer)
	inspector := a.tokenFor(checklist.RoleInspector, a.createFacility("M-1"))
	srv := httptest.NewServer(a.api.Metrics().Handler())
	defer srv.Close()
	before := scrape(t, srv.URL)

	a.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": "wrong password 123"}).
		wantStatus(t, http.StatusUnauthorized)
	a.login(u.Username, testPassword)
	a.request("GET", "/no/such/path", nil).wantStatus(t, http.StatusNotFound)
	a.request("GET", "/no/other/path", nil).wantStatus(t, http.StatusNotFound)
	a.request("PATCH", "/v1/inspections/2f1c1c57-58b8-4a55-9f43-8d4ee3c1b0a1",
		map[string]any{"base_revision": 1, "answers": map[string]any{}}, bearer(inspector)).wantStatus(t, http.StatusNotFound)
	a.api.Metrics().ObserveDatabase("find", 3*time.Millisecond, false)
	after := scrape(t, srv.URL)

	for series, want := range map[string]float64{
		`tenken_logins_total{outcome="failed"}`:                                               1,
		`tenken_logins_total{outcome="ok"}`:                                                   1,
		`tenken_http_requests_total{method="GET",route="unmatched",status="404"}`:             2,
		`tenken_http_requests_total{method="POST",route="/v1/auth/login",status="401"}`:       1,
		`tenken_http_request_duration_seconds_count{method="POST",route="/v1/auth/login"}`:    2,
		`tenken_inspection_saves_total{outcome="refused"}`:                                    1,
		`tenken_database_command_duration_seconds_count{command="find",outcome="ok"}`:         1,
		`tenken_http_requests_in_flight`:                                                      0,
		`tenken_http_requests_total{method="PATCH",route="/v1/inspections/:id",status="404"}`: 1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s went up by %v, want %v", series, got, want)
		}
	}
	if after["go_goroutines"] == 0 {
		t.Error("no Go runtime metrics")
	}
}

// scrape reads the Prometheus text at url into series → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	series := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64)
		if err == nil {
			series[line[:i]] = v
		}
	}
	return series
}
