package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/storage"
)

// apiClient is a logged-in client of the running binary.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (c *apiClient) do(method, path string, body any, headers ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

func newAPIClient(t *testing.T, base, username, password string) *apiClient {
	t.Helper()
	return &apiClient{base: base, token: loginAs(t, base, username, password), http: &http.Client{Timeout: 10 * time.Second}}
}

// TestKillDuringSaves kills the server with SIGKILL while tablets save,
// restarts it on the same data folder, and checks that every save that
// got a 2xx is there, and that the audit trail catches up.
func TestKillDuringSaves(t *testing.T) {
	t.Parallel()
	const password = "crash-test-password-1"
	env := []string{"TENKEN_DEMO_PASSWORD=" + password, "TENKEN_LOG_LEVEL=warn"}
	data := t.TempDir()
	base, cmd := startBinary(t, data, env, "--demo")

	c := newAPIClient(t, base, "inspector1", password)
	_, body, _ := c.do("GET", "/v1/me", nil)
	var me struct {
		FacilityIDs []string `json:"facility_ids"`
	}
	if json.Unmarshal(body, &me) != nil || len(me.FacilityIDs) == 0 {
		t.Fatalf("/v1/me: %s", body)
	}
	id := uuid.NewString()
	status, body, err := c.do("PUT", "/v1/inspections/"+id, map[string]any{"facility_id": me.FacilityIDs[0],
		"checklist_id": storage.DefaultChecklistID, "version": 1, "inspection_date": checklist.DateOf(time.Now()).String()})
	if err != nil || status != 201 {
		t.Fatalf("create: %d %s %v", status, body, err)
	}

	// Yes/no items no show-if touches, shared out among the writers.
	var items []string
	var textItem string
	targets := map[string]bool{}
	content := checklistfile.Default()
	for _, it := range content.Items() {
		if it.ShowIf != nil {
			targets[it.ShowIf.Item] = true
		}
	}
	for _, it := range content.Items() {
		if it.Type == checklist.TypeYesNo && it.ShowIf == nil && !targets[it.Key] {
			items = append(items, it.Key)
		}
		if it.Type == checklist.TypeText && it.ShowIf == nil && textItem == "" {
			textItem = it.Key
		}
	}
	// Each writer owns its items, so per item the attempts are in order.
	type attempt struct {
		value    string
		acked    bool
		revision int64
	}
	var mu sync.Mutex
	attempts := map[string][]attempt{}
	const writers = 4
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			base := int64(1)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				item := items[(w+n*writers)%len(items)]
				mu.Lock()
				value := []string{"yes", "no"}[len(attempts[item])%2] // every save changes its item
				attempts[item] = append(attempts[item], attempt{value: value})
				i := len(attempts[item]) - 1
				mu.Unlock()
				status, body, err := c.do("PATCH", "/v1/inspections/"+id,
					map[string]any{"base_revision": base, "answers": map[string]any{item: map[string]any{"value": value}}},
					"Idempotency-Key", uuid.NewString())
				if err != nil {
					return // the server is gone
				}
				var v struct {
					Revision int64 `json:"revision"`
					Current  struct {
						Revision int64 `json:"revision"`
					} `json:"current"`
				}
				_ = json.Unmarshal(body, &v)
				switch status {
				case 200:
					mu.Lock()
					attempts[item][i].acked, attempts[item][i].revision = true, v.Revision
					mu.Unlock()
					base = v.Revision
				case 409:
					base = v.Current.Revision
				default:
					t.Errorf("save: %d %s", status, body)
					return
				}
			}
		})
	}
	time.Sleep(3 * time.Second)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	wg.Wait()
	acked := 0
	for _, list := range attempts {
		for _, a := range list {
			if a.acked {
				acked++
			}
		}
	}
	if acked == 0 {
		t.Fatal("no save was acknowledged before the kill")
	}

	base, _ = startBinary(t, data, env)
	c = newAPIClient(t, base, "inspector1", password)
	status, body, err = c.do("GET", "/v1/inspections/"+id, nil)
	if err != nil || status != 200 {
		t.Fatalf("read after restart: %d %s %v", status, body, err)
	}
	var got struct {
		Revision int64 `json:"revision"`
		Answers  map[string]struct {
			Value any `json:"value"`
		} `json:"answers"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	// The stored value of an item is its last acknowledged one, or one
	// written after it whose answer the kill cut off.
	var maxRev int64
	for item, list := range attempts {
		last := -1
		for i, a := range list {
			if a.acked {
				last = i
				maxRev = max(maxRev, a.revision)
			}
		}
		if last < 0 {
			continue
		}
		stored := fmt.Sprint(got.Answers[item].Value)
		ok := false
		for _, a := range list[last:] {
			ok = ok || a.value == stored
		}
		if !ok {
			t.Errorf("%s = %s after the restart; %s was acknowledged at revision %d", item, stored, list[last].value, list[last].revision)
		}
	}
	if got.Revision < maxRev {
		t.Fatalf("revision %d after the restart, but %d was acknowledged", got.Revision, maxRev)
	}
	t.Logf("%d saves acknowledged up to revision %d before SIGKILL; stored revision %d", acked, maxRev, got.Revision)

	// One more write, then the audit trail has one entry per revision,
	// including the one whose copy the kill may have cut off.
	status, body, _ = c.do("PATCH", "/v1/inspections/"+id, map[string]any{"base_revision": got.Revision,
		"answers": map[string]any{textItem: map[string]any{"value": "再起動後の保存"}}})
	var after struct {
		Revision int64 `json:"revision"`
	}
	if status != 200 || json.Unmarshal(body, &after) != nil || after.Revision != got.Revision+1 {
		t.Fatalf("save after restart: %d %s", status, body)
	}
	admin := newAPIClient(t, base, "admin", password)
	entries := 0
	cursor := ""
	for {
		_, body, _ = admin.do("GET", "/v1/audit?limit=200&entity_id="+id+cursor, nil)
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("audit: %s", body)
		}
		entries += len(page.Items)
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *page.NextCursor
	}
	if want := int(after.Revision); entries != want {
		t.Fatalf("%d audit entries for %d revisions", entries, want)
	}
}
