package embedded_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"tenken/storage/embedded"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func TestLockDataDir(t *testing.T) {
	t.Parallel()
	t.Run("ErrInUse", func(t *testing.T) {
		dir := t.TempDir()
		started := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		first, err := embedded.LockDataDir(dir, embedded.Holder{Command: "tenken serve", Started: started, URI: "mongodb://127.0.0.1:40001/"})
		if err != nil {
			t.Fatalf("first LockDataDir: %v", err)
		}
		defer first.Release()

		_, err = embedded.LockDataDir(dir, embedded.Holder{Command: "tenken db"})
		var inUse *embedded.DataDirInUseError
		if !errors.As(err, &inUse) {
			t.Fatalf("second LockDataDir: err = %v, want *DataDirInUseError", err)
		}
		want := embedded.Holder{PID: os.Getpid(), Command: "tenken serve", Started: started, URI: "mongodb://127.0.0.1:40001/"}
		if inUse.Holder != want {
			t.Errorf("Holder = %+v, want %+v", inUse.Holder, want)
		}
		msg := err.Error()
		for _, part := range []string{dir, "pid " + strconv.Itoa(os.Getpid()), "tenken serve", "mongodb://127.0.0.1:40001/", started.Local().Format(time.RFC3339)} {
			if !strings.Contains(msg, part) {
				t.Errorf("message %q does not name %q", msg, part)
			}
		}
	})
	t.Run("OKAfterRelease", func(t *testing.T) {
		dir := t.TempDir()
		first, err := embedded.LockDataDir(dir, embedded.Holder{Command: "tenken serve"})
		if err != nil {
			t.Fatal(err)
		}
		first.Release()
		second, err := embedded.LockDataDir(dir, embedded.Holder{Command: "tenken db"})
		if err != nil {
			t.Fatalf("LockDataDir after Release: %v", err)
		}
		second.Release()
	})
}

// TestEmbeddedOneServerPerFolder starts two embedded servers on one data
// folder: the second is refused and names the first, with the address
// where the data can be reached meanwhile.
func TestEmbeddedOneServerPerFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := embedded.Start(dir, "127.0.0.1:0", quietLogger())
	if err != nil {
		t.Fatalf("first embedded.Start: %v", err)
	}
	second, err := embedded.Start(dir, "127.0.0.1:0", quietLogger())
	if err == nil {
		second.Stop()
		first.Stop()
		t.Fatal("second embedded.Start on the same folder succeeded")
	}
	var inUse *embedded.DataDirInUseError
	if !errors.As(err, &inUse) {
		first.Stop()
		t.Fatalf("second embedded.Start: err = %v, want *DataDirInUseError", err)
	}
	if inUse.Holder.PID != os.Getpid() || inUse.Holder.URI != first.URI() {
		t.Errorf("Holder = %+v, want pid %d and uri %s", inUse.Holder, os.Getpid(), first.URI())
	}
	first.Stop()

	third, err := embedded.Start(dir, "127.0.0.1:0", quietLogger())
	if err != nil {
		t.Fatalf("embedded.Start after Stop: %v", err)
	}
	third.Stop()
}

// TestEmbeddedUnixSocket serves the embedded database on a Unix socket.
func TestEmbeddedUnixSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := dir + "/db.sock"
	e, err := embedded.Start(dir, sock, quietLogger())
	if err != nil {
		t.Fatalf("embedded.Start: %v", err)
	}
	t.Cleanup(e.Stop) // after the client disconnects: Stop waits for clients
	if !strings.Contains(e.URI(), "db.sock") {
		t.Errorf("URI = %s, want the socket path", e.URI())
	}
	client := connect(t, e.URI())
	if _, err := client.Database("x").Collection("c").InsertOne(context.Background(), bson.M{"_id": 1}); err != nil {
		t.Fatalf("InsertOne over the socket: %v", err)
	}
}

// TestDataDirOwnerKilled kills a process that owns a data folder with
// SIGKILL, as a crash or the OOM killer would: the kernel releases the
// lock, a new owner starts at once, and the write the dead server had
// acknowledged is there.
func TestDataDirOwnerKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDataDirOwner$", "-test.v=false")
	cmd.Env = append(os.Environ(), "TENKEN_TEST_OWNER_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	uri := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "URI "); ok {
				uri <- u
			}
		}
		close(uri)
	}()
	var helperURI string
	select {
	case helperURI = <-uri:
	case <-time.After(60 * time.Second):
		t.Fatal("helper process did not start its server")
	}
	if helperURI == "" {
		t.Fatal("helper process ended before starting its server")
	}

	client := connect(t, helperURI)
	ctx := context.Background()
	if _, err := client.Database("tenken").Collection("inspections").InsertOne(ctx, bson.M{"_id": "before-crash", "note": "点検済み"}); err != nil {
		t.Fatalf("insert into the helper's server: %v", err)
	}

	_, err = embedded.Start(dir, "127.0.0.1:0", quietLogger())
	var inUse *embedded.DataDirInUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("embedded.Start while the helper runs: err = %v, want *DataDirInUseError", err)
	}
	if inUse.Holder.PID != cmd.Process.Pid || inUse.Holder.URI != helperURI {
		t.Errorf("Holder = %+v, want pid %d and uri %s", inUse.Holder, cmd.Process.Pid, helperURI)
	}

	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	e, err := embedded.Start(dir, "127.0.0.1:0", quietLogger())
	if err != nil {
		t.Fatalf("embedded.Start after the owner was killed: %v", err)
	}
	t.Cleanup(e.Stop)
	var got bson.M
	err = connect(t, e.URI()).Database("tenken").Collection("inspections").FindOne(ctx, bson.M{"_id": "before-crash"}).Decode(&got)
	if err != nil || got["note"] != "点検済み" {
		t.Fatalf("acknowledged write after the crash: %v, %v", got, err)
	}
}

// TestHelperDataDirOwner is not a test: TestDataDirOwnerKilled runs the
// test binary again with it to own a data folder until killed.
func TestHelperDataDirOwner(t *testing.T) {
	dir := os.Getenv("TENKEN_TEST_OWNER_DIR")
	if dir == "" {
		t.Skip("helper process for TestDataDirOwnerKilled")
	}
	e, err := embedded.Start(dir, "127.0.0.1:0", quietLogger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Printf("URI %s\n", e.URI())
	select {}
}

// connect returns a driver client on uri, disconnected when the test ends.
func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}
