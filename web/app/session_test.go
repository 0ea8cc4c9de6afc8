package app_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tenken/web/browsertest"
)

// The session ends while answers wait (here: the refresh token is revoked
// and the access token runs out): the app asks for the password only, and
// after it the waiting answer is sent; nothing is lost.
func TestAppSessionEnds(t *testing.T) {
	b := browsertest.Start(t)
	e := newAppEnv(t)
	ctx := b.Context(t, 2*time.Minute)
	watchConsole(t, ctx)
	signIn(t, ctx, e, "inspector1")
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-facility]`)), chromedp.WaitVisible(chromedp.ID("finish")))
	id := eval[string](t, ctx, `location.hash.slice(4)`)
	waitFor(t, ctx, "the inspection to be created", `document.getElementById('queue').dataset.n === '0'`, 30*time.Second)

	refresh := eval[string](t, ctx, `new Promise((r) => { const q = indexedDB.open('tenken'); q.onsuccess = () => {
	  const g = q.result.transaction('kv').objectStore('kv').get('session'); g.onsuccess = () => r(g.result.refresh); }; })`)
	if st := e.call("POST", "/v1/auth/logout", "", map[string]string{"refresh_token": refresh}, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	time.Sleep(accessTTL + time.Second)

	tap(t, ctx, "signage.exterior_sign", "yes")
	waitFor(t, ctx, "the password prompt", `document.getElementById('relogin')`, 30*time.Second)
	if n := waiting(t, ctx); n != 1 {
		t.Fatalf("%d changes waiting while signed out, want 1", n)
	}
	browsertest.CheckAccessible(t, ctx)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("repass"), password), chromedp.Click(chromedp.CSS(`#relogin button[type=submit]`)))
	e.waitAnswer("inspector1", id, "signage.exterior_sign", "yes")
	waitFor(t, ctx, "the outbox to drain", `!document.getElementById('relogin') && document.getElementById('queue').dataset.n === '0'`, 30*time.Second)
}
