package blobs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tenken/storage/blobs"
)

// TestBlobSweep: blobs older than the cutoff that nothing references go,
// as do stale temporary files; referenced blobs, recent ones and a blob
// stored again (touched by Put) stay.
func TestBlobSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := blobs.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	put := func(s string) string {
		sha, _, err := b.Put(ctx, bytes.NewReader([]byte(s)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	age := func(path string) {
		old := time.Now().Add(-48 * time.Hour)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	blob := func(sha string) string { return filepath.Join(dir, "sha256", sha[:2], sha) }
	orphan, kept, recent, again := put("orphan"), put("referenced"), put("recent"), put("stored again")
	for _, sha := range []string{orphan, kept, again} {
		age(blob(sha))
	}
	put("stored again") // a re-upload touches it
	tmp := filepath.Join(dir, "tmp", "upload-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	age(tmp)

	referenced := func(_ context.Context, sha string) (bool, error) { return sha == kept, nil }
	n, err := b.Sweep(ctx, time.Now().Add(-24*time.Hour), referenced)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 removed (the orphan and the temporary file)", n, err)
	}
	for sha, want := range map[string]bool{orphan: false, kept: true, recent: true, again: true} {
		if ok, err := b.Has(ctx, sha); err != nil || ok != want {
			t.Errorf("after the sweep, Has(%s) = %v (%v), want %v", sha[:8], ok, err, want)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still there (%v)", err)
	}
}
