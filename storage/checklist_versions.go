package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"tenken/checklist"
)

// colChecklistVersions holds published checklist versions, which
// inspections pin. This is the minimal storage inspections need (store a
// version, read one by checklist id and number); the authoring API builds
// on it.
const colChecklistVersions = "checklist_versions"

func init() {
	indexes[colChecklistVersions] = []mongo.IndexModel{
		{Keys: bson.D{{Key: "checklist_id", Value: 1}, {Key: "number", Value: 1}}},
	}
}

// versionDoc is a published version as stored. The content is kept as
// its JSON document, the same bytes the API serves, so it round-trips
// exactly and its hash can be verified.
type versionDoc struct {
	ID          string    `bson:"_id"` // checklist id + ":" + number
	ChecklistID string    `bson:"checklist_id"`
	Number      int       `bson:"number"`
	Content     string    `bson:"content_json"`
	ContentHash string    `bson:"content_hash"`
	PublishedAt time.Time `bson:"published_at"`
	PublishedBy string    `bson:"published_by"`
	Retired     bool      `bson:"retired"`
	RetiredAt   time.Time `bson:"retired_at,omitempty"`
	RetiredBy   string    `bson:"retired_by,omitempty"`
}

func versionID(checklistID string, number int) string {
	return checklistID + ":" + strconv.Itoa(number)
}

// PutChecklistVersion stores published version v. Storing the same
// version again is a no-op; another version under the same number is
// EConflict: a published version never changes.
func (db *DB) PutChecklistVersion(ctx context.Context, v checklist.Version) (err error) {
	defer wrap(&err, "store checklist version %s/%d", v.ChecklistID, v.Number)
	content, err := json.Marshal(v.Content)
	if err != nil {
		return err
	}
	d := versionDoc{ID: versionID(v.ChecklistID, v.Number), ChecklistID: v.ChecklistID, Number: v.Number,
		Content: string(content), ContentHash: v.ContentHash, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy,
		Retired: v.Retired, RetiredAt: v.RetiredAt, RetiredBy: v.RetiredBy}
	unlock := db.writeLock()
	_, err = db.db.Collection(colChecklistVersions).InsertOne(ctx, d)
	unlock()
	if mongo.IsDuplicateKeyError(err) {
		prev, ferr := db.ChecklistVersion(ctx, v.ChecklistID, v.Number)
		if ferr != nil {
			return ferr
		}
		if prev.ContentHash == v.ContentHash {
			return nil
		}
		return checklist.ImmutableVersionError(v.Number)
	}
	return translate(err)
}

// ChecklistVersion reads published version number of checklist id, with
// its current retired state. A missing version is ENotFound.
func (db *DB) ChecklistVersion(ctx context.Context, id string, number int) (_ checklist.Version, err error) {
	defer wrap(&err, "checklist version %s/%d", id, number)
	var d versionDoc
	err = db.db.Collection(colChecklistVersions).FindOne(ctx, bson.D{{Key: "_id", Value: versionID(id, number)}}).Decode(&d)
	if err != nil {
		err = translate(err)
		if checklist.ErrorCode(err) == checklist.ENotFound {
			return checklist.Version{}, checklist.Errorf(checklist.ENotFound, "checklist %s has no published version %d", id, number)
		}
		return checklist.Version{}, err
	}
	v := checklist.Version{ChecklistID: d.ChecklistID, Number: d.Number, ContentHash: d.ContentHash,
		PublishedAt: d.PublishedAt.UTC(), PublishedBy: d.PublishedBy, Retired: d.Retired,
		RetiredAt: d.RetiredAt.UTC(), RetiredBy: d.RetiredBy}
	if err := json.Unmarshal([]byte(d.Content), &v.Content); err != nil {
		return checklist.Version{}, fmt.Errorf("stored content: %w", err)
	}
	if err := v.Verify(); err != nil {
		return checklist.Version{}, err
	}
	db.versions.Store(d.ID, &v.Content)
	return v, nil
}

// ChecklistContent returns the content of published version number of
// checklist id. Published content never changes, so it is read once and
// then served from memory.
func (db *DB) ChecklistContent(ctx context.Context, id string, number int) (*checklist.Content, error) {
	if c, ok := db.versions.Load(versionID(id, number)); ok {
		return c.(*checklist.Content), nil
	}
	v, err := db.ChecklistVersion(ctx, id, number)
	if err != nil {
		return nil, err
	}
	return &v.Content, nil
}
