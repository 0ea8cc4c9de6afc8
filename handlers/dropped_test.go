package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/handlers"
	"tenken/storage"
)

// goneStore is the real database with one difference: the calls a
// dropped client interrupts in production — an inspection write, the
// facility lookup that starts an export — say they were reached and then
// wait until the request's client has hung up, so that every run drops at
// the same point, however loaded the machine.
type goneStore struct {
	*storage.DB
	reached chan struct{} // one value each time a call is reached
}

func waitGone(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
}

func (g goneStore) UpdateInspection(ctx context.Context, id string, by checklist.Actor, req checklist.Idempotency, change checklist.InspectionUpdate) (checklist.InspectionWrite, error) {
	g.reached <- struct{}{}
	waitGone(ctx)
	return g.DB.UpdateInspection(ctx, id, by, req, change)
}

func (g goneStore) FindFacility(ctx context.Context, id string) (checklist.Facility, error) {
	g.reached <- struct{}{}
	waitGone(ctx)
	return g.DB.FindFacility(ctx, id)
}

// logLines parses the JSON log lines written to l.
func logLines(l *lockedBuffer) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// dropAfterSending writes a raw HTTP request to addr and closes the
// connection without reading the answer, once the server has reached the
// store (a value on reached): a tablet that lost its network, a browser
// tab closed mid-export.
func dropAfterSending(t *testing.T, addr string, reached <-chan struct{}, method, path, auth string, body any) {
	t.Helper()
	var b []byte
	head := ""
	if body != nil {
		b, _ = json.Marshal(body)
		head = "Content-Type: application/json\r\n"
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: tenken\r\n%s\r\n%sContent-Length: %d\r\n\r\n%s",
		method, path, auth, head, len(b), b)
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s %s did not reach the store in 30 s", method, path)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitAccessLine waits for the access log line of the n-th request.
func waitAccessLines(t *testing.T, log *lockedBuffer, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var access []map[string]any
		for _, l := range logLines(log) {
			if l["msg"] == "request" {
				access = append(access, l)
			}
		}
		if len(access) >= n {
			return access
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d access lines after 15 s, want %d", len(access), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDroppedClients hangs up during a save, a resubmit, an approval and
// an export, through raw sockets on a real listener. The writes finish
// with their follow-ups (report row, audit entry), the export is logged
// as a 499 at info level, and nothing is logged as a server error.
func TestDroppedClients(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	ctx := context.Background()
	id := e.create(t, e.inspector, e.own)
	e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, http.StatusOK)
	e.act(e.inspector, id, "submit", nil).wantStatus(t, http.StatusOK)
	e.act(e.reviewer, id, "return", map[string]any{"comment": "写真を追加してください"}).wantStatus(t, http.StatusOK)

	var logs lockedBuffer
	reached := make(chan struct{}, 1)
	cfg := e.cfg
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	s, err := handlers.NewServer(cfg, goneStore{e.db, reached})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	reportStatus := func() string {
		years, err := e.db.ReportYears(ctx, []int{2026})
		if err != nil {
			t.Fatal(err)
		}
		return string(years[2026].Latest[e.own].Status)
	}
	audited := func(action string) int {
		entries, _, err := e.db.ListAudit(ctx, checklist.AuditQuery{EntityID: id, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range entries {
			if a.Action == action {
				n++
			}
		}
		return n
	}

	// A save: the answer is stored and audited.
	dropAfterSending(t, addr, reached, "PATCH", "/v1/inspections/"+id, e.inspector,
		map[string]any{"base_revision": 4, "answers": map[string]any{"flyers.rack": map[string]any{"value": "yes"}}})
	waitAccessLines(t, &logs, 1)
	if in := e.stored(t, id); in.Revision != 5 || audited("save") != 2 {
		t.Fatalf("after a dropped save: revision %d, %d save audit entries; want 5 and 2", in.Revision, audited("save"))
	}
	// A resubmit: submitted, and the report row says so.
	dropAfterSending(t, addr, reached, "POST", "/v1/inspections/"+id+"/resubmit", e.inspector, nil)
	waitAccessLines(t, &logs, 2)
	if in := e.stored(t, id); in.Status != checklist.StatusSubmitted || reportStatus() != "submitted" || audited("resubmit") != 1 {
		t.Fatalf("after a dropped resubmit: status %s, report row %q, %d audit entries", in.Status, reportStatus(), audited("resubmit"))
	}
	// An approval: approved, and the report row says so.
	dropAfterSending(t, addr, reached, "POST", "/v1/inspections/"+id+"/approve", e.reviewer, nil)
	waitAccessLines(t, &logs, 3)
	if in := e.stored(t, id); in.Status != checklist.StatusApproved || reportStatus() != "approved" || audited("approve") != 1 {
		t.Fatalf("after a dropped approval: status %s, report row %q, %d audit entries", in.Status, reportStatus(), audited("approve"))
	}
	// An export of one facility's plan, dropped before it is computed.
	dropAfterSending(t, addr, reached, "GET", "/v1/reports/plan?fiscal_year=2026&format=xlsx&facility_id="+e.own, e.reviewer, nil)
	access := waitAccessLines(t, &logs, 4)

	if got := access[3]["status"]; got != float64(handlers.StatusClientClosedRequest) {
		t.Errorf("dropped export logged with status %v, want 499", got)
	}
	for _, l := range logLines(&logs) {
		if l["level"] != "INFO" {
			t.Errorf("log line at %v: %v", l["level"], l)
		}
		if st, ok := l["status"].(float64); ok && st >= 500 {
			t.Errorf("access line with a server error: %v", l)
		}
	}
	if n, err := e.db.RepairFollowUps(ctx); err != nil || n != 0 {
		t.Errorf("%d follow-ups were left pending (%v)", n, err)
	}
}
