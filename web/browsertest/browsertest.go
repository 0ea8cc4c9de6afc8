// Package browsertest drives a real Chromium from Go tests, for the bureau
// console and the tablet app.
//
// A test calls Start to get the test binary's browser (one process,
// launched at first use; TestMain calls Stop), then Context for each
// independent visitor (a fresh browser context: its own cookies, storage
// and service workers). Without Chromium the tests skip with a message; with
// TENKEN_BROWSER=required (CI) a missing browser fails them instead.
//
// Helpers here take the actions of github.com/chromedp/chromedp v0.23
// (chromedp.Do, chromedp.Run); read that module's docs/API.md for the
// generic API, which differs from most examples on the web.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is the one headless Chromium that a test binary's tests share.
type Browser struct {
	ctx context.Context // the browser's first tab; children share its process
}

// shared is the test binary's browser, launched by the first Start and
// closed by Stop. One process for all the tests: a launch costs a second
// or two of CPU (browser, GPU and network processes), and the tests keep
// apart through their own browser contexts (see Context).
var shared struct {
	once  sync.Once
	b     *Browser
	err   error
	close func()
}

// Start returns the test binary's browser, launching headless Chromium on
// first use; Stop closes it (call it from TestMain, after the tests). It
// skips t when no browser is installed, unless TENKEN_BROWSER=required.
// Tests get their isolation from Context, not from the process.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := execPath()
	if path == "" {
		msg := "browser tests need Chromium: apt-get install chromium (or set TENKEN_CHROMIUM)"
		if os.Getenv("TENKEN_BROWSER") == "required" {
			t.Fatal(msg + "; TENKEN_BROWSER=required")
		}
		t.Skip(msg)
	}
	shared.once.Do(func() { shared.b, shared.close, shared.err = launch(path) })
	if shared.err != nil {
		t.Fatalf("start Chromium (%s): %v", path, shared.err)
	}
	return shared.b
}

// Stop closes the browser that Start launched, if any, and removes its
// folders. TestMain calls it once the tests have run.
func Stop() {
	if shared.close != nil {
		shared.close()
		shared.close = nil
	}
}

// launch starts headless Chromium at path and returns it and the func
// that closes it.
func launch(path string) (*Browser, func(), error) {
	// Chromium puts its singleton socket folder in TMPDIR, outside the
	// profile, and leaves it there when it is killed. A short name: a
	// socket's path must fit in 108 bytes.
	tmp, err := os.MkdirTemp("", "cr")
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "ja"),
		// No UserDataDir: the allocator makes a profile folder in
		// TMPDIR and removes it when it is cancelled.
		chromedp.Env("TMPDIR="+tmp),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	closeAll := func() { cancel(); cancelAlloc(); _ = os.RemoveAll(tmp) }
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		closeAll()
		return nil, nil, err
	}
	return &Browser{ctx: ctx}, closeAll, nil
}

// Context returns a new, isolated browser context (a visitor with its own
// cookies, storage and service workers) with one tab, closed when t ends.
// Every action run on it fails after timeout.
func (b *Browser) Context(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open browser context: %v", err)
	}
	return ctx
}

// Tab opens another tab in the same browser context as ctx (same cookies
// and storage), closed when t ends.
func Tab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tab
}

func execPath() string {
	if p := os.Getenv("TENKEN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Screenshot saves a full-page PNG of the current page as name.png in
// TENKEN_SCREENSHOTS when that is set (the docs' pictures are made this way)
// and returns the file's path. Without it, it takes none and returns "":
// a picture no one looks at checks nothing, and the full-page captures
// (resize, paint, PNG, a megabyte over DevTools) cost the console browser
// tests about 3 s of their 38 s of CPU.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("TENKEN_SCREENSHOTS")
	if dir == "" {
		return ""
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Violation is one accessibility rule that axe-core found broken.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var where []string
	for _, n := range v.Nodes {
		where = append(where, fmt.Sprint(n.Target))
	}
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(where, ", "))
}

// CheckAccessible runs axe-core on the current page and fails t on any
// critical or serious violation.
func CheckAccessible(t testing.TB, ctx context.Context) {
	t.Helper()
	for _, v := range Violations(t, ctx) {
		if v.Impact == "critical" || v.Impact == "serious" {
			t.Errorf("accessibility: %s", v)
		}
	}
}

// Violations runs axe-core (node_modules/axe-core, pinned in package.json
// and installed by `npm ci`) on the current page and returns what it found.
// Without axe-core it logs that nothing was checked and returns nil, or
// fails t under TENKEN_BROWSER=required.
func Violations(t testing.TB, ctx context.Context) []Violation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("TENKEN_BROWSER") == "required" {
			t.Fatalf("axe-core: %v (run npm ci at the repository root)", err)
		}
		t.Logf("accessibility not checked: %v (run npm ci at the repository root)", err)
		return nil
	}
	// Evaluated, not injected as a <script>: the pages' CSP forbids inline
	// and foreign scripts, and DevTools evaluation is not subject to it.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var all []Violation
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatalf("axe-core result: %v", err)
	}
	return all
}

// axeSource is axe-core's script, read once.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath())
	return string(b), err
})

// axePath finds node_modules/axe-core/axe.min.js from this source file's
// folder up to the repository root.
func axePath() string {
	if p := os.Getenv("TENKEN_AXE"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(root, "node_modules", "axe-core", "axe.min.js")
}
