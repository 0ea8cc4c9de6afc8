package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/auth/authtest"
	"tenken/storage/storagetest"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv returns a getenv over vars only: tests never see the real
// environment, except MONGODB_URI when the suite runs against a server.
func testEnv(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return ""
	}
}

// startServe runs `tenken serve` in-process on a free port and returns its
// base URL and a stop function that waits for run to return.
func startServe(t *testing.T, vars map[string]string, args ...string) (base string, stdout *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), testEnv(vars), strings.NewReader(""), stdout, stderr)
	}()
	deadline := time.Now().Add(120 * time.Second) // --demo seeds inspections first, in-process under -race
	for time.Now().Before(deadline) {
		if _, after, ok := strings.Cut(stdout.String(), "tenken listening on "); ok {
			base = strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\nstderr: %s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not start; stderr: %s", stderr.String())
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return base, stdout, stop
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func TestServe(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		data := t.TempDir()
		base, _, stop := startServe(t, map[string]string{"TENKEN_DATA": data})
		if got := getStatus(t, base+"/readyz"); got != http.StatusOK {
			t.Fatalf("/readyz = %d, want 200", got)
		}
		if err := stop(); err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
		if _, err := os.Stat(filepath.Join(data, "db")); err != nil {
			t.Fatalf("embedded database folder: %v", err)
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		base, stdout, _ := startServe(t, map[string]string{"TENKEN_DATA": t.TempDir()}, "--metrics-addr", "127.0.0.1:0")
		if got := getStatus(t, base+"/healthz"); got != http.StatusOK {
			t.Fatalf("/healthz = %d", got)
		}
		var metrics string
		for deadline := time.Now().Add(10 * time.Second); metrics == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, after, ok := strings.Cut(stdout.String(), "tenken metrics on "); ok {
				metrics = strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
			}
		}
		if metrics == "" || strings.HasPrefix(metrics, base) {
			t.Fatalf("metrics at %q, want a listener apart from the API's %s", metrics, base)
		}
		resp, err := http.Get(metrics)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `tenken_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
			t.Errorf("metrics do not count the /healthz request:\n%.2000s", body)
		}
		if !strings.Contains(string(body), `tenken_database_command_duration_seconds_count{command="find",outcome="ok"}`) {
			t.Errorf("metrics do not time the database commands:\n%.2000s", body)
		}
		if got := getStatus(t, base+"/metrics"); got != http.StatusNotFound {
			t.Errorf("the API answers /metrics with %d, want 404", got)
		}
	})
	t.Run("SecureCookies", func(t *testing.T) {
		// Behind a TLS proxy serve itself speaks plain HTTP: the flag is
		// what marks the console's cookies Secure.
		for _, secure := range []bool{false, true} {
			args := []string{}
			if secure {
				args = append(args, "--secure-cookies")
			}
			base, _, _ := startServe(t, map[string]string{"TENKEN_DATA": t.TempDir()}, args...)
			resp, err := http.Get(base + "/console/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cookies := resp.Cookies()
			if len(cookies) == 0 {
				t.Fatalf("GET /console/login set no cookie (%d)", resp.StatusCode)
			}
			for _, c := range cookies {
				if c.Secure != secure {
					t.Errorf("--secure-cookies=%v: cookie %s Secure=%v", secure, c.Name, c.Secure)
				}
			}
		}
	})
	t.Run("ErrUnknownCommand", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"nonsense"}, testEnv(nil), strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrBadFlag", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"serve", "--no-such-flag"}, testEnv(nil), strings.NewReader(""), &out, &out)
		if err == nil {
			t.Fatal("serve accepted an unknown flag")
		}
	})
	t.Run("ErrDatabaseUnreachable", func(t *testing.T) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"},
			testEnv(map[string]string{"TENKEN_DATA": t.TempDir(), "MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"}),
			strings.NewReader(""), &out, &out)
		if err == nil {
			t.Fatal("serve started without a database")
		}
	})
}

// TestMain stops the shared test database when the tests end, so a run
// leaves nothing in the temporary directory.
func TestMain(m *testing.M) {
	// The in-process serves create users and log in under the race
	// detector; the built binary (startBinary) keeps the production cost.
	authtest.LowerPasswordCost()
	os.Exit(storagetest.Main(m))
}

// startBinary starts the built binary with `serve` on a free port and
// returns its base URL and the running command.
func startBinary(t *testing.T, data string, extraEnv []string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	env := extraEnv
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		env = append(env, "MONGODB_URI="+uri, "TENKEN_DATABASE=e2e_"+filepath.Base(data))
	}
	base, _, cmd := launchBinary(t, env, append([]string{"--data", data}, args...)...)
	return base, cmd
}

// serveBinary is startServe with the built binary: `tenken serve` with
// vars as its whole environment (besides PATH and HOME), in a process of
// its own and without the race detector, for the tests that seed the demo
// bureau (seeding under the race detector is most of their time). stop
// sends SIGTERM and returns the exit's error.
func serveBinary(t *testing.T, vars map[string]string, args ...string) (base string, stdout *syncBuffer, stop func() error) {
	t.Helper()
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	base, stdout, cmd := launchBinary(t, env, args...)
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			if err = cmd.Process.Signal(syscall.SIGTERM); err != nil {
				return
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = fmt.Errorf("serve did not exit within 30 s of SIGTERM")
			}
		})
		return err
	}
	return base, stdout, stop
}

// launchBinary starts the built binary's `serve` on a free port with env
// (besides PATH and HOME) and returns its base URL, its standard output so
// far and on, and the running command, killed when t ends.
func launchBinary(t *testing.T, env []string, args ...string) (string, *syncBuffer, *exec.Cmd) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := storagetest.Binary()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			_, _ = fmt.Fprintln(stdout, sc.Text())
			if after, found := strings.CutPrefix(sc.Text(), "tenken listening on "); found {
				listening <- after
			}
		}
		close(listening)
	}()
	select {
	case base, ok := <-listening:
		if ok {
			return base, stdout, cmd
		}
		t.Fatalf("binary exited before listening; stderr: %s", stderr.String())
	case <-time.After(120 * time.Second): // --demo seeds inspections first
		t.Fatalf("binary did not start; stderr: %s", stderr.String())
	}
	return "", nil, nil // not reached: t.Fatalf ends the test
}

func TestBinary(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	base, cmd := startBinary(t, data, nil)
	if got := getStatus(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d", got)
	}
	if got := getStatus(t, base+"/docs"); got != http.StatusOK {
		t.Fatalf("/docs = %d", got)
	}
	// SIGTERM: a clean, prompt exit.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("binary did not exit within 15 s of SIGTERM")
	}
}

// TestServePhotosGridFS: --photos gridfs (or TENKEN_PHOTOS) keeps photos
// in the database's GridFS bucket, and only on a MongoDB named by
// MONGODB_URI: the embedded database keeps them on disk.
func TestServePhotosGridFS(t *testing.T) {
	t.Parallel()
	t.Run("ErrNoMongoDBURI", func(t *testing.T) {
		for _, how := range []struct {
			args []string
			vars map[string]string
		}{
			{[]string{"--photos", "gridfs"}, map[string]string{}},
			{nil, map[string]string{"TENKEN_PHOTOS": "gridfs"}},
		} {
			data := t.TempDir()
			how.vars["TENKEN_DATA"] = data
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, how.args...), testEnv(how.vars), strings.NewReader(""), &out, &out)
			if err == nil || !strings.Contains(err.Error(), "--photos gridfs needs MONGODB_URI") || !strings.Contains(err.Error(), "embedded database") {
				t.Fatalf("serve %v %v: err = %v, want a refusal naming MONGODB_URI", how.args, how.vars, err)
			}
			if _, err := os.Stat(filepath.Join(data, "db")); err == nil {
				t.Fatalf("the refused serve started the embedded database")
			}
		}
	})
	t.Run("ErrUnknownStore", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"serve", "--photos", "s3"}, testEnv(map[string]string{"TENKEN_DATA": t.TempDir()}), strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "want disk or gridfs") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		// MONGODB_URI is the test server (embedded, or CI's tenken db):
		// GridFS is plain CRUD on two collections, so it runs there too.
		uri, name, data := storagetest.URI(t), storagetest.NewName(), t.TempDir()
		client := connect(t, uri)
		t.Cleanup(func() { _ = client.Database(name).Drop(context.Background()) })
		vars := map[string]string{"MONGODB_URI": uri, "TENKEN_DATABASE": name, "TENKEN_DATA": data,
			"TENKEN_DEMO_PASSWORD": "demo-password-123", "TENKEN_LOG_LEVEL": "error"}
		base, _, stop := serveBinary(t, vars, "--photos", "gridfs", "--demo")

		// The demo photos are in GridFS, none on disk.
		files := client.Database(name).Collection("photos.files")
		n, err := files.CountDocuments(context.Background(), bson.D{})
		if err != nil || n == 0 {
			t.Fatalf("%d photos in GridFS (%v), want the demo's", n, err)
		}
		if _, err := os.Stat(filepath.Join(data, "blobs", "sha256")); err == nil {
			t.Fatalf("photos were written to the data folder")
		}
		var doc struct {
			ID string `bson:"_id"`
		}
		if err := files.FindOne(context.Background(), bson.D{}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		token := loginAs(t, base, "reviewer", "demo-password-123")
		req, _ := http.NewRequest("GET", base+"/v1/photos/"+doc.ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		sum := sha256.Sum256(body)
		if res.StatusCode != http.StatusOK || hex.EncodeToString(sum[:]) != doc.ID || res.Header.Get("ETag") != `"`+doc.ID+`"` {
			t.Fatalf("download: %d, %d bytes, ETag %s", res.StatusCode, len(body), res.Header.Get("ETag"))
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}

		// A backup holds them, and says so.
		out, _, err := runTenken(t, context.Background(), vars, "backup", "--data", data, "--database", name, filepath.Join(t.TempDir(), "b.tar.gz"))
		if err != nil || !strings.Contains(out, fmt.Sprintf("%d photos in GridFS", n)) {
			t.Fatalf("backup: %v\n%s", err, out)
		}
	})
}
