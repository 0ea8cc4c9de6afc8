package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"tenken/auth"
	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/handlers"
	"tenken/storage"
	"tenken/storage/blobs"
	"tenken/storage/storagetest"
)

const password = "correct horse battery staple"

// appEnv is tenken's real router over a real embedded database, served on
// a loopback address that can be stopped and started again (the server
// "really gone"), counting how every save was answered.
type appEnv struct {
	t        *testing.T
	db       *storage.DB
	handler  http.Handler
	addr     string
	srv      *http.Server
	facility string // the inspector's first facility
	second   string // and second

	dropSave   atomic.Bool // the next save is applied but its response lost
	refuseSave atomic.Bool // the next save is refused with a 422 and not applied

	mu        sync.Mutex
	refreshed int            // token refreshes answered 200
	applied   map[string]int // Idempotency-Key → saves applied under it
	replayed  int            // saves answered as replays
	refused   map[int]int    // other statuses of saves
	tokens    map[string]cachedToken
}

// accessTTL is short so that access tokens expire while a test is offline.
const accessTTL = 4 * time.Second

func newAppEnv(t *testing.T) *appEnv {
	t.Helper()
	db := storagetest.Open(t)
	ctx := context.Background()
	if _, err := db.EnsureDefaultChecklist(ctx, checklistfile.Default()); err != nil {
		t.Fatal(err)
	}
	f, err := db.CreateFacility(ctx, checklist.Facility{Code: "APP-1",
		Name: checklist.FacilityName{JA: "東京しごとセンター", EN: "Tokyo Shigoto Center"}, Kind: checklist.KindPublicHall, Active: true}, checklist.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := db.CreateFacility(ctx, checklist.Facility{Code: "APP-2",
		Name: checklist.FacilityName{JA: "多摩労働相談センター", EN: "Tama Labour Consultation Center"}, Kind: checklist.KindPublicHall, Active: true}, checklist.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []checklist.User{
		{Username: "inspector1", Role: checklist.RoleInspector, FacilityIDs: []string{f.ID, f2.ID}},
		{Username: "reviewer1", Role: checklist.RoleReviewer},
		{Username: "admin1", Role: checklist.RoleAdmin},
	} {
		if _, err := auth.CreateUser(ctx, db, u, password, checklist.SystemActor); err != nil {
			t.Fatal(err)
		}
	}
	photos, err := blobs.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := handlers.NewServer(handlers.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Photos: photos, AccessTTL: accessTTL,
	}, db)
	if err != nil {
		t.Fatal(err)
	}
	e := &appEnv{t: t, db: db, handler: s.Handler(), addr: "127.0.0.1:0", facility: f.ID, second: f2.ID,
		applied: map[string]int{}, refused: map[int]int{}, tokens: map[string]cachedToken{}}
	e.start()
	t.Cleanup(e.stop)
	return e
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (e *appEnv) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && e.refuseSave.CompareAndSwap(true, false) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Unprocessable Entity","status":422,"code":"invalid","detail":"refused by the test"}`)
			return
		}
		if r.Method == http.MethodPatch && e.dropSave.CompareAndSwap(true, false) {
			// The server applies the save; the answer never reaches the tablet.
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			e.mu.Lock()
			if rec.Code == 200 && rec.Header().Get("Idempotent-Replayed") != "true" {
				e.applied[r.Header.Get("Idempotency-Key")]++
			}
			e.mu.Unlock()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		if r.URL.Path == "/v1/auth/refresh" && sw.status == 200 {
			e.mu.Lock()
			e.refreshed++
			e.mu.Unlock()
		}
		if r.Method != http.MethodPatch || !strings.HasPrefix(r.URL.Path, "/v1/inspections/") {
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		switch {
		case sw.status == 200 && w.Header().Get("Idempotent-Replayed") == "true":
			e.replayed++
		case sw.status == 200:
			e.applied[r.Header.Get("Idempotency-Key")]++
		default:
			e.refused[sw.status]++
		}
	})
}

// start serves on e.addr: a new port the first time, the same one after.
func (e *appEnv) start() {
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		e.t.Fatalf("listen %s: %v", e.addr, err)
	}
	e.addr = ln.Addr().String()
	e.srv = &http.Server{Handler: e.count(e.handler)}
	go func() { _ = e.srv.Serve(ln) }()
}

// stop closes the listener and every connection: the server is gone.
func (e *appEnv) stop() {
	if e.srv != nil {
		_ = e.srv.Close()
		e.srv = nil
	}
}

func (e *appEnv) url(p string) string { return "http://" + e.addr + p }

// call sends a JSON request as the user with token and decodes the answer.
func (e *appEnv) call(method, path, token string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url(path), rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

// token returns a fresh access token of username (they live accessTTL).
func (e *appEnv) token(username string) string {
	e.t.Helper()
	e.mu.Lock()
	c, ok := e.tokens[username]
	e.mu.Unlock()
	if ok && time.Since(c.at) < accessTTL/2 {
		return c.token
	}
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	if st := e.call("POST", "/v1/auth/login", "", map[string]string{"username": username, "password": password}, &tk); st != 200 {
		e.t.Fatalf("login %s: %d", username, st)
	}
	e.mu.Lock()
	e.tokens[username] = cachedToken{tk.AccessToken, time.Now()}
	e.mu.Unlock()
	return tk.AccessToken
}

// openRound opens the round of the current fiscal year with a due date
// per facility (the others due on its last day) and returns the year.
func (e *appEnv) openRound(due map[string]checklist.Date) int {
	e.t.Helper()
	fy := checklist.FiscalYear(time.Now())
	var as []map[string]any
	for id, d := range due {
		as = append(as, map[string]any{"facility_id": id, "due_date": d.String()})
	}
	if st := e.call("POST", "/v1/rounds", e.token("admin1"), map[string]any{"fiscal_year": fy,
		"interim_date": checklist.DefaultInterim(fy).String(), "final_date": checklist.DefaultFinal(fy).String(),
		"default_due_date": fmt.Sprintf("%d-03-31", fy+1), "assignments": as}, nil); st != http.StatusCreated {
		e.t.Fatalf("open round %d: %d", fy, st)
	}
	return fy
}

type cachedToken struct {
	token string
	at    time.Time
}

type serverInspection struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Revision int    `json:"revision"`
	Answers  map[string]struct {
		Value   any      `json:"value"`
		Comment string   `json:"comment"`
		Photos  []string `json:"photos"`
	} `json:"answers"`
	Photos []struct {
		SHA256 string `json:"sha256"`
		Item   string `json:"item"`
		Size   int    `json:"size"`
	} `json:"photos"`
}

func (e *appEnv) inspection(user, id string) serverInspection {
	e.t.Helper()
	var in serverInspection
	if st := e.call("GET", "/v1/inspections/"+id, e.token(user), nil, &in); st != 200 {
		e.t.Fatalf("GET inspection %s: %d", id, st)
	}
	return in
}

// ---- browser helpers

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls js until it is truthy.
func waitFor(t *testing.T, ctx context.Context, what, js string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		  const db = await new Promise((r) => { const q = indexedDB.open('tenken'); q.onsuccess = () => r(q.result); });
		  const all = (s) => new Promise((r) => { const q = db.transaction(s).objectStore(s).getAll(); q.onsuccess = () => r(q.result); });
		  const recs = (await all('inspections')).map((r) => ({id: r.id, status: r.status, revision: r.revision, review: r.review, conflicts: r.conflicts}));
		  return JSON.stringify({hash: location.hash, queue: document.getElementById('queue')?.textContent, recs, outbox: await all('outbox')});
		})()`, chromedp.EvalAwaitPromise))
		t.Fatalf("waiting for %s: %v\napp state: %s", what, err, state)
	}
}

// setOffline cuts (or restores) the tab's network, service worker
// included, and what navigator.onLine says.
func setOffline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	tput := float64(-1)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &off,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: tput, UploadThroughput: tput}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: off, DownloadThroughput: tput, UploadThroughput: tput,
	}); err != nil {
		t.Fatal(err)
	}
}

func signIn(t *testing.T, ctx context.Context, e *appEnv, user string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(e.url("/app/")), chromedp.WaitVisible(chromedp.ID("username")))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	waitFor(t, ctx, "the home screen", `document.querySelector('[data-facility]')`, 20*time.Second)
	// The service worker controls the page before the test relies on it.
	waitFor(t, ctx, "the service worker", `navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)`, 20*time.Second)
}

// waiting is the number of changes the app says are waiting.
func waiting(t *testing.T, ctx context.Context) int {
	return eval[int](t, ctx, `Number(document.getElementById('queue').dataset.n || 0)`)
}

// testJPEG writes a camera-sized photo (larger than the app keeps).
func testJPEG(t *testing.T, seed int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	for y := 0; y < 2000; y += 4 {
		for x := 0; x < 3000; x += 4 {
			c := color.RGBA{uint8(x/12 + seed*40), uint8(y / 8), 120, 255}
			for dy := 0; dy < 4; dy++ {
				for dx := 0; dx < 4; dx++ {
					img.Set(x+dx, y+dy, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("camera%d.jpg", seed))
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fillJS answers every item that applies and has no answer, in order, the
// way a finger would (clicks and changes dispatched on the controls), and
// returns how many it answered. plan picks answers for some items.
const fillJS = `(async (plan) => {
  let n = 0;
  const change = (el) => el.dispatchEvent(new Event('change', {bubbles: true}));
  for (let pass = 0; pass < 3; pass++) {
    for (const f of document.querySelectorAll('fieldset.item')) {
      if (f.hidden) continue;
      const key = f.dataset.key, type = f.dataset.type;
      const inputs = [...f.querySelectorAll('.opts input, .opts textarea')];
      if (inputs.some((i) => i.checked || ((i.type === 'number' || i.tagName === 'TEXTAREA') && i.value !== ''))) continue;
      const want = plan[key];
      switch (type) {
        case 'yes_no': case 'rating': case 'single_choice': case 'multi_choice': {
          const v = want || (type === 'yes_no' ? 'yes' : type === 'rating' ? '4' : inputs[0].value);
          (inputs.find((i) => i.value === v) || inputs[0]).click();
          break;
        }
        case 'number': inputs[0].value = want || '0'; change(inputs[0]); break;
        case 'text': inputs[0].value = want || '良好'; change(inputs[0]); break;
        default: continue;
      }
      n++;
      await new Promise((r) => setTimeout(r, 0)); // one answer per task, as a finger gives them
    }
  }
  return n;
})`

var fillPlan = map[string]string{
	"signage.floor_directory":     "no", // fails: needs a comment and a photo
	"accessibility.upper_floors":  "yes",
	"feedback.channels":           "box",
	"multilingual.interpretation": "remote",
	"feedback.received_count":     "12",
}

// comment types a comment into an item's comment box.
func comment(t *testing.T, ctx context.Context, key, text string) {
	t.Helper()
	do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const c = document.getElementById(%q); c.value = %q; c.dispatchEvent(new Event('change', {bubbles: true})); })()`, "c-"+key, text)))
}

// photo gives an item's camera input a file and waits for its thumbnail.
func photo(t *testing.T, ctx context.Context, key, file string) {
	t.Helper()
	do(t, ctx, chromedp.SetUploadFiles(chromedp.CSS(fmt.Sprintf(`input[data-photo=%q]`, key)), []string{file}))
	waitFor(t, ctx, "the photo of "+key, fmt.Sprintf(`(document.getElementById(%q).dataset.ids || '').length > 0`, "thumbs-"+key), 20*time.Second)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("TENKEN_SCREENSHOTS") == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(os.Getenv("TENKEN_SCREENSHOTS"), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitStatus waits until the server has the inspection in status.
func (e *appEnv) waitStatus(user, id, status string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		in := e.inspection(user, id)
		if in.Status == status {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("inspection %s is %s, not %s, after 30 s", id, in.Status, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watchConsole logs what the page writes to its console and its uncaught
// exceptions, so that a failing test says what the app saw.
func watchConsole(t *testing.T, ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			t.Logf("console %s: %s", m.Type, m)
		}
	}()
}

// waitAnswer waits until the server holds value for item key.
func (e *appEnv) waitAnswer(user, id, key string, value any) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		in := e.inspection(user, id)
		if a, ok := in.Answers[key]; ok && a.Value == value {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("inspection %s: %s = %v, not %v, after 30 s", id, key, in.Answers[key].Value, value)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// itemInput selects the choice value of item key.
func itemInput(key, value string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[id="item-%s"] input[value="%s"]`, key, value))
}

// tap brings an item's choice to the middle of the screen (clear of the
// sticky header) and clicks it with the mouse.
func tap(t *testing.T, ctx context.Context, key, value string) {
	t.Helper()
	do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).scrollIntoView({block: 'center'})`, "item-"+key)),
		chromedp.Click(itemInput(key, value)))
}
