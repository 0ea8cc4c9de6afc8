package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tenken/checklist"
	"tenken/web/browsertest"
)

// Made for a tablet in a corridor: on a portrait tablet with touch, every
// control of the sign-in, home and checklist screens is at least 44 px
// each way, nothing scrolls sideways, and axe-core finds nothing serious,
// in Japanese and in English; the checklist holds in landscape too.
func TestAppTablet(t *testing.T) {
	b := browsertest.Start(t)
	e := newAppEnv(t)
	fy := checklist.FiscalYear(time.Now())
	e.openRound(map[string]checklist.Date{e.second: checklist.DateOf(checklist.FiscalYearStart(fy))})
	ctx := b.Context(t, 2*time.Minute)
	watchConsole(t, ctx)
	portrait := chromedp.EmulateViewport(800, 1280, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
	do(t, ctx, portrait)

	do(t, ctx, chromedp.Navigate(e.url("/app/")), chromedp.WaitVisible(chromedp.ID("username")))
	checkTouchable(t, ctx, "sign-in")
	if eval[bool](t, ctx, `document.getElementById('signout').getClientRects().length > 0`) {
		t.Error("the sign-in screen shows a sign-out button")
	}
	browsertest.CheckAccessible(t, ctx)

	signIn(t, ctx, e, "inspector1")
	waitFor(t, ctx, "the year's list", `document.querySelector('#todo [data-assignment]')`, 10*time.Second)
	checkTouchable(t, ctx, "home")

	do(t, ctx, chromedp.Click(chromedp.CSS(`#todo [data-assignment="`+e.facility+`"]`)))
	waitFor(t, ctx, "the checklist", `document.getElementById('finish')`, 10*time.Second)
	// A failed item shows its comment and camera controls too.
	tap(t, ctx, "signage.floor_directory", "no")
	checkTouchable(t, ctx, "checklist")
	browsertest.CheckAccessible(t, ctx)

	// English: the checklist, then the home screen with the year's list.
	do(t, ctx, chromedp.Click(chromedp.ID("lang")))
	waitFor(t, ctx, "the English checklist", `document.documentElement.lang === 'en' && document.getElementById('submit')?.textContent === 'Submit'`, 10*time.Second)
	checkTouchable(t, ctx, "English checklist")
	browsertest.CheckAccessible(t, ctx)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`), chromedp.Click(chromedp.CSS(`.head a[href="#/"]`)))
	waitFor(t, ctx, "the English home screen", `document.getElementById('todo-h')?.textContent === 'To do this year'`, 10*time.Second)
	row := eval[string](t, ctx, `document.querySelector('#todo [data-assignment="`+e.second+`"]').textContent`)
	if !strings.Contains(row, "Tama Labour Consultation Center") || !strings.Contains(row, "Due") || !strings.Contains(row, "Not started") {
		t.Errorf("English assignment row = %q", row)
	}
	checkTouchable(t, ctx, "English home")
	browsertest.CheckAccessible(t, ctx)

	// Landscape.
	do(t, ctx, chromedp.EmulateViewport(1280, 800, chromedp.EmulateLandscape, chromedp.EmulateMobile, chromedp.EmulateTouch))
	do(t, ctx, chromedp.Click(chromedp.CSS(`#todo [data-assignment="`+e.facility+`"]`)))
	waitFor(t, ctx, "the checklist in landscape", `document.getElementById('finish')`, 10*time.Second)
	checkTouchable(t, ctx, "landscape checklist")
}

// checkTouchable fails t for every visible control of the current screen
// smaller than 44×44 px, and when the page scrolls sideways.
func checkTouchable(t *testing.T, ctx context.Context, screen string) {
	t.Helper()
	small := eval[[]string](t, ctx, `(() => {
	  const controls = document.querySelectorAll('button, a[href], input, textarea, select, summary, label.opt, label.btn');
	  const out = [];
	  let n = 0;
	  for (const el of controls) {
	    // A control drawn inside its label (choices, the camera) is the label's size.
	    if (el.matches('.sr-only, .opt input')) continue;
	    const r = el.getBoundingClientRect();
	    if (!r.width && !r.height) continue; // not shown
	    n++;
	    if (r.width < 44 || r.height < 44) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className.replace(/ /g, '.') : '') +
	      ' "' + (el.textContent || el.getAttribute('name') || '').trim().slice(0, 30) + '" ' + Math.round(r.width) + '×' + Math.round(r.height));
	  }
	  return n ? out : ['no controls found'];
	})()`)
	for _, s := range small {
		t.Errorf("%s: control smaller than 44×44 px: %s", screen, s)
	}
	sw := eval[[]int](t, ctx, `[document.scrollingElement.scrollWidth, innerWidth]`)
	if sw[0] > sw[1] {
		t.Errorf("%s scrolls sideways: %d px wide in a %d px viewport", screen, sw[0], sw[1])
	}
}
