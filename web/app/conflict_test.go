package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tenken/web/browsertest"
)

// Two tablets on one inspection: answers to different items merge; the
// same item changed on both shows the server's and the device's value
// and lets the inspector choose.
func TestAppConflict(t *testing.T) {
	b := browsertest.Start(t)
	e := newAppEnv(t)
	one := b.Context(t, 3*time.Minute)
	two := b.Context(t, 3*time.Minute)
	watchConsole(t, one)
	watchConsole(t, two)
	tok := "inspector1"

	signIn(t, one, e, "inspector1")
	do(t, one, chromedp.Click(chromedp.CSS(`[data-facility]`)), chromedp.WaitVisible(chromedp.ID("finish")))
	id := eval[string](t, one, `location.hash.slice(4)`)
	tap(t, one, "signage.exterior_sign", "yes")
	waitFor(t, one, "the answer to be sent", `document.querySelector('[id="item-signage.exterior_sign"] input[value=yes]').checked && document.getElementById('queue').dataset.n === '0'`, 30*time.Second)
	e.waitAnswer(tok, id, "signage.exterior_sign", "yes")

	// The second tablet gets the inspection by sync, then loses the network.
	signIn(t, two, e, "inspector1")
	do(t, two, chromedp.Click(chromedp.CSS(`[data-inspection="`+id+`"]`)), chromedp.WaitVisible(chromedp.ID("finish")))
	setOffline(t, two, true)
	tap(t, two, "signage.counter_names", "yes")
	tap(t, two, "signage.opening_hours", "no")

	// Meanwhile the first tablet answers the same item differently.
	tap(t, one, "signage.opening_hours", "yes")
	e.waitAnswer(tok, id, "signage.opening_hours", "yes")

	// Back online: the different item merges, the same one asks.
	setOffline(t, two, false)
	e.waitAnswer(tok, id, "signage.counter_names", "yes")
	waitFor(t, two, "the conflict choice", `document.querySelector('[id="conflict-signage.opening_hours"] .keep-device')`, 30*time.Second)
	in := e.inspection(tok, id)
	if in.Answers["signage.exterior_sign"].Value != "yes" || in.Answers["signage.opening_hours"].Value != "yes" {
		t.Errorf("server answers after the merge: %+v", in.Answers)
	}
	sv := eval[string](t, two, `document.querySelector('[id="conflict-signage.opening_hours"] .sv').textContent`)
	dv := eval[string](t, two, `document.querySelector('[id="conflict-signage.opening_hours"] .dv').textContent`)
	if sv != "はい" || dv != "いいえ" {
		t.Errorf("conflict shows server %q, device %q; want はい, いいえ", sv, dv)
	}
	if !eval[bool](t, two, `document.getElementById('submit').disabled`) {
		t.Error("submit is possible with a conflict open")
	}
	browsertest.CheckAccessible(t, two)
	do(t, two, chromedp.Evaluate[chromedp.Void](`document.getElementById('item-signage.opening_hours').scrollIntoView({block: 'center'})`))
	screenshot(t, two, "app-conflict")

	// The inspector keeps this device's value: it is saved over the server's.
	do(t, two, chromedp.Click(chromedp.CSS(`[id="conflict-signage.opening_hours"] .keep-device`)))
	waitFor(t, two, "the conflict to close", `!document.querySelector('[id="conflict-signage.opening_hours"] .keep-device') && document.getElementById('queue').dataset.n === '0'`, 30*time.Second)
	e.waitAnswer(tok, id, "signage.opening_hours", "no")

	// A save the server refuses for good stops the outbox and says why;
	// discarding it puts the server's answer back on the device.
	e.refuseSave.Store(true)
	tap(t, two, "signage.counter_names", "no")
	waitFor(t, two, "the refusal", `document.getElementById('blocked')?.textContent.includes('refused by the test')`, 30*time.Second)
	browsertest.CheckAccessible(t, two)
	do(t, two, chromedp.Click(chromedp.CSS(`#blocked button`)))
	waitFor(t, two, "the discarded change", `!document.getElementById('blocked') && document.getElementById('queue').dataset.n === '0' && document.querySelector('[id="item-signage.counter_names"] input[value=yes]').checked`, 30*time.Second)
	if v := e.inspection(tok, id).Answers["signage.counter_names"].Value; v != "yes" {
		t.Errorf("counter_names on the server = %v after the refused save", v)
	}

	// Sign-out on a shared tablet with a change still waiting: a warning
	// names it, then everything local is wiped.
	setOffline(t, two, true)
	tap(t, two, "signage.directional_signs", "yes")
	waitFor(t, two, "a waiting change", `document.getElementById('queue').dataset.n !== '0'`, 10*time.Second)
	do(t, two, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signout-confirm")))
	if msg := eval[string](t, two, `document.getElementById('so-msg').textContent`); !strings.Contains(msg, "1 件") {
		t.Errorf("sign-out warning = %q", msg)
	}
	browsertest.CheckAccessible(t, two)
	const dataCached = `caches.has('tenken-data').then(async (has) => has && (await (await caches.open('tenken-data')).keys()).length > 0)`
	if !eval[bool](t, two, dataCached) {
		t.Fatal("no checklist version in the data cache before sign-out")
	}
	do(t, two, chromedp.Click(chromedp.ID("signout-confirm")), chromedp.WaitVisible(chromedp.ID("username")))
	left := eval[int](t, two, `(async () => {
	  const db = await new Promise((r) => { const q = indexedDB.open('tenken'); q.onsuccess = () => r(q.result); });
	  const count = (s) => new Promise((r) => { const q = db.transaction(s).objectStore(s).count(); q.onsuccess = () => r(q.result); });
	  return (await count('inspections')) + (await count('outbox')) + (await count('photos')) + (await count('kv'));
	})()`)
	if left != 0 {
		t.Errorf("%d records left on the device after sign-out", left)
	}
	if caches := eval[[]string](t, two, `caches.keys()`); slices.Contains(caches, "tenken-data") {
		t.Errorf("the checklist data cache is still there after sign-out: %q", caches)
	}

	// English on request.
	do(t, two, chromedp.Click(chromedp.ID("lang")))
	waitFor(t, two, "the English sign-in", `document.querySelector('form.login h2')?.textContent === 'Sign in' && document.documentElement.lang === 'en'`, 10*time.Second)
	browsertest.CheckAccessible(t, two)
}
