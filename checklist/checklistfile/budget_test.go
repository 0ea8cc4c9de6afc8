package checklistfile_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeNodeBudget: files just under the size limit made of tiny
// nodes — a flow list, a block list, a flow mapping — are refused before
// the YAML tree is built, allocating well under 100 MB (an 8 MiB flow
// list took 1.26 GB and 13.5 s before).
func TestDecodeNodeBudget(t *testing.T) {
	size := checklistfile.MaxFileSize - 16
	for name, data := range map[string][]byte{
		"FlowList":    []byte("[" + strings.Repeat("a,", size/2) + "a]"),
		"BlockList":   []byte(strings.Repeat("- a\n", size/4)),
		"FlowMapping": []byte("{" + strings.Repeat("a: b,", size/5) + "a: b}"),
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = checklistfile.Decode(bytes.NewReader(data)) })
			if checklist.ErrorCode(err) != checklist.ETooLarge {
				t.Fatalf("Decode = %v, want ETooLarge", err)
			}
			t.Logf("Decode of %d bytes allocated %.1f MB in all", len(data), float64(n)/(1<<20))
			if n > 100<<20 {
				t.Fatalf("Decode allocated %d MB, want under 100", n>>20)
			}
		})
	}
}
