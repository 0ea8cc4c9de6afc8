package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer records each Write the log output makes.
type lockedBuffer struct {
	mu     sync.Mutex
	writes []string
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes = append(b.writes, string(p))
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.writes, "")
}

func (b *lockedBuffer) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.writes)
}

func TestLogOutput(t *testing.T) {
	t.Run("OKLogLineAfterTheAccessLinesBeforeIt", func(t *testing.T) {
		var w lockedBuffer
		o := newLogOutput(&w)
		_, _ = o.Access().Write([]byte("access 1\n"))
		_, _ = o.Access().Write([]byte("access 2\n"))
		if got := w.String(); got != "" {
			t.Fatalf("access lines written at once: %q", got)
		}
		_, _ = o.Write([]byte("warning\n"))
		if got, want := w.String(), "access 1\naccess 2\nwarning\n"; got != want {
			t.Errorf("written %q, want %q", got, want)
		}
	})
	t.Run("OKAccessLinesWithinFlushEvery", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var w lockedBuffer
			o := newLogOutput(&w)
			_, _ = o.Access().Write([]byte("access 1\n"))
			time.Sleep(accessFlushEvery / 2)
			_, _ = o.Access().Write([]byte("access 2\n"))
			time.Sleep(accessFlushEvery / 2)
			synctest.Wait()
			if got, want := w.String(), "access 1\naccess 2\n"; got != want || w.count() != 1 {
				t.Fatalf("after %v: %d writes of %q, want one of %q", accessFlushEvery, w.count(), got, want)
			}
			_, _ = o.Access().Write([]byte("access 3\n"))
			time.Sleep(accessFlushEvery)
			synctest.Wait()
			if got, want := w.String(), "access 1\naccess 2\naccess 3\n"; got != want {
				t.Errorf("written %q, want %q", got, want)
			}
		})
	})
	t.Run("OKFullBufferWrittenAtOnce", func(t *testing.T) {
		var w lockedBuffer
		o := newLogOutput(&w)
		line := append(bytes.Repeat([]byte("x"), 255), '\n')
		for range accessBufferMax / len(line) {
			_, _ = o.Access().Write(line)
		}
		if got := len(w.String()); got != accessBufferMax {
			t.Errorf("%d bytes written, want %d", got, accessBufferMax)
		}
	})
	t.Run("OKFlush", func(t *testing.T) {
		var w lockedBuffer
		o := newLogOutput(&w)
		_, _ = o.Access().Write([]byte("access\n"))
		o.Flush()
		if got := w.String(); got != "access\n" {
			t.Errorf("written %q after Flush", got)
		}
	})
}
