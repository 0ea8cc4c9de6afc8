package storage

import (
	"strings"
	"testing"
)

// TestPackJSON: long JSON is deflated and read back the same, short JSON
// is left as it is, and bytes that are not deflated are an error.
func TestPackJSON(t *testing.T) {
	t.Parallel()
	long := `[` + strings.Repeat(`{"item":"entrance.ramp","value":{"choice":"ok"},"comment":"手すりあり"},`, 40) + `{}]`
	packed, plain := packJSON(long)
	if plain != "" || len(packed) == 0 || len(packed) > len(long)/4 {
		t.Fatalf("packJSON(%d bytes) = %d bytes packed, %q plain", len(long), len(packed), plain)
	}
	if got, err := unpackJSON(packed); err != nil || got != long {
		t.Fatalf("unpackJSON = %.80q…, %v", got, err)
	}
	if packed, plain := packJSON(`[{"item":"a"}]`); packed != nil || plain != `[{"item":"a"}]` {
		t.Fatalf("short JSON: %v packed, %q plain", packed, plain)
	}
	if _, err := unpackJSON([]byte("not deflated at all")); err == nil {
		t.Fatal("unpackJSON of bytes that are not deflated: no error")
	}
}
