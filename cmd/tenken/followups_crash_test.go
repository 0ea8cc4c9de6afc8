package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"tenken/storage/embedded"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// onDataFolder runs fn with a client of the data folder's database while
// no serve runs on it.
func onDataFolder(t *testing.T, data string, fn func(db *mongo.Database)) {
	t.Helper()
	e, err := embedded.Start(data, filepath.Join(data, "db.sock"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	client, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	fn(client.Database("tenken"))
}

// TestCrashBeforeFollowUpsRepairedAtStart: a serve killed with SIGKILL
// after writing an approval but before its follow-ups leaves the
// inspection approved, its report row "submitted", its audit entry
// uncopied and its pending marker. (The test makes that state on the
// folder of a killed serve, as no hook in the binary can stop it at that
// instant.) The next serve repairs it at start-up, in the background:
// the report row says approved, the audit entry is there, nothing is
// left pending.
func TestCrashBeforeFollowUpsRepairedAtStart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	data := t.TempDir()
	env := []string{"TENKEN_DEMO_PASSWORD=" + e2ePassword, "TENKEN_LOG_LEVEL=warn"}
	base, cmd := startBinary(t, data, env, "--demo")
	auth := e2eLogin(t, base, "reviewer")
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if status, _, err := apiCall(client, "GET", base+"/v1/inspections?status=submitted&limit=1", auth, nil, &list); err != nil || status != 200 || len(list.Items) == 0 {
		t.Fatalf("submitted inspections: %d %v %+v", status, err, list)
	}
	id := list.Items[0].ID
	if status, _, err := apiCall(client, "POST", base+"/v1/inspections/"+id+"/approve", auth, nil, nil); err != nil || status != 200 {
		t.Fatalf("approve: %d %v", status, err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	ctx := context.Background()
	var fy int
	onDataFolder(t, data, func(db *mongo.Database) {
		var in struct {
			FiscalYear int `bson:"fiscal_year"`
		}
		if err := db.Collection("inspections").FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&in); err != nil {
			t.Fatal(err)
		}
		fy = in.FiscalYear
		if _, err := db.Collection("report_rows").UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "submitted"}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Collection("audit").DeleteMany(ctx, bson.D{{Key: "entity_id", Value: id}, {Key: "action", Value: "approve"}}); err != nil {
			t.Fatal(err)
		}
		// The approval's own marker may still be there: the audit
		// copier deletes markers after the response, and the kill may
		// come first. Either way one marker is left.
		if _, err := db.Collection("pending_followups").ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "_id", Value: id}, {Key: "token", Value: "crash"}, {Key: "fiscal_year", Value: fy}},
			options.Replace().SetUpsert(true)); err != nil {
			t.Fatal(err)
		}
	})

	_, cmd = startBinary(t, data, env)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status string
		var pending, audited int64
		// The serve owns the folder: ask it through its own socket.
		cl, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + url.QueryEscape(filepath.Join(data, "db.sock")) + "/"))
		if err != nil {
			t.Fatal(err)
		}
		db := cl.Database("tenken")
		var row struct {
			Status string `bson:"status"`
		}
		_ = db.Collection("report_rows").FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&row)
		status = row.Status
		pending, _ = db.Collection("pending_followups").CountDocuments(ctx, bson.D{})
		audited, _ = db.Collection("audit").CountDocuments(ctx, bson.D{{Key: "entity_id", Value: id}, {Key: "action", Value: "approve"}})
		_ = cl.Disconnect(ctx)
		if status == "approved" && pending == 0 && audited == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after restart: report row %q, %d pending, %d approve audit entries; want approved, 0, 1", status, pending, audited)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}
