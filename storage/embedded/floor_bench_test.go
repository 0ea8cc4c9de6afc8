package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/internal/procstat"
	"tenken/storage/storagetest"
)

// BenchmarkWriteFloor measures what the embedded database alone costs per
// write tenken makes: the CPU of a `tenken db` process (FerretDB and
// SQLite, nothing of tenken's HTTP side or storage layer), read from
// /proc before and after, divided by the commands sent. The documents are
// real ones: a submitted demo inspection with all its answers (deflated,
// as tenken stores them), photos and history, replaced by _id as a save stores it (ReplaceOne of the whole
// document, on the _id index Server.Open defines), and the small upsert of
// a follow-up marker.
//
// A full submission is four requests that each store the inspection
// before they answer (create, photo, save, submit), so one insert and
// three replaces are its floor on this database, whatever tenken does
// around them; an autosave is one replace. Measured (two cores, load ≤ 1):
// docs/performance.md, "The embedded database's floor".
//
//	go test -run '^$' -bench WriteFloor -benchtime 300x ./storage/embedded/
func BenchmarkWriteFloor(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("reads the server's CPU time from /proc")
	}
	bin, err := storagetest.Binary()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	demo := exec.Command(bin, "demo", "--data", dir, "--facilities", "3", "--years", "1", "--seed", "1")
	demo.Env = append(os.Environ(), "TENKEN_LOG_LEVEL=warn", "TENKEN_DEMO_PASSWORD=floor-bench-password-1")
	if out, err := demo.CombinedOutput(); err != nil {
		b.Fatalf("tenken demo: %v\n%s", err, out)
	}
	for _, sync := range []string{"full", "normal"} {
		b.Run("sync="+sync, func(b *testing.B) {
			col, cpu := floorServer(b, bin, dir, sync)
			ctx := context.Background()
			var insp bson.D
			if err := col.FindOne(ctx, bson.D{{Key: "status", Value: "approved"}}).Decode(&insp); err != nil {
				b.Fatal(err)
			}
			raw, err := bson.Marshal(insp)
			if err != nil {
				b.Fatal(err)
			}
			id, rev := insp[0].Value, -1
			for i, e := range insp {
				if e.Key == "revision" {
					rev = i
				}
			}
			if rev < 0 {
				b.Fatalf("the stored inspection has no revision: %v", insp)
			}
			measure := func(write func(i int) error) func(*testing.B) {
				return func(b *testing.B) {
					before := cpu()
					n := 0
					for b.Loop() {
						if err := write(n); err != nil {
							b.Fatal(err)
						}
						n++
					}
					b.ReportMetric(float64(cpu()-before)/float64(n), "server-ms/op")
				}
			}
			b.Run(fmt.Sprintf("replace-inspection-%dKB", len(raw)>>10), measure(func(i int) error {
				insp[rev].Value = int64(i + 2) // as a save moves it
				_, err := col.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, insp)
				return err
			}))
			inserted := 0 // new ids across runs (-count)
			b.Run("insert-inspection", measure(func(int) error {
				inserted++
				doc := append(bson.D{{Key: "_id", Value: fmt.Sprintf("floor-%s-%d", sync, inserted)}}, insp[1:]...)
				_, err := col.InsertOne(ctx, doc)
				return err
			}))
			markers := col.Database().Collection("pending_followups")
			b.Run("upsert-marker", measure(func(i int) error {
				_, err := markers.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "floor-marker"}},
					bson.D{{Key: "_id", Value: "floor-marker"}, {Key: "n", Value: i}}, options.Replace().SetUpsert(true))
				return err
			}))
		})
	}
}

// floorServer runs `tenken db` over dir with the given SQLite sync mode
// until b ends, and returns the demo database's inspections and a reader
// of the server process's CPU time in milliseconds.
func floorServer(b *testing.B, bin, dir, sync string) (*mongo.Collection, func() float64) {
	b.Helper()
	cmd := exec.Command(bin, "db", "--data", dir, "--addr", filepath.Join(dir, "db.sock"), "--sqlite-sync", sync)
	cmd.Env = append(os.Environ(), "TENKEN_LOG_LEVEL=warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	uri, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("tenken db printed no connection string: %v", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(strings.TrimSpace(uri)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	cpu := func() float64 {
		d, err := procstat.CPU(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		return float64(d) / float64(time.Millisecond)
	}
	return client.Database("tenken").Collection("inspections"), cpu
}
