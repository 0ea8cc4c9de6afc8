package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/handlers"
)

// TestManyDroppedClients: 500 clients hang up mid-request — half after
// sending a whole request (saves, approvals, exports), half in the middle
// of a save's body — against the real router and database. Nothing is
// logged as an error, no access line is a 5xx, every approved inspection's
// report row says approved, no follow-up is left pending, and /readyz
// stays 200 throughout.
func TestManyDroppedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("500 connections")
	}
	e := newInspectionEnv(t)
	ctx := context.Background()
	const n, clients = 10, 500
	var drafts, submitted []string
	for range n {
		drafts = append(drafts, e.create(t, e.inspector, e.own))
		id := e.create(t, e.inspector, e.own)
		e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, http.StatusOK)
		e.act(e.inspector, id, "submit", nil).wantStatus(t, http.StatusOK)
		submitted = append(submitted, id)
	}

	var logs lockedBuffer
	cfg := e.cfg
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	s, err := handlers.NewServer(cfg, e.db)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	ready := make(chan int, 1)
	stop := make(chan struct{})
	go func() { // /readyz is asked all along; the worst answer is kept
		worst := http.StatusOK
		for {
			select {
			case <-stop:
				ready <- worst
				return
			case <-time.After(50 * time.Millisecond):
			}
			res, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				worst = 0
				continue
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				worst = res.StatusCode
			}
		}
	}()

	save := func(i int) []byte {
		b, _ := json.Marshal(map[string]any{"base_revision": 1, "answers": map[string]any{
			"flyers.rack": map[string]any{"value": "no", "comment": fmt.Sprintf("client %d", i)}}})
		return b
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range clients {
		var method, path, auth string
		var body []byte
		midBody := i%2 == 1
		switch {
		case midBody:
			method, path, auth, body = "PATCH", "/v1/inspections/"+drafts[i%n], e.inspector, save(i)
		case i%6 == 0:
			method, path, auth, body = "PATCH", "/v1/inspections/"+drafts[i%n], e.inspector, save(i)
		case i%6 == 2:
			method, path, auth = "POST", "/v1/inspections/"+submitted[i%n]+"/approve", e.reviewer
		default:
			method, path, auth = "GET", "/v1/reports/plan?fiscal_year=2026&format=xlsx", e.reviewer
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: tenken\r\n%s\r\n", method, path, auth)
			if body != nil {
				head += fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
			}
			head += "\r\n"
			sent := body
			if midBody {
				sent = body[:len(body)/2]
			}
			if _, err := conn.Write(append([]byte(head), sent...)); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Duration(i%40) * 5 * time.Millisecond) // drops at every stage
		}()
	}
	wg.Wait()
	access := waitAccessLines(t, &logs, clients)
	close(stop)
	if worst := <-ready; worst != http.StatusOK {
		t.Errorf("/readyz answered %d during the drops", worst)
	}

	for _, l := range logLines(&logs) {
		if lvl := l["level"]; lvl == "ERROR" {
			t.Errorf("an error logged for a dropped client: %v", l)
		}
	}
	for _, l := range access {
		if st, _ := l["status"].(float64); st >= 500 && st != handlers.StatusClientClosedRequest {
			t.Errorf("a dropped client logged as a server error: %v", l)
		}
	}
	years, err := e.db.ReportYears(ctx, []int{2026})
	if err != nil {
		t.Fatal(err)
	}
	// The report shows the facility's latest counted inspection (by date,
	// then last change, then the larger id: checklist.ReportInspection.Later;
	// concurrent approvals often share a millisecond): its row must carry
	// that inspection's stored status, which a dropped approval left stale
	// before.
	approved := 0
	var latest *checklist.Inspection
	for _, id := range submitted {
		in := e.stored(t, id)
		if in.Status == checklist.StatusApproved {
			approved++
		}
		if latest == nil || in.Updated.At.After(latest.Updated.At) ||
			in.Updated.At.Equal(latest.Updated.At) && in.ID > latest.ID {
			latest = in
		}
	}
	if approved == 0 {
		t.Error("no approval went through: the test dropped them all before they started")
	}
	if row := years[2026].Latest[e.own]; row.ID != latest.ID || row.Status != latest.Status {
		t.Errorf("report row: %s %s; the latest inspection is %s %s", row.ID, row.Status, latest.ID, latest.Status)
	}
	if pending, err := e.db.RepairFollowUps(ctx); err != nil || pending != 0 {
		t.Errorf("%d follow-ups left pending (%v)", pending, err)
	}
	statuses := map[string]int{}
	for _, l := range access {
		statuses[fmt.Sprintf("%v %v", l["method"], l["status"])]++
	}
	t.Logf("%d clients dropped; %d of %d submitted inspections approved; access log: %v", clients, approved, n, statuses)
}
