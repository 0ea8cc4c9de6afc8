package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestAppendJSONString: strings are encoded as encoding/json reads them
// back, whatever bytes they hold.
func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `quote " and \ back`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "日本語", "bad \xff utf-8", "</script>"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q: %s is not JSON: %v", s, b, err)
			continue
		}
		want := s
		if s == "bad \xff utf-8" {
			want = "bad \ufffd utf-8"
		}
		if got != want {
			t.Errorf("%q: read back %q", s, got)
		}
	}
}

// TestAppendStamp: the access line's time is what time.Format writes,
// within one second, across seconds and zones, and before 1970.
func TestAppendStamp(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	base := time.Date(2026, 12, 5, 23, 59, 59, 0, time.UTC)
	for _, at := range []time.Time{
		base, base.Add(7 * time.Millisecond), base.Add(999 * time.Millisecond), base.Add(time.Second),
		base.Add(time.Second).In(tokyo), base.Add(time.Second + 42*time.Millisecond).In(tokyo),
		base.Add(time.Second + 42*time.Millisecond), time.Date(1969, 12, 31, 23, 59, 59, 5e8, time.UTC),
		time.Date(2026, 3, 1, 0, 0, 0, 123456789, time.FixedZone("", -(3*3600+30*60))),
	} {
		if got, want := string(appendStamp(nil, at)), at.Format(accessStamp); got != want {
			t.Errorf("%v: %s, want %s", at, got, want)
		}
	}
}

// BenchmarkAccessLine compares one access line through slog's JSON
// handler and through accessWriter, both to io.Discard:
//
//	go test -run '^$' -bench AccessLine ./handlers/
func BenchmarkAccessLine(b *testing.B) {
	e := accessEntry{at: time.Now(), level: slog.LevelInfo, id: "3f2a9c1d7e5b4a60", method: "GET",
		route: "/v1/checklists/:id/versions/:n", status: 200, bytes: 68123, ms: 0.042, user: "0190b5a4-7c2e-7d3a-9f1e-3b2a1c0d9e8f"}
	b.Run("slog", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		ctx := context.Background()
		for b.Loop() {
			log.LogAttrs(ctx, e.level, "request", slog.String("request_id", e.id), slog.String("method", e.method),
				slog.String("route", e.route), slog.Int("status", e.status), slog.Int("bytes", e.bytes),
				slog.Float64("ms", e.ms), slog.String("user", e.user))
		}
	})
	b.Run("writer", func(b *testing.B) {
		w := &accessWriter{w: io.Discard}
		for b.Loop() {
			w.write(e)
		}
	})
}
