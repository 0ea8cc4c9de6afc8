package handlers

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a server's Prometheus collectors, in a registry of their own
// (tests run many servers in one process). Requests are counted from the
// route, status and headers in one middleware, so no handler carries
// metrics code; database commands come from storage's command observer.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	saves      *prometheus.CounterVec
	logins     *prometheus.CounterVec
	photoBytes prometheus.Counter
	database   *prometheus.HistogramVec

	// series remembers each route's request counter and duration
	// histogram: looking them up in the vectors hashes the label values
	// on every request (see requestSeries).
	seriesMu sync.RWMutex
	series   map[seriesKey]requestSeries
}

type seriesKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewMetrics returns a fresh set of collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		series: map[seriesKey]requestSeries{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenken_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenken_http_request_duration_seconds",
			Help:    "Time from request to response, by route template and method (sync and exports included).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tenken_http_requests_in_flight",
			Help: "Requests being answered now.",
		}),
		saves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenken_inspection_saves_total",
			Help: "Inspection saves by outcome: applied, replayed (an idempotent retry), conflicted (409), refused (other 4xx).",
		}, []string{"outcome"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenken_logins_total",
			Help: "Password logins by outcome: ok, failed, throttled.",
		}, []string{"outcome"}),
		photoBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenken_photo_bytes_received_total",
			Help: "Bytes of photos accepted (a re-upload of stored bytes counts again).",
		}),
		database: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenken_database_command_duration_seconds",
			Help:    "Database commands by name and outcome (ok, error), as the driver saw them.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"command", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.saves, m.logins, m.photoBytes, m.database,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus text format. cmd serves it on
// a listener of its own (serve --metrics-addr), never on the API's:
// metrics name routes and volumes no API client should read.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveDatabase records one database command (storage.WithCommandObserver).
func (m *Metrics) ObserveDatabase(command string, took time.Duration, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.database.WithLabelValues(command, outcome).Observe(took.Seconds())
}

// measure is the middleware that counts every request.
func (s *Server) measure(c *gin.Context) {
	m := s.metrics
	m.inFlight.Inc()
	start := time.Now()
	c.Next()
	m.inFlight.Dec()
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // a bounded label whatever paths clients send
	}
	method := c.Request.Method
	status := c.Writer.Status()
	rs := m.requestSeries(route, method, status)
	rs.requests.Inc()
	rs.duration.Observe(time.Since(start).Seconds())

	switch {
	case method == http.MethodPatch && route == "/v1/inspections/:id":
		switch {
		case status < 300 && c.Writer.Header().Get("Idempotent-Replayed") == "true":
			m.saves.WithLabelValues("replayed").Inc()
		case status < 300:
			m.saves.WithLabelValues("applied").Inc()
		case status == http.StatusConflict:
			m.saves.WithLabelValues("conflicted").Inc()
		case status < 500:
			m.saves.WithLabelValues("refused").Inc()
		}
	case method == http.MethodPost && route == "/v1/auth/login":
		switch {
		case status < 300:
			m.logins.WithLabelValues("ok").Inc()
		case status == http.StatusTooManyRequests:
			m.logins.WithLabelValues("throttled").Inc()
		case status == http.StatusUnauthorized:
			m.logins.WithLabelValues("failed").Inc()
		}
	case method == http.MethodPost && route == "/v1/inspections/:id/photos" && status < 300:
		if n := c.Request.ContentLength; n > 0 {
			m.photoBytes.Add(float64(n))
		}
	}
}

// requestSeries returns the request counter and duration histogram of
// route, method and status. Routes are the router's templates, so the
// remembered series are bounded; a method outside the standard ones (a
// client may send any token) is looked up each time, not remembered.
func (m *Metrics) requestSeries(route, method string, status int) requestSeries {
	k := seriesKey{route, method, status}
	m.seriesMu.RLock()
	rs, ok := m.series[k]
	m.seriesMu.RUnlock()
	if ok {
		return rs
	}
	rs = requestSeries{
		requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		duration: m.duration.WithLabelValues(route, method),
	}
	if standardMethod(method) {
		m.seriesMu.Lock()
		m.series[k] = rs
		m.seriesMu.Unlock()
	}
	return rs
}

func standardMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}
