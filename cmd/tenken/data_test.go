package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/storage/embedded"
	"tenken/storage/storagetest"
)

// TestDB runs tenken db over a data folder: it prints a connection
// string a driver can use, refuses a second tenken db or tenken serve on
// the same folder, and stops on cancel, leaving the data behind.
func TestDB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDB(t, dir)

	client := connect(t, d.uri)
	ctx := context.Background()
	if _, err := client.Database("tenken").Collection("facilities").InsertOne(ctx, bson.M{"_id": "f-chuo", "name": "中央センター"}); err != nil {
		t.Fatalf("insert through tenken db: %v", err)
	}

	t.Run("ErrSecondDB", func(t *testing.T) {
		_, _, err := runTenken(t, ctx, nil, "db", "--data", dir, "--addr", "127.0.0.1:0")
		assertNamesHolder(t, err, d.uri)
	})
	t.Run("ErrServe", func(t *testing.T) {
		_, _, err := runTenken(t, ctx, map[string]string{"TENKEN_ADDR": "127.0.0.1:0"}, "serve", "--data", dir)
		assertNamesHolder(t, err, d.uri)
		if _, err := os.Stat(filepath.Join(dir, "keys")); err == nil {
			t.Error("the refused serve created signing keys in the folder")
		}
	})
	t.Run("ErrRemoteAddr", func(t *testing.T) {
		_, _, err := runTenken(t, ctx, nil, "db", "--data", t.TempDir(), "--addr", "0.0.0.0:0")
		if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			t.Fatalf("err = %v, want a refusal naming --allow-remote", err)
		}
	})

	_ = client.Disconnect(ctx)
	d.stop(t)

	// The folder is free again and holds the document.
	e, err := embedded.Start(dir, "127.0.0.1:0", quietLog)
	if err != nil {
		t.Fatalf("embedded.Start after tenken db stopped: %v", err)
	}
	t.Cleanup(e.Stop)
	n, err := connect(t, e.URI()).Database("tenken").Collection("facilities").CountDocuments(ctx, bson.M{"_id": "f-chuo"})
	if err != nil || n != 1 {
		t.Fatalf("document after restart: n=%d err=%v", n, err)
	}
}

// TestBackupRestoreCommands backs up a data folder through the command
// line while tenken db serves it and while nothing does, restores into a
// fresh folder, and through MONGODB_URI, finding the same documents and
// blobs each time.
func TestBackupRestoreCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srcDir := t.TempDir()
	archives := t.TempDir()

	d := startDB(t, srcDir)
	client := connect(t, d.uri)
	fillData(t, client.Database("tenken"), srcDir)
	want := dumpDatabase(t, client.Database("tenken"))

	t.Run("OKWhileServed", func(t *testing.T) {
		out, _, err := runTenken(t, ctx, nil, "backup", "--data", srcDir, filepath.Join(archives, "live.tar.gz"))
		if err != nil {
			t.Fatalf("backup: %v", err)
		}
		for _, part := range []string{"served by pid " + strconv.Itoa(os.Getpid()), "consistency: per document", "4 collections, 23 documents; 2 blobs", "signing keys not included"} {
			if !strings.Contains(out, part) {
				t.Errorf("output does not say %q:\n%s", part, out)
			}
		}
	})
	t.Run("ErrRestoreWhileServed", func(t *testing.T) {
		_, _, err := runTenken(t, ctx, nil, "restore", "--data", srcDir, "--force", filepath.Join(archives, "live.tar.gz"))
		if err == nil || !strings.Contains(err.Error(), "stop the server first") {
			t.Fatalf("restore into a served folder: err = %v, want a refusal", err)
		}
	})
	_ = client.Disconnect(ctx)
	d.stop(t)

	idle := filepath.Join(archives, "idle.tar.gz")
	t.Run("OKIdleFolder", func(t *testing.T) {
		out, _, err := runTenken(t, ctx, nil, "backup", filepath.Join(srcDir+"-not-there", "x.tar.gz"), "--data", srcDir, "--include-keys")
		if err == nil {
			t.Fatalf("backup into a missing folder succeeded:\n%s", out)
		}
		out, _, err = runTenken(t, ctx, nil, "backup", "--data", srcDir, idle)
		if err != nil {
			t.Fatalf("backup: %v", err)
		}
		if !strings.Contains(out, "consistency: point-in-time") {
			t.Errorf("output does not say point-in-time:\n%s", out)
		}
		out, _, err = runTenken(t, ctx, nil, "restore", "--check", idle)
		if err != nil || !strings.Contains(out, "is whole") {
			t.Fatalf("restore --check: %v\n%s", err, out)
		}
	})

	t.Run("ErrWhileRestoring", func(t *testing.T) {
		// A restore in progress holds the folder; its server has half
		// the data, so a backup must not read it.
		lock, err := embedded.LockDataDir(srcDir, embedded.Holder{Command: "tenken restore", URI: "mongodb://127.0.0.1:1/"})
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		_, _, err = runTenken(t, ctx, nil, "backup", "--data", srcDir, filepath.Join(archives, "during-restore.tar.gz"))
		if err == nil || !strings.Contains(err.Error(), "wait until the restore has finished") {
			t.Fatalf("backup during a restore: err = %v, want a refusal", err)
		}
	})

	dstDir := filepath.Join(t.TempDir(), "fresh")
	t.Run("OKFreshFolder", func(t *testing.T) {
		out, _, err := runTenken(t, ctx, nil, "restore", "--data", dstDir, idle)
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		if !strings.Contains(out, "23 documents; 2 blobs") {
			t.Errorf("output:\n%s", out)
		}
		assertFolderHolds(t, dstDir, want, srcDir)
	})
	t.Run("ErrNotEmpty", func(t *testing.T) {
		_, _, err := runTenken(t, ctx, nil, "restore", "--data", dstDir, idle)
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("restore into a restored folder: err = %v, want a refusal naming --force", err)
		}
		if _, _, err := runTenken(t, ctx, nil, "restore", "--force", "--data", dstDir, idle); err != nil {
			t.Fatalf("restore --force: %v", err)
		}
		assertFolderHolds(t, dstDir, want, srcDir)
	})
	t.Run("OKMongoDBURI", func(t *testing.T) {
		// Restore into, and back up from, the server MONGODB_URI names
		// (the test server: embedded, or CI's tenken db).
		uriEnv := map[string]string{"MONGODB_URI": storagetest.URI(t)}
		name := storagetest.NewName()
		uriDir := t.TempDir()
		if _, _, err := runTenken(t, ctx, uriEnv, "restore", "--data", uriDir, "--database", name, idle); err != nil {
			t.Fatalf("restore into MONGODB_URI: %v", err)
		}
		uriClient := connect(t, storagetest.URI(t))
		t.Cleanup(func() { _ = uriClient.Database(name).Drop(context.Background()) })
		if got := dumpDatabase(t, uriClient.Database(name)); !slices.Equal(got, want) {
			t.Fatalf("database restored into MONGODB_URI differs:\n got %v\nwant %v", got, want)
		}
		again := filepath.Join(archives, "uri.tar.gz")
		out, _, err := runTenken(t, ctx, uriEnv, "backup", "--data", uriDir, "--database", name, again)
		if err != nil {
			t.Fatalf("backup from MONGODB_URI: %v", err)
		}
		if !strings.Contains(out, "from MongoDB at") {
			t.Errorf("output does not name the server:\n%s", out)
		}
		final := filepath.Join(t.TempDir(), "final")
		if _, _, err := runTenken(t, ctx, nil, "restore", "--data", final, again); err != nil {
			t.Fatalf("restore: %v", err)
		}
		assertFolderHolds(t, final, want, srcDir)
	})
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// dbProcess is a tenken db running inside the test.
type dbProcess struct {
	uri    string
	cancel context.CancelFunc
	done   chan error
}

// startDB runs "tenken db" over dir on a free port and waits for its
// connection string.
func startDB(t *testing.T, dir string) *dbProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	d := &dbProcess{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, []string{"db", "--data", dir, "--addr", "127.0.0.1:0"}, mapEnv(nil), strings.NewReader(""), pw, io.Discard)
		pw.Close()
		d.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil {
		cancel()
		t.Fatalf("tenken db printed no connection string: %v (%v)", err, <-d.done)
	}
	d.uri = strings.TrimSpace(line)
	if !strings.HasPrefix(d.uri, "mongodb://127.0.0.1:") {
		t.Fatalf("connection string = %q", d.uri)
	}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop cancels tenken db and waits for it to return.
func (d *dbProcess) stop(t *testing.T) {
	t.Helper()
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("tenken db returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("tenken db did not stop on cancel")
	}
}

// runTenken runs the program with args and the environment env (nothing
// else from the real environment except MONGODB_URI when env sets it).
func runTenken(t *testing.T, ctx context.Context, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	err = run(ctx, args, mapEnv(env), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string {
		if k == "TENKEN_LOG_LEVEL" {
			return "error"
		}
		return env[k]
	}
}

func assertNamesHolder(t *testing.T, err error, uri string) {
	t.Helper()
	var inUse *embedded.DataDirInUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("err = %v, want the data folder in use", err)
	}
	for _, part := range []string{"pid " + strconv.Itoa(os.Getpid()), uri, "since"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message %q does not name %q", err, part)
		}
	}
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// fillData writes users, facilities, an inspection with two photos and
// audit entries, the photos as blobs in dataDir, and a signing key.
func fillData(t *testing.T, db *mongo.Database, dataDir string) {
	t.Helper()
	ctx := context.Background()
	photos := []string{writeBlob(t, dataDir, []byte("photo: poster rack")), writeBlob(t, dataDir, []byte("photo: signage"))}
	if err := os.MkdirAll(filepath.Join(dataDir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "keys", "signing.key"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := bson.NewDateTimeFromTime(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
	docs := map[string][]any{
		"users": {
			bson.M{"_id": "u1", "username": "suzuki", "displayName": "鈴木 花子", "role": "reviewer", "passwordHash": bson.Binary{Data: []byte{1, 2, 3}}},
			bson.M{"_id": "u2", "username": "tanaka", "displayName": "田中 太郎", "role": "inspector", "facilityIds": bson.A{"f1"}},
		},
		"facilities": {bson.M{"_id": "f1", "name": bson.M{"ja": "北労働相談所", "en": "North Labour Office"}}},
		"inspections": {bson.M{"_id": "i1", "facilityId": "f1", "fiscalYear": int32(2026), "revision": int64(3), "updatedAt": at,
			"answers": bson.A{bson.M{"itemId": "racks", "failed": int32(1), "photos": bson.A{photos[0], photos[1]}}}}},
	}
	for i := range 19 {
		docs["audit"] = append(docs["audit"], bson.M{"_id": fmt.Sprintf("a%02d", i), "at": at, "action": "inspection.answer"})
	}
	for col, list := range docs {
		if _, err := db.Collection(col).InsertMany(ctx, list); err != nil {
			t.Fatalf("insert into %s: %v", col, err)
		}
	}
	if _, err := db.Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
}

func writeBlob(t *testing.T, dataDir string, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	p := filepath.Join(dataDir, "blobs", "sha256", h[:2], h)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// dumpDatabase lists every document of db as "collection canonical-JSON",
// in collection and _id order, then every index as "collection name keys".
func dumpDatabase(t *testing.T, db *mongo.Database) []string {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var out []string
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			b, err := bson.MarshalExtJSON(cur.Current, true, false)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, name+" "+string(b))
		}
		cur.Close(ctx)
		specs, err := db.Collection(name).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range specs {
			out = append(out, fmt.Sprintf("%s index %s %s unique=%v", name, s.Name, s.KeysDocument, s.Unique != nil && *s.Unique))
		}
	}
	return out
}

// assertFolderHolds starts the embedded server over dir and checks that
// its tenken database is want and its blobs are those of srcDir; the keys
// were not archived, so dir has none.
func assertFolderHolds(t *testing.T, dir string, want []string, srcDir string) {
	t.Helper()
	e, err := embedded.Start(dir, "127.0.0.1:0", quietLog)
	if err != nil {
		t.Fatalf("embedded.Start over the restored folder: %v", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	got := dumpDatabase(t, client.Database("tenken"))
	_ = client.Disconnect(context.Background())
	e.Stop()
	if !slices.Equal(got, want) {
		t.Errorf("restored database differs:\n got %v\nwant %v", got, want)
	}
	for _, sub := range []string{"blobs/sha256"} {
		wantFiles, gotFiles := listFiles(t, filepath.Join(srcDir, sub)), listFiles(t, filepath.Join(dir, sub))
		if !slices.Equal(gotFiles, wantFiles) {
			t.Errorf("%s: files %v, want %v", sub, gotFiles, wantFiles)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keys")); err == nil {
		t.Error("keys restored from an archive without keys")
	}
}

// listFiles lists the files under root with their content hashes.
func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		sum := sha256.Sum256(data)
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel+" "+hex.EncodeToString(sum[:]))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBackupRestoreService backs up what tenken serve itself stored (the
// demo users, facilities and sessions, plus a photo), while it runs and
// after it stopped, and starts tenken serve on the restored folder: the
// users sign in with their passwords and see their facilities. Without
// the signing keys in the archive, tokens of the old installation are
// refused; restored with --include-keys, they are accepted.
func TestBackupRestoreService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const password = "demo-password-123"
	data := t.TempDir()
	archives := t.TempDir()
	vars := map[string]string{"TENKEN_DATA": data, "TENKEN_DEMO_PASSWORD": password}
	base, _, stop := serveBinary(t, vars, "--demo")
	oldToken := loginAs(t, base, "inspector1", password)
	writeBlob(t, data, []byte("photo: out-of-date flyers"))

	out, _, err := runTenken(t, ctx, nil, "backup", "--data", data, filepath.Join(archives, "live.tar.gz"))
	if err != nil || !strings.Contains(out, "served by pid") || !strings.Contains(out, "per document") {
		t.Fatalf("backup while serving: %v\n%s", err, out)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	idle := filepath.Join(archives, "idle.tar.gz")
	withKeys := filepath.Join(archives, "keys.tar.gz")
	for _, args := range [][]string{{idle}, {"--include-keys", withKeys}} {
		if _, _, err := runTenken(t, ctx, nil, append([]string{"backup", "--data", data}, args...)...); err != nil {
			t.Fatalf("backup %v: %v", args, err)
		}
	}
	want := folderDump(t, data)

	for _, tc := range []struct {
		name       string
		archive    string
		oldTokenOK bool
	}{
		{"WithoutKeys", idle, false},
		{"WithKeys", withKeys, true},
		{"WhileServed", filepath.Join(archives, "live.tar.gz"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restored := filepath.Join(t.TempDir(), "restored")
			if _, _, err := runTenken(t, ctx, nil, "restore", "--data", restored, tc.archive); err != nil {
				t.Fatalf("restore: %v", err)
			}
			if got := folderDump(t, restored); !slices.Equal(got, want) {
				t.Errorf("restored folder differs:\n got %v\nwant %v", got, want)
			}
			base, _, stop := serveBinary(t, map[string]string{"TENKEN_DATA": restored})
			defer stop()
			token := loginAs(t, base, "inspector1", password)
			status, body := call(t, "GET", base+"/v1/facilities", nil, token)
			if status != 200 || !strings.Contains(fmt.Sprint(body), "VT-JONAN") {
				t.Errorf("facilities after restore: %d %v", status, body)
			}
			if status, _ := call(t, "GET", base+"/v1/me", nil, oldToken); (status == 200) != tc.oldTokenOK {
				t.Errorf("token of the old installation: status %d, accepted want %v", status, tc.oldTokenOK)
			}
		})
	}
}

// folderDump is the tenken database of a data folder nobody serves, and
// its blobs, as comparable lines.
func folderDump(t *testing.T, dir string) []string {
	t.Helper()
	e, err := embedded.Start(dir, "127.0.0.1:0", quietLog)
	if err != nil {
		t.Fatalf("embedded.Start: %v", err)
	}
	defer e.Stop()
	client, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	return append(dumpDatabase(t, client.Database("tenken")), listFiles(t, filepath.Join(dir, "blobs"))...)
}
