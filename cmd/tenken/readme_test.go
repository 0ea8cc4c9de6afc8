package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's walk-through is pasted into fresh shells by new users: run
// the block exactly as written (on a free port instead of 8080) and check
// what it prints.
func TestREADMEWalkthrough(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the walk-through runs the embedded default")
	}
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walk-through needs %s", tool)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script := walkthrough(t, string(readme))
	script = strings.ReplaceAll(script, "8080", fmt.Sprint(freePort(t)))

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("walk-through failed: %v\nstdout:\n%s\nstderr:\n%s%s", err, out, stderr.String(), serveLogs(tmp))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 7 {
		t.Fatalf("walk-through printed %d lines, want 7:\n%s%s", len(lines), out, serveLogs(tmp))
	}
	want := []string{"draft", "", "", "submitted", "approved"}
	for i, w := range want {
		if w != "" && lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	if len(lines[1]) != 64 {
		t.Errorf("photo digest = %q", lines[1])
	}
	if lines[2] == "" || lines[5] == "" {
		t.Errorf("revision %q or score %q missing", lines[2], lines[5])
	}
	wb, err := zip.OpenReader(lines[6])
	if err != nil {
		t.Fatalf("the plan is not a workbook: %v", err)
	}
	defer wb.Close()
	if f, err := wb.Open("xl/workbook.xml"); err != nil {
		t.Errorf("the plan has no xl/workbook.xml: %v", err)
	} else {
		f.Close()
	}
}

// serveLogs returns the server's log of the walk-through run in tmp.
func serveLogs(tmp string) string {
	files, _ := filepath.Glob(filepath.Join(tmp, "*", "serve.log"))
	var b strings.Builder
	for _, f := range files {
		log, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "\n%s:\n%s", f, log)
	}
	return b.String()
}

// walkthrough returns the shell block between the README's walk-through
// markers.
func walkthrough(t *testing.T, readme string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "<!-- walk-through -->")
	block, _, ok2 := strings.Cut(rest, "<!-- /walk-through -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- walk-through --> block")
	}
	block = strings.TrimSpace(block)
	block = strings.TrimPrefix(block, "```sh")
	return strings.TrimSuffix(block, "```")
}
