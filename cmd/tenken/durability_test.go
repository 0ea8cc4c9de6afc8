package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const e2ePassword = "e2e-demo-password"

// e2eLogin logs in as username with the demo password and returns the
// Authorization header value.
func e2eLogin(t *testing.T, base, username string) string {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, username, e2ePassword)
	res, err := http.Post(base+"/v1/auth/login", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tk); err != nil || res.StatusCode != 200 {
		t.Fatalf("login %s: %d %v", username, res.StatusCode, err)
	}
	return "Bearer " + tk.AccessToken
}

// TestBinarySIGTERMKeepsAcknowledgedWrites sends SIGTERM to the binary in
// the middle of a burst of writes, restarts it on the same data folder and
// finds every write that was answered 2xx.
func TestBinarySIGTERMKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := []string{"TENKEN_DEMO_PASSWORD=" + e2ePassword}
	base, cmd := startBinary(t, data, env, "--demo")
	auth := e2eLogin(t, base, "admin")

	var (
		mu    sync.Mutex
		acked []string
		seq   atomic.Int64
		wg    sync.WaitGroup
		stop  atomic.Bool
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for !stop.Load() {
				code := fmt.Sprintf("SIG-%d-%d", w, seq.Add(1))
				body := fmt.Sprintf(`{"code":%q,"kind":"public_hall","name":{"ja":"会館 %s","en":"Hall"}}`, code, code)
				req, _ := http.NewRequest("POST", base+"/v1/facilities", bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", auth)
				res, err := client.Do(req)
				if err != nil {
					continue // the server is going away: not acknowledged
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode/100 == 2 {
					mu.Lock()
					acked = append(acked, code)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20 s of SIGTERM")
	}
	stop.Store(true)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged before SIGTERM: the burst did not run", len(acked))
	}

	base, _ = startBinary(t, data, env, "--demo")
	auth = e2eLogin(t, base, "admin")
	stored := map[string]bool{}
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", base+"/v1/facilities?limit=200&cursor="+url.QueryEscape(cursor), nil)
		req.Header.Set("Authorization", auth)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
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
			t.Errorf("acknowledged facility %s is gone after restart", code)
		}
	}
	t.Logf("%d writes acknowledged before SIGTERM, all present after restart", len(acked))
}
