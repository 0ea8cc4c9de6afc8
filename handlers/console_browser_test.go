package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/handlers"
	"tenken/web/browsertest"
)

// browse opens path and fails t unless the page answers status.
func browse(t *testing.T, ctx context.Context, u string, status int) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	if int(resp.Status) != status {
		t.Fatalf("open %s: status %d, want %d", u, resp.Status, status)
	}
}

// submitWith clicks the button sel and waits for the page it leads to.
func submitWith(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// signInBrowser fills the sign-in form reached by opening path.
func signInBrowser(t *testing.T, ctx context.Context, base, path, username string) {
	t.Helper()
	browse(t, ctx, base+path, http.StatusOK)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action="/console/login"] button`)
}

// The review flow of issue 15 in a real browser: a reviewer signs in,
// opens the queue, returns the inspection with a per-item comment; the
// tablet (the API) resubmits; the reviewer approves; the dashboard and
// the facility page show it. Every page is checked with axe-core, its
// first load measured against maxFirstLoad, and photographed; markup in
// a facility name stays text.
func TestConsoleBrowserReviewFlow(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	e := newConsoleEnv(t)
	base := e.srv.URL
	ctx := b.Context(t, 3*time.Minute)

	// A first visit, signed out again: the next sign-in's dashboard
	// shows what changed since this one.
	signInBrowser(t, ctx, base, "/console/login", e.reviewerUser.Username)
	submitWith(t, ctx, `form[action="/console/logout"] button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "ログアウトしました") {
		t.Errorf("after sign-out: %q", s)
	}
	browse(t, ctx, base+"/console/queue", http.StatusOK) // back to the sign-in form
	if loc := eval[string](t, ctx, `location.pathname`); loc != "/console/login" {
		t.Fatalf("signed out, the queue shows %s", loc)
	}

	// Signing in from a deep link comes back to it.
	signInBrowser(t, ctx, base, "/console/queue", e.reviewerUser.Username)
	if loc := eval[string](t, ctx, `location.pathname`); loc != "/console/queue" {
		t.Fatalf("after sign-in at %s, want /console/queue", loc)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-queue")
	if n := eval[int](t, ctx, `document.querySelectorAll('a[href="/console/inspections/`+e.flow+`"]').length`); n != 1 {
		t.Fatalf("the submitted inspection is not in the queue (%d links)", n)
	}

	// The inspection: failed items first and highlighted, the photo as a
	// thumbnail linking to the full size.
	submitWith(t, ctx, `a[href="/console/inspections/`+e.flow+`"]`)
	first := eval[string](t, ctx, `document.querySelector('#s-signage li.item').id`)
	if first != "i-signage.entrance" || !eval[bool](t, ctx, `document.getElementById('i-signage.entrance').classList.contains('failed')`) {
		t.Errorf("first item of the signage section: %s, want the failed signage.entrance highlighted", first)
	}
	if eval[string](t, ctx, `document.querySelector('#i-flyers\\.layout').parentElement.firstElementChild.id`) != "i-flyers.layout" {
		t.Error("the failed flyers.layout is not first in its section")
	}
	photo, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise((resolve) => {
		const a = document.querySelector('[id="i-signage.entrance"] .photos a');
		if (!a) return resolve('');
		const img = a.querySelector('img');
		const done = () => resolve(img.naturalWidth > 0 ? a.getAttribute('href') : '');
		if (img.complete) done(); else { img.onload = done; img.onerror = done; }
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(photo, "/console/photos/") {
		t.Errorf("the failed item's photo is not a loaded thumbnail linking to the full size: %q", photo)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-inspection")

	approvedBefore := approvedCount(t, ctx, base)
	browse(t, ctx, base+"/console/inspections/"+e.flow, http.StatusOK)

	// Return with an overall and a per-item comment.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`textarea[name="item.signage.entrance"]`), "案内板を新しくしてください"),
		chromedp.SendKeys(chromedp.ID("return-comment"), "入口の案内板を直して再提出してください"),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `#return-form button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "差し戻しました") {
		t.Errorf("after return: notice %q", s)
	}
	in := e.stored(t, e.flow)
	if in.Status != checklist.StatusReturned || in.Review.Items["signage.entrance"] != "案内板を新しくしてください" || in.Review.Comment == "" {
		t.Fatalf("after return: status %s, review %+v", in.Status, in.Review)
	}

	// The tablet sees the comment and resubmits through the API.
	v := e.get(t, e.inspector, e.flow)
	found := false
	for _, f := range v.Findings {
		found = found || f.Item == "signage.entrance" && f.ReviewComment == "案内板を新しくしてください"
	}
	if !found {
		t.Errorf("the inspector's API copy lacks the per-item comment: %+v", v.Findings)
	}
	e.act(e.inspector, e.flow, "resubmit", nil).wantStatus(t, http.StatusOK)

	// Back in the queue as a resubmission; approve it.
	browse(t, ctx, base+"/console/queue?status=resubmitted", http.StatusOK)
	if n := eval[int](t, ctx, `document.querySelectorAll('a[href="/console/inspections/`+e.flow+`"]').length`); n != 1 {
		t.Fatal("the resubmitted inspection is not in the queue filtered to resubmissions")
	}
	submitWith(t, ctx, `a[href="/console/inspections/`+e.flow+`"]`)
	submitWith(t, ctx, `form[action$="/approve"] button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "承認しました") {
		t.Errorf("after approve: notice %q", s)
	}
	if s := e.status(t); s != checklist.StatusApproved {
		t.Fatalf("status %s, want approved", s)
	}
	browsertest.CheckAccessible(t, ctx) // the reopen form

	// An improvement action from the finding, its interim report, and
	// its place in the plan and, marked good, in the gallery.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[id="i-signage.entrance"] details.new-action summary`)),
		chromedp.SendKeys(chromedp.CSS(`[id="i-signage.entrance"] input[name="title"]`), "入口の案内板を更新する"),
		chromedp.SendKeys(chromedp.CSS(`[id="i-signage.entrance"] input[name="owner"]`), "庶務担当"),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `[id="i-signage.entrance"] details.new-action button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "改善策を作成しました") {
		t.Fatalf("after creating the action: %q", s)
	}
	browsertest.CheckAccessible(t, ctx)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("p-text"), "新しい案内板を発注した")); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action$="/progress"] button`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("gp")),
		chromedp.SendKeys(chromedp.ID("gp-note"), "写真付きで分かりやすい"),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action$="/good-practice"] button`)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-action")
	actions, err := e.db.ListActions(context.Background(), checklist.ActionQuery{FacilityIDs: []string{e.own}})
	if err != nil || len(actions) != 1 {
		t.Fatalf("actions of the facility: %v, %v", actions, err)
	}
	if a := actions[0]; a.Interim == nil || a.Interim.Text != "新しい案内板を発注した" || !a.GoodPractice || a.Status != checklist.ActionInProgress || a.SourceInspectionID != e.flow {
		t.Errorf("the action after the forms: %+v", a)
	}
	browse(t, ctx, base+"/console/plan", http.StatusOK)
	if s := textOf(t, ctx, "#g-in_progress"); !strings.Contains(s, "実施中") {
		t.Errorf("plan: no in-progress group: %q", s)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-plan")
	browse(t, ctx, base+"/console/good-practices", http.StatusOK)
	if n := eval[int](t, ctx, `document.querySelectorAll('.practice img').length`); n != 1 {
		t.Errorf("gallery: %d photos, want the finding's one", n)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-gallery")

	// Every report as a table and a chart; the XLSX link downloads a
	// workbook with the session's cookie.
	for _, kind := range []string{"facilities", "items", "sections", "yoy", "persistent", "findings"} {
		browse(t, ctx, base+"/console/reports?kind="+kind, http.StatusOK)
		if n := eval[int](t, ctx, `document.querySelectorAll('main table, main svg.chart').length`); n == 0 {
			t.Errorf("report %s shows neither a table nor a chart", kind)
		}
		if kind == "findings" {
			// The approved inspection's failed item, with its comment and
			// the reviewer's, and a bar for its facility.
			if s := textOf(t, ctx, "#findings"); !strings.Contains(s, "入口の案内板が色あせている") || !strings.Contains(s, "案内板を新しくしてください") {
				t.Errorf("findings table: %q", s)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('main svg.chart rect').length`); n == 0 {
				t.Error("findings: no bars in the chart")
			}
		}
		browsertest.CheckAccessible(t, ctx)
		checkFirstLoad(t, ctx)
		if kind == "facilities" {
			browsertest.Screenshot(t, ctx, "console-reports")
		}
	}
	xlsx, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[href*="format=xlsx"]').href)
		.then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
		.then(b => { let s = ''; for (const c of new Uint8Array(b)) s += String.fromCharCode(c); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download the workbook: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the download is no workbook: %v", err)
	}
	if sheets := wb.GetSheetList(); !slices.Contains(sheets, handlers.SheetFacilities) {
		t.Errorf("workbook sheets %v lack %s", sheets, handlers.SheetFacilities)
	}

	// The printable report.
	browse(t, ctx, base+"/console/inspections/"+e.flow+"/print", http.StatusOK)
	if s := textOf(t, ctx, "article.report"); !strings.Contains(s, "入口の案内板が色あせている") {
		t.Error("the printed report lacks the failed item's comment")
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-print")

	// The dashboard counts it approved; the facility page lists it.
	browse(t, ctx, base+"/console/", http.StatusOK)
	if n := approvedCount(t, ctx, base); n != approvedBefore+1 {
		t.Errorf("dashboard: %d approved, want %d", n, approvedBefore+1)
	}
	if s := textOf(t, ctx, "#changes"); !strings.Contains(s, "承認") || !strings.Contains(s, "再提出") {
		t.Errorf("changes since the last visit: %q", s)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('svg.chart rect').length`); n != 10 {
		t.Errorf("score distribution has %d bars, want 10", n)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-dashboard")

	browse(t, ctx, base+"/console/facilities/"+e.own, http.StatusOK)
	row := eval[string](t, ctx, `(() => { const a = document.querySelector('a[href="/console/inspections/`+e.flow+`"]'); return a ? a.closest('tr').innerText : '' })()`)
	if !strings.Contains(row, "承認済み") {
		t.Errorf("facility page row of the inspection: %q", row)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-facility")

	// Markup in names stays text: no script element, the name shown as typed.
	browse(t, ctx, base+"/console/facilities", http.StatusOK)
	if n := eval[int](t, ctx, `document.querySelectorAll('main script, main b').length`); n != 0 {
		t.Errorf("a facility name became %d elements", n)
	}
	if s := textOf(t, ctx, "main"); !strings.Contains(s, scriptName) || !strings.Contains(s, "<b>部</b>") {
		t.Error("the facility named with markup is not shown as text")
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-facilities")

	// English switch: labels change, the choice sticks.
	browse(t, ctx, base+"/console/?lang=en", http.StatusOK)
	if h := textOf(t, ctx, "h1"); !strings.HasPrefix(h, "Dashboard") {
		t.Errorf("English dashboard heading %q", h)
	}
	browse(t, ctx, base+"/console/queue", http.StatusOK)
	if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "en" {
		t.Errorf("language after the switch: %s", lang)
	}
	browsertest.CheckAccessible(t, ctx)

	// Disabling the reviewer signs them out at the next click.
	disable(t, e.testAPI, e.reviewerUser)
	submitWith(t, ctx, `a[href="/console/facilities"]`)
	if loc := eval[string](t, ctx, `location.pathname`); loc != "/console/login" {
		t.Errorf("disabled reviewer's next click: at %s, want the sign-in form", loc)
	}
	browsertest.CheckAccessible(t, ctx)
	browsertest.Screenshot(t, ctx, "console-login")
}

// maxFirstLoad bounds what a page's first load transfers, photos aside.
const maxFirstLoad = 150 << 10

// checkFirstLoad reloads the page with an empty cache and fails t when the
// document and its resources (photos aside) transfer more than
// maxFirstLoad bytes.
func checkFirstLoad(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`performance.clearResourceTimings()`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.NavigateResponse(eval[string](t, ctx, `location.href`))); err != nil {
		t.Fatal(err)
	}
	n := eval[int](t, ctx, `(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		let n = nav.encodedBodySize;
		for (const r of performance.getEntriesByType('resource')) {
			if (!r.name.includes('/console/photos/')) n += Math.max(r.transferSize, r.encodedBodySize);
		}
		return n;
	})()`)
	t.Logf("first load of %s: %d bytes", eval[string](t, ctx, `location.pathname + location.search`), n)
	if n > maxFirstLoad || n == 0 {
		t.Errorf("first load: %d bytes, want 1..%d", n, maxFirstLoad)
	}
}

// tabTo presses Tab until the focused element matches sel.
func tabTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for range 400 {
		if eval[bool](t, ctx, `!!document.activeElement && document.activeElement.matches(`+"`"+sel+"`"+`)`) {
			return
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("Tab never reached %s", sel)
}

// typeKeys types s into the focused element; "\r" is Enter.
func typeKeys(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(s)); err != nil {
		t.Fatal(err)
	}
}

// enter presses Enter on the focused element and waits for the page it
// leads to.
func enter(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatalf("Enter: %v", err)
	}
}

// space presses Space on the focused element (a button) and waits for
// the page it leads to.
func space(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(" ")); err != nil {
		t.Fatalf("Space: %v", err)
	}
}

// The review flow with the keyboard alone: sign in, reach the queue and
// the inspection, comment on an item and return it; after the tablet
// resubmits, find it again and approve it; then reopen it with a reason.
// All by Tab, typing, Enter and Space; the focus is always visible.
func TestConsoleBrowserKeyboard(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	e := newConsoleEnv(t)
	ctx := b.Context(t, 3*time.Minute)
	browse(t, ctx, e.srv.URL+"/console/login", http.StatusOK)
	tabTo(t, ctx, "#username")
	typeKeys(t, ctx, e.reviewerUser.Username)
	tabTo(t, ctx, "#password")
	typeKeys(t, ctx, testPassword)
	enter(t, ctx)
	tabTo(t, ctx, `nav a[href="/console/queue"]`)
	if outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("the focused link shows no outline")
	}
	enter(t, ctx)
	tabTo(t, ctx, `a[href="/console/inspections/`+e.flow+`"]`)
	enter(t, ctx)
	tabTo(t, ctx, `textarea[name="item.signage.entrance"]`)
	typeKeys(t, ctx, "keyboard comment")
	tabTo(t, ctx, "#return-comment")
	typeKeys(t, ctx, "returned by keyboard")
	tabTo(t, ctx, "#return-form button")
	enter(t, ctx)
	in := e.stored(t, e.flow)
	if in.Status != checklist.StatusReturned || in.Review.Items["signage.entrance"] != "keyboard comment" {
		t.Fatalf("after the keyboard return: %s, %+v", in.Status, in.Review)
	}

	// The tablet resubmits; the reviewer finds it in the queue and
	// approves it with Space.
	e.act(e.inspector, e.flow, "resubmit", nil).wantStatus(t, http.StatusOK)
	tabTo(t, ctx, `nav a[href="/console/queue"]`)
	enter(t, ctx)
	tabTo(t, ctx, `a[href="/console/inspections/`+e.flow+`"]`)
	enter(t, ctx)
	tabTo(t, ctx, `form[action$="/approve"] button`)
	if outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("the focused approve button shows no outline")
	}
	space(t, ctx)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "承認しました") {
		t.Errorf("after the keyboard approve: notice %q", s)
	}
	if s := e.status(t); s != checklist.StatusApproved {
		t.Fatalf("after the keyboard approve: %s", s)
	}

	// Reopen with a reason, typed and sent with Enter on the button.
	tabTo(t, ctx, "#reopen-reason")
	typeKeys(t, ctx, "reopened by keyboard")
	tabTo(t, ctx, `form[action$="/reopen"] button`)
	enter(t, ctx)
	in = e.stored(t, e.flow)
	if in.Status != checklist.StatusReturned || in.Review.Comment != "reopened by keyboard" {
		t.Fatalf("after the keyboard reopen: %s, %+v", in.Status, in.Review)
	}
}

// approvedCount reads the dashboard's count of approved facilities.
func approvedCount(t *testing.T, ctx context.Context, base string) int {
	t.Helper()
	browse(t, ctx, base+"/console/", http.StatusOK)
	return eval[int](t, ctx, `parseInt(document.querySelector('#card-approved .n').textContent, 10)`)
}

// An inspector who signs in sees only the pointer to the tablet app.
func TestConsoleBrowserInspector(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	e := newConsoleEnv(t)
	ctx := b.Context(t, 3*time.Minute)
	insp := e.newUser(checklist.RoleInspector, e.own)
	signInBrowser(t, ctx, e.srv.URL, "/console/login", insp.Username)
	if n := eval[int](t, ctx, `document.querySelectorAll('a[href="/app/"]').length`); n != 1 {
		t.Error("no link to the tablet app")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('nav a').length`); n != 0 {
		t.Errorf("an inspector sees %d console links", n)
	}
	browsertest.CheckAccessible(t, ctx)
}

// People admin in the browser: an admin adds an inspector, and disables a
// reviewer who is signed in elsewhere, whose next click signs them out.
// A reviewer cannot open the admin pages.
func TestConsoleBrowserAdmin(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	e := newConsoleEnv(t)
	base := e.srv.URL
	admin := e.newUser(checklist.RoleAdmin)
	rev := e.reviewerUser

	rctx := b.Context(t, 3*time.Minute)
	signInBrowser(t, rctx, base, "/console/login", rev.Username)
	browse(t, rctx, base+"/console/admin/users", http.StatusForbidden)
	if h := textOf(t, rctx, "h1"); h == "" {
		t.Error("the 403 page has no heading")
	}
	browsertest.CheckAccessible(t, rctx) // error.html

	ctx := b.Context(t, 3*time.Minute)
	signInBrowser(t, ctx, base, "/console/admin/users", admin.Username)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("u-name"), "new-inspector"),
		chromedp.SendKeys(chromedp.ID("u-display"), "新しい点検担当"),
		chromedp.SetValue(chromedp.ID("u-role"), "inspector"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#u-facs option[value="`+e.own+`"]').selected = true`),
		chromedp.SendKeys(chromedp.ID("u-pass"), "a long first password 1"),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action="/console/admin/users"] button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "追加しました") {
		t.Fatalf("after adding a user: %q", s)
	}
	u, _, err := e.db.FindCredentials(context.Background(), "new-inspector")
	if err != nil || u.Role != checklist.RoleInspector || !slices.Equal(u.FacilityIDs, []string{e.own}) {
		t.Fatalf("the new user: %+v, %v", u, err)
	}
	browsertest.Screenshot(t, ctx, "console-admin-users")

	// A facility added, then deactivated.
	browse(t, ctx, base+"/console/admin/facilities", http.StatusOK)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("f-code"), "ph-new"),
		chromedp.SendKeys(chromedp.ID("f-ja"), "新しい会館"),
		chromedp.SendKeys(chromedp.ID("f-en"), "New Hall"),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action="/console/admin/facilities"] button`)
	f, err := e.db.FindFacilityByCode(context.Background(), "PH-NEW")
	if err != nil || !f.Active || f.Name.JA != "新しい会館" {
		t.Fatalf("the new facility: %+v, %v", f, err)
	}
	browse(t, ctx, base+"/console/admin/facilities/"+f.ID, http.StatusOK)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("f-active"))); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action="/console/admin/facilities/`+f.ID+`"] button`)
	if f, err = e.db.FindFacility(context.Background(), f.ID); err != nil || f.Active {
		t.Errorf("after deactivating: %+v, %v", f, err)
	}

	browse(t, ctx, base+"/console/admin/users/"+rev.ID, http.StatusOK)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("e-disabled"))); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `form[action$="/account"] button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "保存しました") {
		t.Fatalf("after disabling: %q", s)
	}
	submitWith(t, rctx, `a[href="/console/queue"]`)
	if loc := eval[string](t, rctx, `location.pathname`); loc != "/console/login" {
		t.Errorf("the disabled reviewer's next click: at %s, want the sign-in form", loc)
	}
}

// Checklists admin in the browser: an import with a rule problem shows the
// problem and no publish button; a good import shows its diff against the
// latest version; publishing makes v2, and the version diff names it.
func TestConsoleBrowserChecklists(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	e := newConsoleEnv(t)
	base := e.srv.URL
	content := testChecklistContent()
	e.request("POST", "/v1/checklists", map[string]any{"id": "svc", "content": content}, e.admin).wantStatus(t, http.StatusCreated)
	e.request("POST", "/v1/checklists/svc/publish", nil, e.admin).wantStatus(t, http.StatusCreated)

	writeYAML := func(name string, c checklist.Content) string {
		var buf bytes.Buffer
		if err := checklistfile.Encode(&buf, c); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := testChecklistContent()
	bad.Sections[0].Items = append(bad.Sections[0].Items, checklist.Item{Key: "signage.new", Type: checklist.TypeYesNo})
	good := testChecklistContent()
	good.Sections[0].Items[0].Text.Ja = "入口の案内表示は遠くから見やすいか"
	good.Sections[0].Items = append(good.Sections[0].Items, checklist.Item{Key: "signage.braille", Text: checklist.Text{Ja: "点字の案内があるか"}, Type: checklist.TypeYesNo})

	ctx := b.Context(t, 3*time.Minute)
	signInBrowser(t, ctx, base, "/console/admin/checklists", e.newUser(checklist.RoleAdmin).Username)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	submitWith(t, ctx, `a[href="/console/admin/checklists/svc"]`)
	browsertest.CheckAccessible(t, ctx)

	importFile := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("cl-file"), []string{path})); err != nil {
			t.Fatal(err)
		}
		submitWith(t, ctx, `form[action$="/import"] button`)
	}
	importFile(writeYAML("bad.yaml", bad))
	if s := textOf(t, ctx, "#h-draft + div.error"); !strings.Contains(s, "sections[0].items[2].text") {
		t.Errorf("the draft's problems: %q", s)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('form[action$="/publish"]').length`); n != 0 {
		t.Error("a draft with problems can be published")
	}
	importFile(writeYAML("good.yaml", good))
	diff := textOf(t, ctx, "#h-draft ~ table.diff")
	if !strings.Contains(diff, "点字の案内があるか") || !strings.Contains(diff, "signage.entrance") || strings.Contains(diff, "flyers.rack") {
		t.Errorf("diff of the draft: %q", diff)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-checklist")
	submitWith(t, ctx, `form[action$="/publish"] button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "公開しました") {
		t.Fatalf("after publish: %q", s)
	}
	if _, err := e.db.ChecklistVersion(context.Background(), "svc", 2); err != nil {
		t.Fatalf("v2: %v", err)
	}
	browse(t, ctx, base+"/console/admin/checklists/svc?from=1&to=2", http.StatusOK)
	if s := textOf(t, ctx, "#h-versions ~ table.diff"); !strings.Contains(s, "signage.braille") {
		t.Errorf("v1 → v2 diff: %q", s)
	}
}

// The round page in the browser: an admin opens the round, sees the
// coverage by department, and moves one department's due dates in bulk;
// the bulk form's inspectors and each row's version select are there.
// axe-core on each state of the page; console-rounds.png.
func TestConsoleBrowserRounds(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	e := newConsoleEnv(t)
	cur, err := e.db.FindApplicability(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SetApplicability(context.Background(), checklist.Applicability{Default: testChecklistID}, cur.Revision, checklist.SystemActor); err != nil {
		t.Fatal(err)
	}
	base := e.srv.URL
	fy := checklist.FiscalYear(e.clk.Now())
	ctx := b.Context(t, 3*time.Minute)
	signInBrowser(t, ctx, base, "/console/rounds", e.newUser(checklist.RoleAdmin).Username)
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	submitWith(t, ctx, `form[action$="/open"] button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "開始しました") {
		t.Fatalf("after opening: %q", s)
	}
	if s := textOf(t, ctx, "#coverage"); !strings.Contains(s, "商工部") || !strings.Contains(s, "雇用就業部") || !strings.Contains(s, "合計") {
		t.Errorf("coverage table: %q", s)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('svg.chart rect').length`); n < 2 {
		t.Errorf("%d bars in the chart", n)
	}
	browsertest.CheckAccessible(t, ctx)

	due := strconv.Itoa(fy) + "-11-30"
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("b-dept"), "商工部"),
		chromedp.SetValue(chromedp.ID("b-due"), due),
	); err != nil {
		t.Fatal(err)
	}
	submitWith(t, ctx, `#bulk button`)
	if s := textOf(t, ctx, ".notice"); !strings.Contains(s, "一括変更しました") {
		t.Fatalf("after the bulk change: %q", s)
	}
	as, err := e.db.RoundAssignments(context.Background(), fy)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, a := range as {
		f, err := e.db.FindFacility(context.Background(), a.FacilityID)
		if err != nil {
			t.Fatal(err)
		}
		if (f.Department == "商工部") != (a.Due.String() == due) {
			t.Errorf("%s (%s) due %s", f.Code, f.Department, a.Due)
		}
		if f.Department == "商工部" {
			moved++
		}
	}
	if n := eval[int](t, ctx, `[...document.querySelectorAll('#assignments input[type=date]')].filter(i => i.value === '`+due+`').length`); moved == 0 || n != moved {
		t.Errorf("the table shows %d rows due %s, want %d", n, due, moved)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#b-insp option').length + document.querySelectorAll('#bulk input[name=inspectors]').length`); n < 4 {
		t.Errorf("the bulk form has %d inspector options and choices", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#assignments select[name=version] option[selected]').length`); n < moved {
		t.Errorf("%d rows with a version select", n)
	}
	browsertest.CheckAccessible(t, ctx)
	checkFirstLoad(t, ctx)
	browsertest.Screenshot(t, ctx, "console-rounds")

	// The interim workbook is one click away, with the session's cookie.
	xlsx, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[href$="/reports/interim?format=xlsx"]').href)
		.then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
		.then(b => { let s = ''; for (const c of new Uint8Array(b)) s += String.fromCharCode(c); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download the interim workbook: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the interim download is no workbook: %v", err)
	}
	if sheets := wb.GetSheetList(); !slices.Contains(sheets, "部局別進捗") {
		t.Errorf("interim workbook sheets %v lack 部局別進捗", sheets)
	}
}
