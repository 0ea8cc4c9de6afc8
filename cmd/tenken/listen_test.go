package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// listeningTCPPorts returns the TCP ports process pid listens on: the
// LISTEN rows of its network namespace's tcp tables whose socket inode is
// one of its open descriptors.
func listeningTCPPorts(t *testing.T, pid int) []int {
	t.Helper()
	proc := "/proc/" + strconv.Itoa(pid)
	fds, err := os.ReadDir(proc + "/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(proc + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(proc + "/net/" + table)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			ports = append(ports, int(port))
		}
	}
	return ports
}

// TestServeListensOnAPIPortOnly: serve reaches its embedded database over
// a Unix socket in the data folder, so the only TCP port it listens on is
// the API's; the folder is 0700 and the socket and database files 0600.
func TestServeListensOnAPIPortOnly(t *testing.T) {
	t.Parallel()
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the embedded database only")
	}
	data := t.TempDir()
	base, cmd := startBinary(t, data, nil)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ports := listeningTCPPorts(t, cmd.Process.Pid)
	if len(ports) != 1 || strconv.Itoa(ports[0]) != u.Port() {
		t.Fatalf("serve listens on TCP ports %v; want only the API's, %s", ports, u.Port())
	}
	want := map[string]os.FileMode{data: 0o700, filepath.Join(data, "db"): 0o700, filepath.Join(data, "db.sock"): 0o600}
	files, _ := filepath.Glob(filepath.Join(data, "db", "*.sqlite*"))
	if len(files) == 0 {
		t.Fatal("no database files in the data folder")
	}
	for _, f := range files {
		want[f] = 0o600
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
}
