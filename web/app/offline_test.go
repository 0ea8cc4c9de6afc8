package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/web/browsertest"
)

// The whole inspection offline: sign in, lose the network and the server,
// fill the bundled default checklist with photos, reload, close the tab,
// let the access token expire, come back → the server holds every answer
// once and both photos; then submit, get it returned with a reviewer's
// item comment, resubmit, and see it approved and read-only.
func TestAppOfflineInspection(t *testing.T) {
	b := browsertest.Start(t)
	e := newAppEnv(t)
	bctx := b.Context(t, 5*time.Minute)
	ctx, closeTab := chromedp.NewContext(bctx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	watchConsole(t, ctx)
	// This year's round: the second facility was due on the first day of
	// the fiscal year, the first is due on its last.
	fy := checklist.FiscalYear(time.Now())
	late, soon := checklist.DateOf(checklist.FiscalYearStart(fy)), checklist.Date{Year: fy + 1, Month: time.March, Day: 31}
	e.openRound(map[string]checklist.Date{e.second: late, e.facility: soon})
	signIn(t, ctx, e, "inspector1")
	checkTodo(t, ctx, e, late, soon)
	browsertest.CheckAccessible(t, ctx)
	screenshot(t, ctx, "app-home")

	// The network goes, and so does the server.
	setOffline(t, ctx, true)
	e.stop()
	offlineSince := time.Now()
	waitFor(t, ctx, "the offline indicator", `document.getElementById('net').classList.contains('off') || !navigator.onLine`, 10*time.Second)
	// The year's list comes from the device.
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "the home screen offline", `document.querySelector('#todo [data-assignment]')`, 10*time.Second)
	checkTodo(t, ctx, e, late, soon)
	// Tapping an assignment starts the inspection of its facility.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#todo [data-assignment="`+e.facility+`"]`)))
	waitFor(t, ctx, "the checklist", `document.getElementById('finish')`, 10*time.Second)
	id := eval[string](t, ctx, `location.hash.slice(4)`)
	plan, _ := json.Marshal(fillPlan)
	if n := eval[int](t, ctx, fillJS+"("+string(plan)+")"); n < 60 {
		t.Fatalf("answered %d items; the default checklist has more", n)
	}
	comment(t, ctx, "signage.floor_directory", "案内図が旧配置のまま")
	photo(t, ctx, "signage.floor_directory", testJPEG(t, 1))
	photo(t, ctx, "flyers.rack_photo", testJPEG(t, 2))
	waitFor(t, ctx, "nothing left before submit", `document.querySelector('#remaining .ok')`, 10*time.Second)
	// The items the device shows answered (every one that applies, except
	// the optional photo of good practice).
	shown := eval[[]string](t, ctx, `[...document.querySelectorAll('fieldset.item:not([hidden])')].filter((f) =>
	  [...f.querySelectorAll('.opts input, .opts textarea')].some((i) => i.checked || ((i.type === 'number' || i.tagName === 'TEXTAREA') && i.value !== '')) ||
	  (f.querySelector('.thumbs')?.dataset.ids || '') !== '').map((f) => f.dataset.key)`)
	// Main-thread work per answer, from the app's own Performance API
	// measures (event time stamp to the end of the handler).
	ms := eval[[]float64](t, ctx, `performance.getEntriesByName('answer').map((m) => m.duration).sort((a, b) => a - b)`)
	p50, p95, worst := ms[len(ms)/2], ms[len(ms)*95/100], ms[len(ms)-1]
	t.Logf("answering an item: median %.1f ms, p95 %.1f ms, max %.1f ms of main-thread work over %d answers", p50, p95, worst, len(ms))
	// The median is the work; the tail on a shared machine is mostly the
	// renderer being descheduled, so it is logged, not judged.
	if p50 > 16 {
		t.Errorf("answering an item took %.1f ms (median) on the main thread; the bar is 16 ms", p50)
	}
	browsertest.CheckAccessible(t, ctx)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('item-signage.floor_directory').scrollIntoView({block: 'start'}); window.scrollBy(0, -120)`))
	screenshotViewport(t, ctx, "app-checklist")

	// Reload while offline: the shell and the draft come back. The open
	// time is the better of two reloads, so that one stall of a shared
	// machine does not decide it.
	openMs := 0.0
	for i := 0; i < 2; i++ {
		do(t, ctx, chromedp.Reload())
		waitFor(t, ctx, "the checklist after reload", `document.getElementById('finish') && document.querySelector('#remaining .ok')`, 10*time.Second)
		ms := eval[float64](t, ctx, `performance.getEntriesByName('checklist-interactive')[0].startTime`)
		if i == 0 || ms < openMs {
			openMs = ms
		}
	}
	t.Logf("opening the app offline to an interactive checklist: %.0f ms (better of two reloads)", openMs)
	if openMs > 1000 {
		t.Errorf("offline open took %.0f ms; the bar is 1 s", openMs)
	}
	if w := waiting(t, ctx); w == 0 {
		t.Fatal("nothing waiting after the reload")
	}

	// Close the tab; a new one opens the app offline with everything kept.
	closeTab()
	ctx, closeTab = chromedp.NewContext(bctx)
	defer closeTab()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	watchConsole(t, ctx)
	setOffline(t, ctx, true)
	do(t, ctx, chromedp.Navigate(e.url("/app/#/i/"+id)))
	waitFor(t, ctx, "the checklist in a new tab", `document.querySelector('#remaining .ok')`, 10*time.Second)

	// Time passes offline: the access token expires. Then the network returns.
	time.Sleep(time.Until(offlineSince.Add(accessTTL + time.Second)))
	e.dropSave.Store(true) // and the first save's answer is lost on the way back
	e.start()
	setOffline(t, ctx, false)
	waitFor(t, ctx, "the outbox to drain", `document.getElementById('queue').dataset.n === '0'`, 60*time.Second)

	tok := "inspector1"
	in := e.inspection(tok, id)
	if len(in.Answers) != len(shown) {
		t.Errorf("server holds %d answers; the device showed %d items", len(in.Answers), len(shown))
	}
	for _, k := range shown {
		if _, ok := in.Answers[k]; !ok {
			t.Errorf("server lacks the answer to %s", k)
		}
	}
	if a := in.Answers["signage.floor_directory"]; a.Value != "no" || a.Comment != "案内図が旧配置のまま" || len(a.Photos) != 1 {
		t.Errorf("floor_directory on the server = %+v", a)
	}
	if len(in.Photos) != 2 {
		t.Fatalf("server holds %d photos, want 2", len(in.Photos))
	}
	for _, p := range in.Photos {
		checkDownscaled(t, e, e.token(tok), p.SHA256)
	}
	raw, _ := json.Marshal(in.Answers)
	var asChecklist map[string]checklist.Answer
	if err := json.Unmarshal(raw, &asChecklist); err != nil {
		t.Fatal(err)
	}
	if err := checklistfile.Default().CheckSubmit(asChecklist); err != nil {
		t.Errorf("the server's answers are not complete: %v", err)
	}
	e.mu.Lock()
	applied := 0
	for key, n := range e.applied {
		applied += n
		if n > 1 {
			t.Errorf("save %s applied %d times", key, n)
		}
	}
	t.Logf("saves: %d applied, %d replayed, refused %v; %d token refreshes", applied, e.replayed, e.refused, e.refreshed)
	if e.replayed == 0 {
		t.Error("the save whose answer was lost was not retried under its key")
	}
	if e.refreshed == 0 {
		t.Error("the expired access token was not refreshed")
	}
	if len(e.refused) > 0 {
		t.Errorf("saves refused: %v", e.refused)
	}
	e.mu.Unlock()

	// Submit.
	do(t, ctx, chromedp.Click(chromedp.ID("submit")))
	e.waitStatus(tok, id, "submitted")

	// The reviewer returns it with an item comment; the tablet shows it.
	rev := "reviewer1"
	if st := e.call("POST", "/v1/inspections/"+id+"/return", e.token(rev), map[string]any{
		"comment": "案内図の写真を撮り直してください", "item_comments": map[string]string{"signage.floor_directory": "写真が不鮮明です"},
	}, nil); st != 200 {
		t.Fatalf("return: %d", st)
	}
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "the reviewer's item comment", `(document.querySelector('[data-review="signage.floor_directory"]') || {}).textContent?.includes('写真が不鮮明です') && document.getElementById('review')`, 20*time.Second)
	browsertest.CheckAccessible(t, ctx)
	comment(t, ctx, "signage.floor_directory", "案内図が旧配置のまま。撮り直しました")
	do(t, ctx, chromedp.Click(chromedp.ID("submit")))
	e.waitStatus(tok, id, "submitted")
	if st := e.call("POST", "/v1/inspections/"+id+"/approve", e.token(rev), map[string]any{}, nil); st != 200 {
		t.Fatalf("approve: %d", st)
	}
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "the approved, read-only checklist", `document.getElementById('status')?.classList.contains('st-approved') && document.querySelector('fieldset.item input')?.disabled && document.getElementById('submit')?.hidden`, 20*time.Second)
	// The year's list says so, and tapping it opens that inspection.
	do(t, ctx, chromedp.Click(chromedp.CSS(`.head a[href="#/"]`)))
	waitFor(t, ctx, "the approved assignment", `document.querySelector('#todo [data-assignment="`+e.facility+`"][data-progress=approved]:not(.overdue)')`, 10*time.Second)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#todo [data-assignment="`+e.facility+`"]`)))
	waitFor(t, ctx, "the approved inspection", `location.hash === '#/i/`+id+`' && document.getElementById('status')?.classList.contains('st-approved')`, 10*time.Second)
}

// checkTodo checks the home screen's "to do this year" list in Japanese:
// the second facility (due on late, overdue unless that is today) before
// the first (due on soon), neither started on the server.
func checkTodo(t *testing.T, ctx context.Context, e *appEnv, late, soon checklist.Date) {
	t.Helper()
	if h := eval[string](t, ctx, `document.getElementById('todo-h')?.textContent`); h != "今年度の点検予定" {
		t.Errorf("the year's list is headed %q", h)
	}
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll('#todo [data-assignment]')].map((r) => r.dataset.assignment + '|' + r.classList.contains('overdue') + '|' + r.textContent)`)
	jaDate := func(d checklist.Date) string { return fmt.Sprintf("期限 %d年%d月%d日", d.Year, d.Month, d.Day) }
	lateOverdue := late != checklist.DateOf(time.Now()) // on its due date it is not late yet
	want := []struct {
		id, name, due string
		overdue       bool
	}{{e.second, "多摩労働相談センター", jaDate(late), lateOverdue}, {e.facility, "東京しごとセンター", jaDate(soon), false}}
	if len(rows) != len(want) {
		t.Fatalf("the year's list: %q, want %d rows", rows, len(want))
	}
	for i, w := range want {
		r := rows[i]
		if !strings.HasPrefix(r, fmt.Sprintf("%s|%t|", w.id, w.overdue)) || !strings.Contains(r, w.name) || !strings.Contains(r, w.due) ||
			!strings.Contains(r, "未着手") || strings.Contains(r, "期限超過") != w.overdue {
			t.Errorf("row %d of the year's list = %q; want %s, %s, 未着手, overdue %t", i, r, w.name, w.due, w.overdue)
		}
	}
}

// checkDownscaled fetches a photo and checks the device sent a JPEG no
// larger than 2048 px on its longest side.
func checkDownscaled(t *testing.T, e *appEnv, tok, sha string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.url("/v1/photos/"+sha), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || format != "jpeg" || max(cfg.Width, cfg.Height) > 2048 {
		t.Errorf("photo %s: %s %dx%d %v", sha, format, cfg.Width, cfg.Height, err)
	}
	if max(cfg.Width, cfg.Height) != 2048 {
		t.Errorf("photo %s is %dx%d; a 3000 px photo should come out 2048 px", sha, cfg.Width, cfg.Height)
	}
}

func screenshotViewport(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name)
}
