package main

import (
	"io"
	"sync"
	"time"
)

// How long an access line may wait, and how many bytes of them, before
// they are written.
const (
	accessFlushEvery = 100 * time.Millisecond
	accessBufferMax  = 32 << 10
)

// logOutput is serve's stderr, shared by the logger and the access lines
// (handlers.Config.AccessLog). A log line is written at once, after the
// access lines that came before it, so the order holds. Access lines,
// one per request and most of the log, are gathered and written together
// within accessFlushEvery, or as soon as accessBufferMax bytes wait: a
// write(2) per request was the largest part of what tenken's middleware
// cost over serving the same bytes bare. What a crash can lose is the
// access lines of its last accessFlushEvery, never a warning or an error;
// serve flushes on its way out.
type logOutput struct {
	mu        sync.Mutex
	w         io.Writer
	pending   []byte // access lines not yet written
	scheduled bool   // a flush is due within accessFlushEvery
	err       error  // the last write's, for the next log line
}

func newLogOutput(w io.Writer) *logOutput { return &logOutput{w: w} }

// Write writes a log line (with the access lines before it) at once.
func (o *logOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	if o.err != nil {
		err := o.err
		o.err = nil
		return 0, err
	}
	return o.w.Write(p)
}

// Access returns the writer of access lines: each Write is one line, kept
// until the next flush.
func (o *logOutput) Access() io.Writer { return accessOutput{o} }

type accessOutput struct{ o *logOutput }

func (a accessOutput) Write(p []byte) (int, error) {
	o := a.o
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending = append(o.pending, p...)
	switch {
	case len(o.pending) >= accessBufferMax:
		o.flushLocked()
	case !o.scheduled:
		o.scheduled = true
		time.AfterFunc(accessFlushEvery, o.Flush)
	}
	return len(p), nil
}

// Flush writes the access lines that wait.
func (o *logOutput) Flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.scheduled = false
	o.flushLocked()
}

func (o *logOutput) flushLocked() {
	if len(o.pending) == 0 {
		return
	}
	if _, err := o.w.Write(o.pending); err != nil {
		o.err = err
	}
	if cap(o.pending) > 4*accessBufferMax { // one burst of long lines
		o.pending = nil
		return
	}
	o.pending = o.pending[:0]
}
