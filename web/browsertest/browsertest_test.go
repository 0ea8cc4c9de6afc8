package browsertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	goodPage = `<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>点検</title></head>
<body><main><h1>点検</h1><p>ようこそ</p></main></body></html>`
	badPage = `<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>bad</title></head>
<body><main><img src="/x.png"></main></body></html>`
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/good":
			_, _ = w.Write([]byte(goodPage))
		case "/bad":
			_, _ = w.Write([]byte(badPage))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The harness itself: a page loads, a screenshot is written, and axe-core
// runs under a strict CSP and tells an accessible page from a broken one.
func TestHarness(t *testing.T) {
	t.Setenv("TENKEN_SCREENSHOTS", t.TempDir())
	b := Start(t)
	srv := server(t)
	ctx := b.Context(t, 30*time.Second)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "点検" {
		t.Fatalf("title = %q, %v", title, err)
	}
	if fi, err := os.Stat(Screenshot(t, ctx, "harness")); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot: %v", err)
	}
	if _, err := os.Stat(axePath()); err != nil {
		t.Skipf("axe-core not installed (npm ci): %v", err)
	}
	if v := Violations(t, ctx); len(v) != 0 {
		t.Errorf("accessible page: %v", v)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range Violations(t, ctx) {
		found = found || v.ID == "image-alt"
	}
	if !found {
		t.Error("axe-core did not report the image without alt text")
	}
}
