package main

import (
	"bytes"
	"context"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"

	"tenken/storage/storagetest"
)

// TestHelpExitsZero: every -h/--help is an answer, not an error, so the
// process exits 0.
func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	var argss [][]string
	for name := range commands {
		argss = append(argss, []string{name, "-h"}, []string{name, "--help"})
	}
	argss = append(argss, []string{"-h"}, []string{"--help"}, []string{"help"},
		[]string{"user", "add", "-h"}, []string{"keys", "rotate", "--help"},
		[]string{"checklist", "import", "-h"}, []string{"checklist", "export", "-h"})
	for _, args := range argss {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, testEnv(nil), strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Errorf("tenken %s: %v", strings.Join(args, " "), err)
		}
		if stdout.Len()+stderr.Len() == 0 {
			t.Errorf("tenken %s printed no help", strings.Join(args, " "))
		}
	}
	// A wrong flag is still an error.
	if err := run(context.Background(), []string{"serve", "--no-such-flag"}, testEnv(nil), strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("serve --no-such-flag succeeded")
	}
}

func TestVersionLine(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "tenken", Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-04T17:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	want := "tenken v1.2.3 revision 0123456789abcdef0123456789abcdef01234567 2026-12-04T17:00:00Z (modified) go1.26.0"
	if got := versionLine(bi); got != want {
		t.Fatalf("versionLine = %q, want %q", got, want)
	}
}

// TestBinaryVersion: the built binary names the version and commit it
// was built from.
func TestBinaryVersion(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := storagetest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("tenken --version: %v", err)
	}
	if !strings.HasPrefix(string(out), "tenken ") {
		t.Fatalf("tenken --version printed %q", out)
	}
	// It says what the toolchain stamped into the binary (the VCS
	// revision only when built with -buildvcs from a git checkout).
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision=") {
			if rev := strings.TrimPrefix(f[1], "vcs.revision="); !strings.Contains(string(out), rev) {
				t.Fatalf("tenken --version printed %q, want revision %s", out, rev)
			}
		}
	}
}

// TestArchiveFileArguments: backup and restore take exactly one archive
// file, with their flags before or after it.
func TestArchiveFileArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"backup"}, "backup: give one archive file"},
		{[]string{"backup", "a.tar.gz", "b.tar.gz"}, "backup: give one archive file"},
		{[]string{"restore", "--force"}, "restore: give one archive file"},
		{[]string{"restore", "a.tar.gz", "--check", "b.tar.gz"}, "restore: give one archive file"},
		{[]string{"restore", "missing.tar.gz", "--check"}, "missing.tar.gz"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		err := run(context.Background(), tt.args, testEnv(nil), strings.NewReader(""), &bytes.Buffer{}, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("tenken %s: %v, want an error with %q", strings.Join(tt.args, " "), err, tt.want)
		}
		if strings.Contains(tt.want, "give one") && !strings.Contains(stderr.String(), "usage: tenken "+tt.args[0]) {
			t.Errorf("tenken %s: no usage on stderr: %q", strings.Join(tt.args, " "), stderr.String())
		}
	}
}
