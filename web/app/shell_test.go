package app_test

import (
	"regexp"
	"strings"
	"testing"

	"tenken/web/app"
)

// maxShellBytes is the bar for everything the app loads on first use.
const maxShellBytes = 200 << 10

// The shell is small, precached whole by the service worker, and has no
// inline script or style (the CSP forbids them).
func TestShell(t *testing.T) {
	total := 0
	sw, _ := app.Get("sw.js")
	for _, n := range app.Names() {
		a, _ := app.Get(n)
		total += len(a.Body)
		if !strings.Contains(string(sw.Body), "'"+n+"'") && n != "sw.js" {
			t.Errorf("sw.js does not precache %s", n)
		}
	}
	t.Logf("app shell: %d files, %d bytes (%.1f KB) uncompressed", len(app.Names()), total, float64(total)/1024)
	if total > maxShellBytes {
		t.Errorf("the app shell is %d bytes; the bar is %d", total, maxShellBytes)
	}
	index, _ := app.Get("index.html")
	inline := regexp.MustCompile(`<script(?:[^>]*)>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)
	if m := inline.FindString(string(index.Body)); m != "" {
		t.Errorf("index.html has inline script or style: %q", m)
	}
}
