package handlers

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/web/console"
)

// Every message key the templates and console handlers name is in the
// table with both languages; keys built with printf are checked for the
// values they can take.
func TestConsoleMessages(t *testing.T) {
	t.Parallel()
	if _, err := consoleTemplates(); err != nil {
		t.Fatalf("templates: %v", err)
	}
	var keys []string
	lit := regexp.MustCompile(`\bT "([a-z_.]+)"`)
	err := fs.WalkDir(console.Templates(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(console.Templates(), path)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goKey := regexp.MustCompile(`"((?:error|login|dash|fac|inspection|print|queue|plan|gallery|action|rep|admin|cl)\.[a-z_]+)"`)
	skip := regexp.MustCompile(`\.html$`)
	files, _ := filepath.Glob("console*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			if !skip.MatchString(m[1]) {
				keys = append(keys, m[1])
			}
		}
	}
	for _, st := range []checklist.Status{checklist.StatusDraft, checklist.StatusSubmitted, checklist.StatusReturned, checklist.StatusApproved, checklist.StatusDiscarded} {
		keys = append(keys, "status."+string(st))
	}
	for _, r := range checklist.Roles {
		keys = append(keys, "role."+string(r))
	}
	for _, a := range []string{checklist.ActionCreate, checklist.ActionSave, checklist.ActionPhoto, checklist.ActionSubmit, checklist.ActionReturn,
		checklist.ActionResubmit, checklist.ActionApprove, checklist.ActionReopen, checklist.ActionDiscard} {
		keys = append(keys, "action."+a, "change.inspection."+a)
	}
	for _, a := range []string{"return", "approve", "reopen"} {
		keys = append(keys, "done."+a)
	}
	for _, a := range []string{"create", "status", "progress", "good-practice"} {
		keys = append(keys, "done.action."+a)
	}
	keys = append(keys, "cl.done.import", "cl.done.publish")
	for _, k := range checklist.FacilityKinds {
		keys = append(keys, "kind."+string(k))
	}
	for _, k := range []string{"facilities", "items", "sections", "yoy", "persistent", "findings"} {
		keys = append(keys, "rep."+k)
	}
	for _, a := range []string{"planned", "in_progress", "done", "verified", "dropped"} {
		keys = append(keys, "astatus."+a)
	}
	for code := range statusOf {
		if code != checklist.EInternal {
			keys = append(keys, "error."+string(code))
		}
	}
	for _, k := range keys {
		m, ok := consoleMessages[k]
		if !ok {
			t.Errorf("message %q is used but not in consoleMessages", k)
			continue
		}
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language: %q", k, m)
		}
	}
}

// The session rule: revoked, expired, disabled, deleted and role-changed
// sessions are refused; a live one passes.
func TestCheckBrowserSession(t *testing.T) {
	t.Parallel()
	now := time.Now()
	u := checklist.User{ID: "u1", Role: checklist.RoleReviewer}
	live := checklist.BrowserSession{ID: "s", UserID: "u1", Role: checklist.RoleReviewer, ExpiresAt: now.Add(time.Hour)}
	if err := checklist.CheckBrowserSession(live, u, now); err != nil {
		t.Fatalf("live session refused: %v", err)
	}
	revoked, expired := live, live
	revoked.Revoked = true
	expired.ExpiresAt = now
	disabled, admin := u, u
	disabled.Disabled = true
	admin.Role = checklist.RoleAdmin
	for name, tc := range map[string]struct {
		s checklist.BrowserSession
		u checklist.User
	}{
		"Revoked": {revoked, u}, "Expired": {expired, u}, "Disabled": {live, disabled},
		"Deleted": {live, checklist.User{}}, "RoleChanged": {live, admin},
	} {
		if err := checklist.CheckBrowserSession(tc.s, tc.u, now); checklist.ErrorCode(err) != checklist.EUnauthorized {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}
}
