package storage

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
)

// packMin is the shortest JSON packJSON deflates: below it the saving
// is not worth a field nobody can read by eye.
const packMin = 1 << 10

// packJSON returns js deflated (raw DEFLATE, RFC 1951, at BestSpeed) and
// "" when it is at least packMin bytes long, otherwise nil and js as it is.
func packJSON(js string) (packed []byte, plain string) {
	if len(js) < packMin {
		return nil, js
	}
	var b bytes.Buffer
	b.Grow(len(js) / 3)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&b)
	_, _ = io.WriteString(w, js) // a bytes.Buffer does not fail
	_ = w.Close()
	return b.Bytes(), ""
}

// unpackJSON reads what packJSON deflated.
func unpackJSON(packed []byte) (string, error) {
	r := flate.NewReader(bytes.NewReader(packed))
	defer r.Close()
	var b bytes.Buffer
	b.Grow(5 * len(packed))
	if _, err := b.ReadFrom(r); err != nil {
		return "", err
	}
	return b.String(), nil
}

// deflaters keeps flate writers, each some hundreds of KB of state.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // a valid level: no error
	return w
}}
