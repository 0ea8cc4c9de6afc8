package main

// Faults, injected into the built binary from outside: kill -9 in the
// middle of a stream of saves, the database going away and coming back
// under load, and a data folder the server may not write.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/storage"
	"tenken/storage/embedded"

	"tenken/storage/storagetest"
)

// publishDefaultChecklist publishes the bundled checklist as
// service-quality v1 into the embedded database of data, before any
// server runs there.
func publishDefaultChecklist(t *testing.T, data string) {
	t.Helper()
	e, err := embedded.Start(data, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, e.URI(), "tenken", embedded.Adapt())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	c, err := checklistfile.Decode(bytes.NewReader(checklistfile.DefaultYAML()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := checklist.Publish("service-quality", c, 1, time.Now(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutChecklistVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
}

// apiCall sends a JSON request and decodes a 2xx answer into out.
func apiCall(client *http.Client, method, url, auth string, body, out any) (int, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return res.StatusCode, res.Header, err
		}
	}
	return res.StatusCode, res.Header, nil
}

// facilityOf returns the id of the facility with code.
func facilityOf(t *testing.T, base, auth, code string) string {
	t.Helper()
	var page struct {
		Items []struct{ ID, Code string } `json:"items"`
	}
	if _, _, err := apiCall(http.DefaultClient, "GET", base+"/v1/facilities?q="+code, auth, nil, &page); err != nil || len(page.Items) == 0 {
		t.Fatalf("facility %s: %v %+v", code, err, page)
	}
	return page.Items[0].ID
}

// TestBinarySIGKILLKeepsAcknowledgedSaves kills the binary with SIGKILL
// while tablets save answers, restarts it on the same data folder and
// finds, for every inspection, the last acknowledged save or a later one.
func TestBinarySIGKILLKeepsAcknowledgedSaves(t *testing.T) {
	t.Parallel()
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("kills the embedded database's process; runs with the embedded default")
	}
	data := t.TempDir()
	publishDefaultChecklist(t, data)
	env := []string{"TENKEN_DEMO_PASSWORD=" + e2ePassword}
	base, cmd := startBinary(t, data, env, "--demo")
	auth := e2eLogin(t, base, "inspector1")
	facility := facilityOf(t, base, auth, "VT-JONAN")

	const writers = 6
	items := []string{"signage.exterior_sign", "signage.floor_directory", "signage.counter_names"}
	ids := make([]string, writers)
	acked := make([]atomic.Int64, writers) // the last save acknowledged, per inspection
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range writers {
		ids[w] = uuid.NewString()
		body := map[string]any{"facility_id": facility, "checklist_id": "service-quality", "version": 1, "inspection_date": "2026-06-01"}
		if code, _, err := apiCall(client, "PUT", base+"/v1/inspections/"+ids[w], auth, body, nil); err != nil || code != 201 {
			t.Fatalf("create inspection: %d %v", code, err)
		}
	}
	var (
		wg   sync.WaitGroup
		stop atomic.Bool
	)
	for w := range writers {
		wg.Go(func() {
			revision := int64(1)
			for n := int64(1); !stop.Load(); n++ {
				answers := map[string]any{}
				for _, it := range items {
					answers[it] = map[string]any{"value": "yes", "comment": fmt.Sprintf("save %d", n)}
				}
				var in struct {
					Revision int64 `json:"revision"`
				}
				code, _, err := apiCall(client, "PATCH", base+"/v1/inspections/"+ids[w], auth, map[string]any{"base_revision": revision, "answers": answers}, &in)
				if err != nil || code != 200 {
					return // the server is gone: this save was not acknowledged
				}
				revision = in.Revision
				acked[w].Store(n)
			}
		})
	}
	time.Sleep(2 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	stop.Store(true)
	wg.Wait()

	base, _ = startBinary(t, data, env, "--demo")
	auth = e2eLogin(t, base, "inspector1")
	total := int64(0)
	for w := range writers {
		var in struct {
			Answers map[string]struct {
				Comment string `json:"comment"`
			} `json:"answers"`
		}
		if code, _, err := apiCall(client, "GET", base+"/v1/inspections/"+ids[w], auth, nil, &in); err != nil || code != 200 {
			t.Fatalf("read inspection after restart: %d %v", code, err)
		}
		want := acked[w].Load()
		total += want
		for _, it := range items {
			got, _ := strconv.ParseInt(strings.TrimPrefix(in.Answers[it].Comment, "save "), 10, 64)
			if got < want {
				t.Errorf("inspection %d item %s holds save %d after restart; save %d was acknowledged", w, it, got, want)
			}
		}
	}
	if total < writers {
		t.Fatalf("only %d saves acknowledged before SIGKILL: the stream did not run", total)
	}
	t.Logf("%d saves acknowledged before SIGKILL, each present after restart", total)
}

// freePort returns a loopback port nothing listens on now, below the
// kernel's ephemeral range (32768 and up on Linux): the servers other
// tests start on port 0, and every outgoing connection, take theirs from
// that range, so none of them takes this one before the caller listens on
// it. A walk-through that found another test's server there logged in
// with the wrong password.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free loopback port in 20000–31999")
	return 0
}

// startDBBinary runs `tenken db` over dir on port as its own process and
// waits until it accepts connections.
func startDBBinary(t *testing.T, dir string, port int) *exec.Cmd {
	t.Helper()
	bin, err := storagetest.Binary()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	cmd := exec.Command(bin, "db", "--data", dir, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TENKEN_LOG_LEVEL=error"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out)
	if err != nil {
		t.Fatalf("tenken db printed no connection string: %v; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(line, strconv.Itoa(port)) {
		t.Fatalf("tenken db listens at %s, want port %d", line, port)
	}
	return cmd
}

// TestDatabaseLostAndRestored runs serve against a separate `tenken db`,
// kills the database under write load and starts it again on the same
// port: while it is gone the API answers 503 with Retry-After (never a
// hang, never a 500), and when it is back the same serve process recovers
// by itself, with every acknowledged write present.
func TestDatabaseLostAndRestored(t *testing.T) {
	t.Parallel()
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("runs its own database process")
	}
	dbDir, data := t.TempDir(), t.TempDir()
	port := freePort(t)
	db := startDBBinary(t, dbDir, port)
	uri := fmt.Sprintf("mongodb://127.0.0.1:%d/", port)
	env := []string{"TENKEN_DEMO_PASSWORD=" + e2ePassword, "MONGODB_URI=" + uri}
	base, _ := startBinary(t, data, env, "--demo")
	auth := e2eLogin(t, base, "admin")

	var (
		mu       sync.Mutex
		acked    []string
		statuses = map[int]int{}
		bad      []string
		seq      atomic.Int64
		wg       sync.WaitGroup
		stop     atomic.Bool
		phase    atomic.Int32 // 0 up, 1 down, 2 restarted
		upAgain  atomic.Int64 // 2xx answers after the restart
	)
	client := &http.Client{Timeout: 15 * time.Second}
	for w := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				code := fmt.Sprintf("NET-%d-%d", w, seq.Add(1))
				body := map[string]any{"code": code, "kind": "public_hall", "name": map[string]string{"ja": "会館", "en": "Hall"}}
				start := time.Now()
				status, h, err := apiCall(client, "POST", base+"/v1/facilities", auth, body, nil)
				took := time.Since(start)
				mu.Lock()
				switch {
				case err != nil:
					bad = append(bad, fmt.Sprintf("transport error after %s: %v", took, err))
				case status == 201:
					acked = append(acked, code)
					if phase.Load() == 2 {
						upAgain.Add(1)
					}
				case status == 503 && h.Get("Retry-After") != "":
				default:
					bad = append(bad, fmt.Sprintf("%d (Retry-After %q) after %s", status, h.Get("Retry-After"), took))
				}
				statuses[status]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	time.Sleep(1 * time.Second)
	phase.Store(1)
	if err := db.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = db.Wait()
	time.Sleep(4 * time.Second)
	if code, h, err := apiCall(client, "GET", base+"/readyz", "", nil, nil); err != nil || code != 503 || h.Get("Retry-After") == "" {
		t.Errorf("/readyz with the database gone: %d Retry-After %q %v, want 503 with Retry-After", code, h.Get("Retry-After"), err)
	}
	startDBBinary(t, dbDir, port)
	phase.Store(2)
	deadline := time.Now().Add(30 * time.Second)
	for upAgain.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

	t.Logf("statuses: %v", statuses)
	if statuses[503] == 0 {
		t.Errorf("no 503 while the database was gone")
	}
	if upAgain.Load() < 5 {
		t.Fatalf("serve did not recover within 30 s of the database's return")
	}
	for _, b := range bad {
		t.Errorf("unexpected answer: %s", b)
	}
	if code, _, err := apiCall(client, "GET", base+"/readyz", "", nil, nil); err != nil || code != 200 {
		t.Errorf("/readyz after recovery: %d %v", code, err)
	}
	stored := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Items      []struct{ Code string } `json:"items"`
			NextCursor *string                 `json:"next_cursor"`
		}
		if _, _, err := apiCall(client, "GET", base+"/v1/facilities?limit=200&cursor="+cursor, auth, nil, &page); err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Items {
			stored[f.Code] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	for _, code := range acked {
		if !stored[code] {
			t.Errorf("acknowledged facility %s is gone", code)
		}
	}
}

// TestReadOnlyDataFolder starts serve on a data folder it may not write:
// it refuses to start with an error naming the folder, and the data is
// intact for the next start with the rights restored.
func TestReadOnlyDataFolder(t *testing.T) {
	t.Parallel()
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("about the embedded default's data folder")
	}
	data := t.TempDir()
	env := []string{"TENKEN_DEMO_PASSWORD=" + e2ePassword}
	base, cmd := startBinary(t, data, env, "--demo")
	auth := e2eLogin(t, base, "admin")
	body := map[string]any{"code": "KEEP-1", "kind": "public_hall", "name": map[string]string{"ja": "会館", "en": "Hall"}}
	if code, _, err := apiCall(http.DefaultClient, "POST", base+"/v1/facilities", auth, body, nil); err != nil || code != 201 {
		t.Fatalf("create: %d %v", code, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Take away write permission: folders r-x for everyone, files as
	// they were without w. Root ignores permissions, so as root the
	// server runs as nobody, owning the files but not allowed to write.
	asRoot := os.Geteuid() == 0
	modes := map[string]fs.FileMode{}
	err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		modes[p] = info.Mode().Perm()
		if asRoot {
			// The files belong to nobody, who may read them all.
			if err := os.Lchown(p, 65534, 65534); err != nil {
				return err
			}
		}
		if d.IsDir() {
			return os.Chmod(p, 0o555)
		}
		return os.Chmod(p, info.Mode().Perm()&^0o222)
	})
	if err != nil {
		t.Fatal(err)
	}
	restore := func() {
		for p, m := range modes {
			if asRoot {
				_ = os.Lchown(p, 0, 0)
			}
			_ = os.Chmod(p, m)
		}
	}
	t.Cleanup(restore)
	bin, err := storagetest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	run := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	run.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=/"}, env...)
	if asRoot {
		// The test's own temporary folders are private; open them.
		for dir := filepath.Dir(data); strings.HasPrefix(dir, os.TempDir()+"/"); dir = filepath.Dir(dir) {
			if st, err := os.Stat(dir); err == nil {
				_ = os.Chmod(dir, st.Mode().Perm()|0o005)
			}
		}
		for dir := filepath.Dir(data); dir != "/"; dir = filepath.Dir(dir) {
			if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o005 != 0o005 {
				t.Skipf("%s is not open to other users; cannot run the server as nobody", dir)
			}
		}
		for dir := filepath.Dir(bin); dir != "/"; dir = filepath.Dir(dir) {
			if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(dir, st.Mode().Perm()|0o011)
			}
		}
		run.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	done := make(chan struct{})
	var out []byte
	go func() { out, err = run.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = run.Process.Kill()
		<-done
		t.Fatalf("serve on a read-only data folder neither started nor gave up in 30 s: %s", out)
	}
	if err == nil {
		t.Fatalf("serve on a read-only data folder exited 0: %s", out)
	}
	t.Logf("serve refused the read-only folder: %s", strings.TrimSpace(string(out)))
	msg := strings.ToLower(string(out))
	if !strings.Contains(msg, "permission denied") && !strings.Contains(msg, "read-only") {
		t.Errorf("the error does not say the folder cannot be written: %s", out)
	}
	if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine ") {
		t.Errorf("serve crashed instead of refusing: %s", out)
	}

	restore()
	base, _ = startBinary(t, data, env, "--demo")
	auth = e2eLogin(t, base, "admin")
	facilityOf(t, base, auth, "KEEP-1")
}
