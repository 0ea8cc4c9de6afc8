package storage

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// colChecklistVersions holds published checklist versions: one document
// per version, inserted once under the unique key (checklist_id, number)
// and never rewritten; only its retired flag is ever set, once. Inspections
// pin a version by that key. updated_at is the time of the last write
// (publication, retirement), for the sync feed; documents stored before
// it existed lack it and count as changed when published or retired.
const colChecklistVersions = "checklist_versions"

func init() {
	indexes[colChecklistVersions] = []mongo.IndexModel{
		// The guard that makes publishing race-safe on every server: two
		// publishes of the same number cannot both be stored.
		{Keys: bson.D{{Key: "checklist_id", Value: 1}, {Key: "number", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("checklist_number_unique")},
	}
}

type versionDoc struct {
	ID          string     `bson:"_id"` // versionID(checklist id, number)
	ChecklistID string     `bson:"checklist_id"`
	Number      int        `bson:"number"`
	Content     contentDoc `bson:"content"`
	ContentHash string     `bson:"content_hash"`
	PublishedAt time.Time  `bson:"published_at"`
	PublishedBy string     `bson:"published_by"`
	Retired     bool       `bson:"retired"`
	RetiredAt   *time.Time `bson:"retired_at,omitempty"`
	RetiredBy   string     `bson:"retired_by,omitempty"`
	UpdatedAt   time.Time  `bson:"updated_at"`
	// Outbox is the audit entry of the version's publish, then of its
	// retirement (see copyOutbox).
	Outbox *auditDoc `bson:"audit_outbox,omitempty"`
}

// versionID is a version's document id, "checklist id:number".
func versionID(checklistID string, number int) string {
	return checklistID + ":" + strconv.Itoa(number)
}

func newVersionDoc(v checklist.Version) versionDoc {
	return versionDoc{
		ID: versionID(v.ChecklistID, v.Number), ChecklistID: v.ChecklistID, Number: v.Number,
		Content: newContentDoc(v.Content), ContentHash: v.ContentHash, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy,
		UpdatedAt: v.UpdatedAt,
	}
}

func (d versionDoc) version() checklist.Version {
	v := checklist.Version{
		ChecklistID: d.ChecklistID, Number: d.Number, Content: d.Content.content(), ContentHash: d.ContentHash,
		PublishedAt: d.PublishedAt.UTC(), PublishedBy: d.PublishedBy, Retired: d.Retired, RetiredBy: d.RetiredBy,
	}
	if d.RetiredAt != nil {
		v.RetiredAt = d.RetiredAt.UTC()
	}
	v.UpdatedAt = d.UpdatedAt.UTC()
	if d.UpdatedAt.IsZero() {
		// Stored before updated_at existed: its last write was its
		// publication or its retirement.
		v.UpdatedAt = v.PublishedAt
		if v.RetiredAt.After(v.UpdatedAt) {
			v.UpdatedAt = v.RetiredAt
		}
	}
	return v
}

// insertVersion stores v once, with entry (its publish) in its outbox: a
// second version with its number is EConflict, whoever stored the first.
func (db *DB) insertVersion(ctx context.Context, v checklist.Version, entry checklist.AuditEntry) error {
	doc := newVersionDoc(v)
	if doc.UpdatedAt.IsZero() {
		doc.UpdatedAt = db.now()
	}
	doc.Outbox = outboxOf(entry)
	if err := checkDocSize(doc); err != nil {
		return err
	}
	_, err := db.db.Collection(colChecklistVersions).InsertOne(ctx, doc)
	db.heads.invalidate()
	if err != nil {
		err = translate(err)
		if errors.Is(err, checklist.EConflict) {
			return checklist.ImmutableVersionError(v.Number)
		}
		return err
	}
	db.afterWrite(ctx, doc.Outbox)
	return nil
}

// recordLatest raises the checklist's latest_version to number. $max keeps
// it monotonic whatever order writers arrive in.
func (db *DB) recordLatest(ctx context.Context, id string, number int) error {
	_, err := db.db.Collection(colChecklists).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "latest_version", Value: number}}}})
	return translate(err)
}

// latestVersionNumber returns the highest stored version number of
// checklist id, 0 when it has none.
func (db *DB) latestVersionNumber(ctx context.Context, id string) (int, error) {
	var doc struct {
		Number int `bson:"number"`
	}
	opts := options.FindOne().SetSort(bson.D{{Key: "number", Value: -1}}).SetProjection(bson.D{{Key: "number", Value: 1}})
	err := db.db.Collection(colChecklistVersions).FindOne(ctx, bson.D{{Key: "checklist_id", Value: id}}, opts).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return doc.Number, translate(err)
}

// ChecklistVersion returns version number of checklist id with its content,
// checked against its content hash (EInternal if the stored copy was
// altered). ENotFound when there is no such version.
func (db *DB) ChecklistVersion(ctx context.Context, id string, number int) (_ checklist.Version, err error) {
	defer wrap(&err, "checklist %s version %d", id, number)
	if v, ok, err := db.memory.knownVersion(ctx, id, number); ok || err != nil {
		return v, err
	}
	var doc versionDoc
	filter := bson.D{{Key: "checklist_id", Value: id}, {Key: "number", Value: number}}
	if err := db.db.Collection(colChecklistVersions).FindOne(ctx, filter).Decode(&doc); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return checklist.Version{}, errNoVersion(id, number)
		}
		return checklist.Version{}, translate(err)
	}
	v := doc.version()
	if err := v.Verify(); err != nil {
		return checklist.Version{}, err
	}
	content := v.Content.Clone()
	db.versions.Store(doc.ID, &content)
	return v, nil
}

// knownVersion is ChecklistVersion for the sole writer, which knows every
// version's head (AllVersions) and the content of those read before
// (immutable): no read of the 68 KB document, which the embedded server
// decodes with every other version's to find it — once per inspection
// created, before.
func (db *DB) knownVersion(ctx context.Context, id string, number int) (checklist.Version, bool, error) {
	c, ok := db.versions.Load(versionID(id, number))
	if !ok {
		return checklist.Version{}, false, nil
	}
	heads, err := db.AllVersions(ctx)
	if err != nil {
		return checklist.Version{}, false, err
	}
	for _, h := range heads {
		if h.ChecklistID == id && h.Number == number {
			h.Content = c.(*checklist.Content).Clone()
			return h, true, nil
		}
	}
	return checklist.Version{}, false, nil
}

// ListVersions returns the versions of checklist id, newest first,
// without their content. ENotFound when the checklist does not exist.
func (db *DB) ListVersions(ctx context.Context, id string) (_ []checklist.Version, err error) {
	defer wrap(&err, "versions of checklist %s", id)
	if _, err := db.findChecklistHead(ctx, id); err != nil {
		return nil, err
	}
	return db.versionHeads(ctx, bson.D{{Key: "checklist_id", Value: id}}, bson.D{{Key: "number", Value: -1}})
}

// RetireVersion marks version number of checklist id as retired: it is no
// longer offered for new inspections, and inspections that pinned it keep
// it (it stays readable, and its content never changes). Retiring a
// retired version is EConflict. The version is returned without content.
// by retired it, for the records and the audit trail.
func (db *DB) RetireVersion(ctx context.Context, id string, number int, by checklist.Actor) (_ checklist.Version, err error) {
	defer wrap(&err, "retire checklist %s version %d", id, number)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(checklistLock(id))
	defer unlock()
	v, err := db.ChecklistVersion(ctx, id, number)
	if err != nil {
		return checklist.Version{}, err
	}
	if v, err = v.Retire(db.now(), by.UserID); err != nil {
		return checklist.Version{}, err
	}
	// The publish's entry waits in the outbox this write replaces; copy it
	// first, should a crash have kept it from the trail.
	var prev versionDoc
	if err := db.db.Collection(colChecklistVersions).FindOne(ctx, bson.D{{Key: "_id", Value: versionID(id, number)}},
		options.FindOne().SetProjection(bson.D{{Key: "audit_outbox", Value: 1}})).Decode(&prev); err != nil {
		return checklist.Version{}, translate(err)
	}
	if err := db.copyOutbox(ctx, prev.Outbox); err != nil {
		return checklist.Version{}, err
	}
	outbox := outboxOf(checklist.RetireAuditEntry(v, by))
	filter := bson.D{{Key: "_id", Value: versionID(id, number)}, {Key: "retired", Value: false}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "retired", Value: true}, {Key: "retired_at", Value: v.RetiredAt}, {Key: "retired_by", Value: by.UserID},
		{Key: "updated_at", Value: v.UpdatedAt}, {Key: "audit_outbox", Value: outbox},
	}}}
	res, err := db.db.Collection(colChecklistVersions).UpdateOne(ctx, filter, update)
	db.heads.invalidate()
	if err != nil {
		return checklist.Version{}, translate(err)
	}
	if res.MatchedCount == 0 {
		return checklist.Version{}, checklist.Errorf(checklist.EConflict, "version %d is already retired", number)
	}
	db.afterWrite(ctx, outbox)
	v.Content = checklist.Content{}
	return v, nil
}

// ApplicableVersions returns, for each of the checklist ids, its newest
// version that is not retired (checklist.CurrentVersions); ids with no
// such version are left out.
func (db *DB) ApplicableVersions(ctx context.Context, ids []string) (_ map[string]checklist.ApplicableVersion, err error) {
	defer wrap(&err, "applicable versions")
	if len(ids) == 0 {
		return map[string]checklist.ApplicableVersion{}, nil
	}
	filter := bson.D{{Key: "checklist_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "retired", Value: false}}
	versions, err := db.versionHeads(ctx, filter, nil)
	if err != nil {
		return nil, err
	}
	return checklist.CurrentVersions(versions), nil
}

// AllVersions returns every published version of every checklist,
// retired ones included, without content, by checklist and number.
// Checklists and their versions are a handful, so callers read them all
// and select in Go (see checklist.TabletChecklists).
//
// The sole writer keeps the list between its own writes of versions:
// the embedded server decodes every version document, content and all,
// to list them, and every tablet's sync asks.
func (db *DB) AllVersions(ctx context.Context) (_ []checklist.Version, err error) {
	defer wrap(&err, "all versions")
	return db.memory.allVersions(ctx)
}

// allVersionsCached is AllVersions from the sole writer's cache.
func (db *DB) allVersionsCached(ctx context.Context) ([]checklist.Version, error) {
	return db.heads.read(func() ([]checklist.Version, error) { return db.versionHeads(ctx, bson.D{}, nil) })
}

// versionHeads returns the versions filter selects, without content, in
// sort order (nil: by checklist and number).
func (db *DB) versionHeads(ctx context.Context, filter, sort bson.D) ([]checklist.Version, error) {
	if sort == nil {
		sort = bson.D{{Key: "checklist_id", Value: 1}, {Key: "number", Value: 1}}
	}
	opts := options.Find().SetSort(sort).SetProjection(bson.D{{Key: "content", Value: 0}})
	cur, err := db.db.Collection(colChecklistVersions).Find(ctx, filter, opts)
	if err != nil {
		return nil, translate(err)
	}
	var docs []versionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	out := make([]checklist.Version, len(docs))
	for i, d := range docs {
		out[i] = d.version()
	}
	return out, nil
}

// PutChecklistVersion stores published version v as it is, outside the
// authoring flow (tests, demo data, migrations): storing the same version
// again is a no-op, another version under the same number is EConflict (a
// published version never changes). The checklist's record of its latest
// version follows when the checklist exists. It is audited as a publish
// by v.PublishedBy.
func (db *DB) PutChecklistVersion(ctx context.Context, v checklist.Version) (err error) {
	defer wrap(&err, "put checklist %s version %d", v.ChecklistID, v.Number)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if err := v.Verify(); err != nil {
		return err
	}
	doc := newVersionDoc(v)
	doc.Retired, doc.RetiredBy = v.Retired, v.RetiredBy
	// Stored now, whenever it was published: a tablet syncing from a
	// cursor must still learn of it.
	doc.UpdatedAt = db.now()
	doc.Outbox = outboxOf(checklist.PublishAuditEntry(v, checklist.Actor{UserID: v.PublishedBy, Name: v.PublishedBy}))
	if !v.RetiredAt.IsZero() {
		at := v.RetiredAt
		doc.RetiredAt = &at
	}
	if err := checkDocSize(doc); err != nil {
		return err
	}
	_, err = db.db.Collection(colChecklistVersions).InsertOne(ctx, doc)
	db.heads.invalidate()
	if err != nil {
		err = translate(err)
		if !errors.Is(err, checklist.EConflict) {
			return err
		}
		prev, ferr := db.ChecklistVersion(ctx, v.ChecklistID, v.Number)
		if ferr != nil {
			return ferr
		}
		if prev.ContentHash != v.ContentHash {
			return checklist.ImmutableVersionError(v.Number)
		}
		return nil
	}
	db.afterWrite(ctx, doc.Outbox)
	return db.recordLatest(ctx, v.ChecklistID, v.Number)
}

// ChecklistContent returns the content of published version number of
// checklist id. Published content never changes, so it is read once per
// process and then served from memory. The caller must not change it.
func (db *DB) ChecklistContent(ctx context.Context, id string, number int) (_ *checklist.Content, err error) {
	defer wrap(&err, "content of checklist %s version %d", id, number)
	if c, ok := db.versions.Load(versionID(id, number)); ok {
		return c.(*checklist.Content), nil
	}
	v, err := db.ChecklistVersion(ctx, id, number)
	if err != nil {
		return nil, err
	}
	return &v.Content, nil
}
