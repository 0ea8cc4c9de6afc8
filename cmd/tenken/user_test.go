package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// call sends method url with a JSON body (nil for none) and an optional
// bearer token, and returns the status and the decoded JSON body.
func call(t *testing.T, method, url string, body any, token string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(data, &out)
	return res.StatusCode, out
}

// loginAs logs in and returns the access token, failing unless it works.
func loginAs(t *testing.T, base, username, password string) string {
	t.Helper()
	status, body := call(t, "POST", base+"/v1/auth/login", map[string]string{"username": username, "password": password}, "")
	if status != http.StatusOK {
		t.Fatalf("login %s: status %d %v", username, status, body)
	}
	return body["access_token"].(string)
}

// runCmd runs the program with args and returns its stdout.
func runCmd(t *testing.T, vars map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, testEnv(vars), strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), err
}

func TestUserAdd(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	vars := map[string]string{"TENKEN_DATA": data}
	withPassword := map[string]string{"TENKEN_DATA": data, "TENKEN_PASSWORD": "env password 123"}

	out, err := runCmd(t, withPassword, "", "user", "add", "--username", "Boss", "--role", "admin", "--display-name", "局長")
	if err != nil || !strings.Contains(out, "created admin boss") || strings.Contains(out, "password") {
		t.Fatalf("add from env: %v\n%s", err, out)
	}
	out, err = runCmd(t, vars, "stdin password 123\nignored\n", "user", "add", "--username", "rev", "--role", "reviewer", "--password-stdin")
	if err != nil || !strings.Contains(out, "created reviewer rev") {
		t.Fatalf("add from stdin: %v\n%s", err, out)
	}
	out, err = runCmd(t, vars, "", "user", "add", "--username", "gen", "--role", "admin")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil || len(m[1]) < 20 {
		t.Fatalf("add with generated password: %v\n%s", err, out)
	}
	generated := m[1]

	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"ErrDuplicate", withPassword, []string{"--username", "BOSS", "--role", "reviewer"}, "already exists"},
		{"ErrNoRole", withPassword, []string{"--username", "x1x"}, "usage"},
		{"ErrBadRole", withPassword, []string{"--username", "x1x", "--role", "root"}, "role"},
		{"ErrShortPassword", map[string]string{"TENKEN_DATA": data, "TENKEN_PASSWORD": "short"}, []string{"--username", "x1x", "--role", "admin"}, "password"},
		{"ErrInspectorUnknownFacility", withPassword, []string{"--username", "x1x", "--role", "inspector", "--facilities", "NOPE"}, "facility_ids[0]"},
		{"ErrInspectorNoFacility", withPassword, []string{"--username", "x1x", "--role", "inspector"}, "facility_ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, tc.vars, "", append([]string{"user", "add"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := runCmd(t, withPassword, "", "user", "nonsense"); err == nil {
		t.Fatal("user accepted an unknown subcommand")
	}

	// The users can log in to the server on the same data folder.
	base, _, _ := startServe(t, vars)
	var me map[string]any
	_, me = call(t, "GET", base+"/v1/me", nil, loginAs(t, base, "boss", "env password 123"))
	if me["role"] != "admin" || me["display_name"] != "局長" {
		t.Fatalf("me = %v", me)
	}
	loginAs(t, base, "rev", "stdin password 123")
	loginAs(t, base, "gen", generated)
	if status, _ := call(t, "POST", base+"/v1/auth/login", map[string]string{"username": "x1x", "password": "env password 123"}, ""); status != http.StatusUnauthorized {
		t.Fatalf("a refused user add left a user behind: login status %d", status)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		data := t.TempDir()
		vars := map[string]string{"TENKEN_DATA": data, "TENKEN_DEMO_PASSWORD": "demo-password-123"}
		base, stdout, stop := serveBinary(t, vars, "--demo")
		if !strings.Contains(stdout.String(), "demo users: admin, reviewer, inspector1, inspector2") || strings.Contains(stdout.String(), "demo password:") {
			t.Fatalf("stdout: %s", stdout.String())
		}
		codes := func(token string) string {
			t.Helper()
			status, body := call(t, "GET", base+"/v1/facilities", nil, token)
			if status != http.StatusOK {
				t.Fatalf("list facilities: %d %v", status, body)
			}
			var s []string
			for _, f := range body["items"].([]any) {
				s = append(s, f.(map[string]any)["code"].(string))
			}
			sort.Strings(s)
			return strings.Join(s, " ")
		}
		if got := codes(loginAs(t, base, "reviewer", "demo-password-123")); strings.Count(got, " ") != 5 {
			t.Fatalf("reviewer sees %q, want 6 facilities", got)
		}
		if got := codes(loginAs(t, base, "inspector1", "demo-password-123")); got != "VT-JONAN VT-TAMA" {
			t.Fatalf("inspector1 sees %q", got)
		}
		if got := codes(loginAs(t, base, "inspector2", "demo-password-123")); got != "BS-AKIHABARA LC-IIDABASHI" {
			t.Fatalf("inspector2 sees %q", got)
		}
		admin := loginAs(t, base, "admin", "demo-password-123")
		if err := stop(); err != nil {
			t.Fatal(err)
		}

		// A restart with --demo changes nothing, and the keys survive it:
		// the access token of the first run still works.
		vars["TENKEN_DEMO_PASSWORD"] = "another-password-456"
		base2, stdout2, _ := serveBinary(t, vars, "--demo")
		base = base2
		if strings.Contains(stdout2.String(), "demo users") {
			t.Fatalf("second start seeded again: %s", stdout2.String())
		}
		if status, _ := call(t, "GET", base+"/v1/users", nil, admin); status != http.StatusOK {
			t.Fatalf("the first run's access token after a restart: %d", status)
		}
		loginAs(t, base, "admin", "demo-password-123")
		if got := codes(admin); strings.Count(got, " ") != 5 {
			t.Fatalf("after restart: %q", got)
		}
	})
	t.Run("GeneratedPassword", func(t *testing.T) {
		base, stdout, _ := serveBinary(t, map[string]string{"TENKEN_DATA": t.TempDir()}, "--demo")
		m := regexp.MustCompile(`demo password: (\S+)`).FindStringSubmatch(stdout.String())
		if m == nil {
			t.Fatalf("no password printed: %s", stdout.String())
		}
		loginAs(t, base, "inspector2", m[1])
	})
	t.Run("ErrShortPassword", func(t *testing.T) {
		_, err := runCmd(t, map[string]string{"TENKEN_DATA": t.TempDir(), "TENKEN_DEMO_PASSWORD": "demo"}, "", "serve", "--addr", "127.0.0.1:0", "--demo")
		if err == nil || !strings.Contains(err.Error(), "TENKEN_DEMO_PASSWORD") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSigningKeys(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	vars := map[string]string{"TENKEN_DATA": data, "TENKEN_PASSWORD": "env password 123"}
	if _, err := runCmd(t, vars, "", "user", "add", "--username", "boss", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	base, _, stop := startServe(t, vars)
	oldToken := loginAs(t, base, "boss", "env password 123")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "keys", "*.pem"))
	if len(files) != 1 {
		t.Fatalf("key files %v, want one generated", files)
	}
	fi, err := os.Stat(files[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if di, _ := os.Stat(filepath.Join(data, "keys")); di.Mode().Perm() != 0o700 {
		t.Fatalf("key folder mode %v, want 0700", di.Mode().Perm())
	}

	out, err := runCmd(t, vars, "", "keys", "rotate")
	if err != nil || !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	base, _, _ = startServe(t, vars)
	if status, _ := call(t, "GET", base+"/v1/me", nil, oldToken); status != http.StatusOK {
		t.Fatalf("a token of the old key after rotation: %d", status)
	}
	newToken := loginAs(t, base, "boss", "env password 123")
	if kid(t, newToken) == kid(t, oldToken) {
		t.Fatal("the new key does not sign after rotation")
	}

	t.Run("ErrBadKeyFile", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "keys", "bad.pem"), []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := runCmd(t, map[string]string{"TENKEN_DATA": dir}, "", "serve", "--addr", "127.0.0.1:0")
		if err == nil || !strings.Contains(err.Error(), "bad.pem") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrBadTTL", func(t *testing.T) {
		_, err := runCmd(t, map[string]string{"TENKEN_DATA": t.TempDir(), "TENKEN_ACCESS_TTL": "ten minutes"}, "", "serve", "--addr", "127.0.0.1:0")
		if err == nil || !strings.Contains(err.Error(), "TENKEN_ACCESS_TTL") {
			t.Fatalf("err = %v", err)
		}
	})
}

// kid returns the kid header of a JWT.
func kid(t *testing.T, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Kid == "" {
		t.Fatalf("header %s: %v", b, err)
	}
	return h.Kid
}
