package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"tenken/auth"
	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/embedded"
	"tenken/storage/storagetest"
)

// The report benchmarks run on generated data of the default checklist:
// 60 facilities × 5 fiscal years × 2 inspections (600 inspections),
// multiplied by TENKEN_BENCH_SCALE (10 gives 6,000). Run them with
//
//	go test -run '^$' -bench Report -benchtime 20x ./handlers/
//
// TENKEN_BENCH_FACILITIES and TENKEN_BENCH_YEARS set the facilities and
// fiscal years directly: the bigger bureau of issue 13 is
//
//	TENKEN_BENCH_FACILITIES=1448 TENKEN_BENCH_YEARS=6 go test -run '^$' \
//	  -bench 'Report(Plan|Persistent).*Cold' -benchtime 3x -timeout 30m ./handlers/
//
// Cold means nothing cached in the handlers: the data version is read and
// the reports are computed from the report rows. Each cold benchmark runs
// twice: Owner is the server as `tenken serve` runs it on the embedded
// default (it owns the data and reads its copy of the report rows, loaded
// by the first report during set-up); Queried is a second instance on the
// same data, as on a shared MongoDB, which queries the rows. Warm is the cached path, measured against a
// bare Gin handler that returns the same bytes from memory, in the same
// run, both over loopback HTTP with the same concurrency.

type reportBench struct {
	srv    *handlers.Server
	http   *httptest.Server
	bare   *httptest.Server
	token  string
	client *http.Client
	ins    int
	// queried serves the same data from a second instance (not the
	// embedded server's owner), which queries the report rows.
	queried *reportBench
}

var (
	benchOnce sync.Once
	benchEnv  *reportBench
	benchErr  error
)

func setupReportBench(b *testing.B) *reportBench {
	b.Helper()
	benchOnce.Do(func() { benchEnv, benchErr = newReportBench(b) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchEnv
}

func newReportBench(b *testing.B) (*reportBench, error) {
	scale := 1
	if v := os.Getenv("TENKEN_BENCH_SCALE"); v != "" {
		scale, _ = strconv.Atoi(v)
	}
	facilities, years := 60*scale, 5
	if v := os.Getenv("TENKEN_BENCH_FACILITIES"); v != "" {
		facilities, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("TENKEN_BENCH_YEARS"); v != "" {
		years, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	// Not storagetest.Open: its database is dropped when the first
	// benchmark ends, and the data is shared by all of them.
	db, err := storagetest.OpenKept(b)
	if err != nil {
		return nil, err
	}
	content := checklistfile.Default()
	v, err := checklist.Publish(defaultChecklistID, content, 1, time.Now(), "admin")
	if err != nil {
		return nil, err
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		return nil, err
	}
	var ids []string
	for i := range facilities {
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: fmt.Sprintf("B-%04d", i+1), Kind: checklist.KindPublicHall,
			Active: true, Name: checklist.FacilityName{JA: fmt.Sprintf("施設 %d", i+1), EN: fmt.Sprintf("Facility %d", i+1)}}, checklist.SystemActor)
		if err != nil {
			return nil, err
		}
		ids = append(ids, f.ID)
	}
	g := demodata.New(demodata.Options{ChecklistID: defaultChecklistID, Version: 1, Content: &content,
		Facilities: ids, FirstYear: 2027 - years, Years: years, PerYear: 2, Seed: 1, Today: checklist.DateOf(time.Now())})
	ins, err := g.All()
	if err != nil {
		return nil, err
	}
	if err := db.InsertInspections(ctx, ins); err != nil {
		return nil, err
	}
	key, err := auth.GenerateSigningKey()
	if err != nil {
		return nil, err
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		return nil, err
	}
	cfg := handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: keys}
	srv, err := handlers.NewServer(cfg, db)
	if err != nil {
		return nil, err
	}
	// A second instance on the same data, as on a shared MongoDB: it
	// queries the report rows where the owner reads its copy.
	shared, err := storage.Open(ctx, storagetest.URI(b), db.Name(), embedded.Adapt())
	if err != nil {
		return nil, err
	}
	queried, err := handlers.NewServer(cfg, shared)
	if err != nil {
		return nil, err
	}
	rb := &reportBench{srv: srv, http: httptest.NewServer(srv.Handler()), ins: len(ins),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	rb.queried = &reportBench{srv: queried, http: httptest.NewServer(queried.Handler()), ins: len(ins), client: rb.client}
	u, err := auth.CreateUser(ctx, db, checklist.User{Username: "bench-reviewer", Role: checklist.RoleReviewer}, testPassword, checklist.SystemActor)
	if err != nil {
		return nil, err
	}
	res, err := rb.client.Post(rb.http.URL+"/v1/auth/login", "application/json",
		stringsReader(fmt.Sprintf(`{"username":%q,"password":%q}`, u.Username, testPassword)))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var tk tokens
	if err := json.NewDecoder(res.Body).Decode(&tk); err != nil {
		return nil, err
	}
	rb.token, rb.queried.token = tk.AccessToken, tk.AccessToken
	started := time.Now()
	if _, _, err := rb.get("/v1/reports/facilities?fiscal_year=2026"); err != nil {
		return nil, err
	}
	b.Logf("%d inspections; first report (the owner loads its copy of the report rows): %v", len(ins), time.Since(started))

	// The bare handler serves the facility report's bytes from memory.
	body, _, err := rb.get("/v1/reports/facilities?fiscal_year=2026")
	if err != nil {
		return nil, err
	}
	bare := gin.New()
	bare.GET("/bare", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", body) })
	rb.bare = httptest.NewServer(bare)
	return rb, nil
}

func (rb *reportBench) get(path string) ([]byte, int, error) {
	req, _ := http.NewRequest("GET", rb.http.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+rb.token)
	res, err := rb.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", path, res.StatusCode, data)
	}
	return data, res.StatusCode, err
}

// cold runs path with nothing cached.
func (rb *reportBench) cold(b *testing.B, path string) {
	prev := storage.ReportVersionTTL
	storage.ReportVersionTTL = 0
	defer func() { storage.ReportVersionTTL = prev }()
	var size int
	b.ResetTimer()
	for range b.N {
		rb.srv.DropReportCache()
		data, _, err := rb.get(path)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(rb.ins), "inspections")
}

// coldBoth runs path cold on the owner and on the querying instance.
func coldBoth(b *testing.B, path string) {
	rb := setupReportBench(b)
	b.Run("Owner", func(b *testing.B) { rb.cold(b, path) })
	b.Run("Queried", func(b *testing.B) { rb.queried.cold(b, path) })
}

func BenchmarkReportFacilitiesCold(b *testing.B) {
	coldBoth(b, "/v1/reports/facilities?fiscal_year=2026")
}

func BenchmarkReportItemsCold(b *testing.B) {
	coldBoth(b, "/v1/reports/items?fiscal_year=2026")
}

func BenchmarkReportPersistentCold(b *testing.B) {
	coldBoth(b, "/v1/reports/persistent-problems?fiscal_year=2026")
}

func BenchmarkReportPlanXLSXCold(b *testing.B) {
	coldBoth(b, "/v1/reports/plan?fiscal_year=2026&format=xlsx")
}

// parallel measures throughput of GET url with 8 concurrent clients.
func parallel(b *testing.B, rb *reportBench, url string, auth bool) {
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+rb.token)
		}
		for pb.Next() {
			res, err := rb.client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

func BenchmarkReportFacilitiesWarm(b *testing.B) {
	rb := setupReportBench(b)
	if _, _, err := rb.get("/v1/reports/facilities?fiscal_year=2026"); err != nil {
		b.Fatal(err)
	}
	parallel(b, rb, rb.http.URL+"/v1/reports/facilities?fiscal_year=2026", true)
}

func BenchmarkReportBareGinSameBytes(b *testing.B) {
	rb := setupReportBench(b)
	parallel(b, rb, rb.bare.URL+"/bare", false)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// throughput returns requests per second of GET url with 8 concurrent
// clients during d.
func throughput(rb *reportBench, url string, auth bool, d time.Duration) float64 {
	var n sync.WaitGroup
	var mu sync.Mutex
	total := 0
	deadline := time.Now().Add(d)
	for range 8 {
		n.Add(1)
		go func() {
			defer n.Done()
			req, _ := http.NewRequest("GET", url, nil)
			if auth {
				req.Header.Set("Authorization", "Bearer "+rb.token)
			}
			count := 0
			for time.Now().Before(deadline) {
				res, err := rb.client.Do(req)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					count++
				}
			}
			mu.Lock()
			total += count
			mu.Unlock()
		}()
	}
	n.Wait()
	return float64(total) / d.Seconds()
}

// BenchmarkReportWarmVsBare alternates the cached facility report (with
// authentication, middleware, the data-version check and the ETag) and
// the bare handler, 1 s each, five rounds, and reports both throughputs
// and their ratio: the machine's load shifts both alike.
func BenchmarkReportWarmVsBare(b *testing.B) {
	rb := setupReportBench(b)
	report := rb.http.URL + "/v1/reports/facilities?fiscal_year=2026"
	if _, _, err := rb.get("/v1/reports/facilities?fiscal_year=2026"); err != nil {
		b.Fatal(err)
	}
	var warm, bare float64
	for range b.N {
		for range 5 {
			warm += throughput(rb, report, true, time.Second)
			bare += throughput(rb, rb.bare.URL+"/bare", false, time.Second)
		}
	}
	b.ReportMetric(warm/float64(5*b.N), "warm-req/s")
	b.ReportMetric(bare/float64(5*b.N), "bare-req/s")
	b.ReportMetric(100*warm/bare, "warm/bare-%")
}
