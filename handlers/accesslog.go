package handlers

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// accessWriter writes access lines straight to Config.AccessLog: the same
// JSON object slog's JSON handler writes for them, without its generic
// machinery (a record of seven attributes spills into an allocation, and
// every value goes through reflection-free but general encoding) — about
// half the cost of the whole middleware chain of a cached download.
type accessWriter struct {
	mu sync.Mutex // one Write per line, in order, whatever the writer
	w  io.Writer
}

var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// accessEntry is one served request.
type accessEntry struct {
	at                      time.Time
	level                   slog.Level
	id, method, route, user string
	status, bytes           int
	ms                      float64
}

// write writes e as one JSON line, with the keys and value encodings of
// slog.NewJSONHandler: time (RFC 3339, milliseconds), level, msg, then
// the attributes in the order accessLog logs them.
func (a *accessWriter) write(e accessEntry) {
	bp := accessBufs.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = appendStamp(b, e.at)
	b = append(b, `","level":"`...)
	b = append(b, e.level.String()...)
	b = append(b, `","msg":"request","request_id":`...)
	b = appendJSONString(b, e.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, e.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(e.bytes), 10)
	b = append(b, `,"ms":`...)
	b = strconv.AppendFloat(b, e.ms, 'g', -1, 64)
	b = append(b, `,"user":`...)
	b = appendJSONString(b, e.user)
	b = append(b, "}\n"...)
	a.mu.Lock()
	_, _ = a.w.Write(b)
	a.mu.Unlock()
	*bp = b
	accessBufs.Put(bp)
}

// accessStamp is the time format of the access lines (slog's JSON).
const accessStamp = "2006-01-02T15:04:05.000Z07:00"

// stampSecond is one second's formatted time around its milliseconds.
type stampSecond struct {
	unix         int64
	loc          *time.Location
	prefix, zone string // "2006-01-02T15:04:05" and "Z07:00"
}

var lastStamp atomic.Pointer[stampSecond]

// appendStamp appends t as accessStamp formats it. The lines of one
// second share all of it but the milliseconds, which were a third of
// writing a line: the second is formatted once.
func appendStamp(b []byte, t time.Time) []byte {
	s := lastStamp.Load()
	if s == nil || s.unix != t.Unix() || s.loc != t.Location() {
		full := t.Format(accessStamp)
		s = &stampSecond{unix: t.Unix(), loc: t.Location(), prefix: full[:19], zone: full[23:]}
		lastStamp.Store(s)
	}
	ms := t.Nanosecond() / 1e6
	b = append(b, s.prefix...)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, s.zone...)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD (as encoding/json).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
