package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// Collections of the checklist feature.
//
//   - checklists: one document per checklist with its editable draft,
//     the draft's revision and the number of its latest version.
//   - checklist_versions (see checklist_versions.go): one document per
//     published version.
//   - checklist_applicability: one document, which checklist applies to
//     which facilities (default and per kind), changed as a whole so that
//     there is never a moment with two defaults or none.
const (
	colChecklists    = "checklists"
	colApplicability = "checklist_applicability"
)

const applicabilityID = checklist.ApplicabilityID

// maxChecklistDoc bounds a stored checklist or version. MongoDB refuses
// documents over 16 MB and the embedded server accepts them, so the limit
// is ours; the largest valid checklist is far smaller.
const maxChecklistDoc = 8 << 20

type checklistDoc struct {
	ID            string     `bson:"_id"`
	Title         textDoc    `bson:"title"`
	Draft         contentDoc `bson:"draft"`
	Revision      int        `bson:"revision"`
	LatestVersion int        `bson:"latest_version"`
	CreatedAt     time.Time  `bson:"created_at"`
	CreatedBy     string     `bson:"created_by"`
	UpdatedAt     time.Time  `bson:"updated_at"`
	UpdatedBy     string     `bson:"updated_by"`
	// Outbox is the audit entry of the write that stored this revision
	// (see copyOutbox).
	Outbox *auditDoc `bson:"audit_outbox,omitempty"`
}

func (d checklistDoc) record() checklist.ChecklistRecord {
	return checklist.ChecklistRecord{
		Checklist: checklist.Checklist{ID: d.ID, Title: d.Title.text(), Draft: d.Draft.content(), LatestVersion: d.LatestVersion},
		Revision:  d.Revision, CreatedAt: d.CreatedAt.UTC(), CreatedBy: d.CreatedBy, UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: d.UpdatedBy,
	}
}

type applicabilityDoc struct {
	ID        string          `bson:"_id"`
	Default   string          `bson:"default_checklist_id"`
	Kinds     []kindAssignDoc `bson:"kinds"`
	Revision  int             `bson:"revision"`
	UpdatedAt time.Time       `bson:"updated_at"`
	UpdatedBy string          `bson:"updated_by"`
	Outbox    *auditDoc       `bson:"audit_outbox,omitempty"` // see copyOutbox
}

// kindAssignDoc is one kind's checklist. Kinds are an array, not a map,
// so that no value ever becomes a field name.
type kindAssignDoc struct {
	Kind        string `bson:"kind"`
	ChecklistID string `bson:"checklist_id"`
}

func (d applicabilityDoc) applicability() checklist.Applicability {
	a := checklist.Applicability{Default: d.Default, Kinds: map[checklist.FacilityKind]string{},
		Revision: d.Revision, UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: d.UpdatedBy}
	for _, k := range d.Kinds {
		a.Kinds[checklist.FacilityKind(k.Kind)] = k.ChecklistID
	}
	return a
}

func checklistLock(id string) string { return "checklist/" + id }

// checkDocSize refuses a document the database should not hold.
func checkDocSize(doc any) error {
	b, err := bson.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	if len(b) > maxChecklistDoc {
		return checklist.Errorf(checklist.ETooLarge, "the checklist is larger than %d bytes as stored", maxChecklistDoc)
	}
	return nil
}

func errNoChecklist(id string) error {
	return checklist.Errorf(checklist.ENotFound, "no checklist %q", id)
}

func errNoVersion(id string, number int) error {
	return checklist.Errorf(checklist.ENotFound, "checklist %q has no version %d", id, number)
}

// CreateChecklist stores a new checklist with draft as its draft, at
// revision 1 and with no version. id "" means a new generated id; a given
// id must pass checklist.ValidateChecklistID. The draft need not be valid
// yet (Validate is what publishing demands), only within the limits of
// Content.ValidateDraft (EInvalid) and of a stored document (ETooLarge). An
// id in use is EConflict with the existing checklist as Current.
// by made the change, for the records and the audit trail.
func (db *DB) CreateChecklist(ctx context.Context, id string, draft checklist.Content, by checklist.Actor) (_ checklist.ChecklistRecord, err error) {
	defer wrap(&err, "create checklist %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if id == "" {
		id = newID()
	} else if err := checklist.ValidateChecklistID(id); err != nil {
		return checklist.ChecklistRecord{}, err
	}
	if err := draft.ValidateDraft(); err != nil {
		return checklist.ChecklistRecord{}, err
	}
	now := db.now()
	doc := checklistDoc{
		ID: id, Title: newTextDoc(draft.Title), Draft: newContentDoc(draft), Revision: 1,
		CreatedAt: now, CreatedBy: by.UserID, UpdatedAt: now, UpdatedBy: by.UserID,
	}
	doc.Outbox = outboxOf(checklist.DraftAuditEntry(nil, doc.record(), by))
	if err := checkDocSize(doc); err != nil {
		return checklist.ChecklistRecord{}, err
	}
	if _, err := db.db.Collection(colChecklists).InsertOne(ctx, doc); err != nil {
		err = translate(err)
		if errors.Is(err, checklist.EConflict) {
			e := checklist.Errorf(checklist.EConflict, "a checklist with id %q already exists", id)
			if cur, ferr := db.FindChecklist(ctx, id); ferr == nil {
				e.Current = cur
			}
			return checklist.ChecklistRecord{}, e
		}
		return checklist.ChecklistRecord{}, err
	}
	db.afterWrite(ctx, doc.Outbox)
	return doc.record(), nil
}

// FindChecklist returns the checklist id with its draft; ENotFound when
// there is none.
func (db *DB) FindChecklist(ctx context.Context, id string) (_ checklist.ChecklistRecord, err error) {
	defer wrap(&err, "find checklist %s", id)
	doc, err := db.findChecklistDoc(ctx, id)
	if err != nil {
		return checklist.ChecklistRecord{}, err
	}
	return doc.record(), nil
}

func (db *DB) findChecklistDoc(ctx context.Context, id string) (checklistDoc, error) {
	var doc checklistDoc
	if err := db.db.Collection(colChecklists).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return checklistDoc{}, errNoChecklist(id)
		}
		return checklistDoc{}, translate(err)
	}
	return doc, nil
}

// ListChecklists returns every checklist by id, without their drafts
// (Draft holds only the title). There are a handful: one unified
// checklist, perhaps one per facility kind.
func (db *DB) ListChecklists(ctx context.Context) (_ []checklist.ChecklistRecord, err error) {
	defer wrap(&err, "list checklists")
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "draft.sections", Value: 0}})
	cur, err := db.db.Collection(colChecklists).Find(ctx, bson.D{}, opts)
	if err != nil {
		return nil, translate(err)
	}
	var docs []checklistDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	out := make([]checklist.ChecklistRecord, len(docs))
	for i, d := range docs {
		out[i] = d.record()
	}
	return out, nil
}

// ReplaceDraft replaces the draft of checklist id, which must be at
// revision, and returns the checklist at the next revision. A stale
// revision is ERevision with the current checklist as Current. The draft
// need not be valid yet, only within the limits of Content.ValidateDraft.
// by made the change, for the records and the audit trail.
func (db *DB) ReplaceDraft(ctx context.Context, id string, revision int, draft checklist.Content, by checklist.Actor) (_ checklist.ChecklistRecord, err error) {
	defer wrap(&err, "replace draft of checklist %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if err := draft.ValidateDraft(); err != nil {
		return checklist.ChecklistRecord{}, err
	}
	unlock := db.locks.Lock(checklistLock(id))
	defer unlock()
	doc, err := db.findChecklistDoc(ctx, id)
	if err != nil {
		return checklist.ChecklistRecord{}, err
	}
	cur := doc.record()
	if cur.Revision != revision {
		return checklist.ChecklistRecord{}, staleDraft(cur, revision)
	}
	now := db.now()
	next := cur
	next.Title, next.Draft, next.Revision, next.UpdatedAt, next.UpdatedBy = draft.Title, draft.Clone(), revision+1, now, by.UserID
	outbox := outboxOf(checklist.DraftAuditEntry(&cur, next, by))
	// The previous write's entry, should a crash have kept it back: it
	// must be in the trail before this write replaces it.
	if err := db.copyOutbox(ctx, doc.Outbox); err != nil {
		return checklist.ChecklistRecord{}, err
	}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "title", Value: newTextDoc(draft.Title)},
		{Key: "draft", Value: newContentDoc(draft)},
		{Key: "revision", Value: revision + 1},
		{Key: "updated_at", Value: now},
		{Key: "updated_by", Value: by.UserID},
		{Key: "audit_outbox", Value: outbox},
	}}}
	if err := checkDocSize(update); err != nil {
		return checklist.ChecklistRecord{}, err
	}
	res, err := db.db.Collection(colChecklists).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "revision", Value: revision}}, update)
	if err != nil {
		return checklist.ChecklistRecord{}, translate(err)
	}
	if res.MatchedCount == 0 {
		// Another instance changed it between our read and write.
		if cur, err = db.FindChecklist(ctx, id); err != nil {
			return checklist.ChecklistRecord{}, err
		}
		return checklist.ChecklistRecord{}, staleDraft(cur, revision)
	}
	db.afterWrite(ctx, outbox)
	return next, nil
}

func staleDraft(cur checklist.ChecklistRecord, revision int) error {
	return &checklist.Error{Code: checklist.ERevision, Current: cur,
		Message: fmt.Sprintf("the draft is at revision %d, not %d: someone changed it; reload and apply the change again", cur.Revision, revision)}
}

// Publish publishes the draft of checklist id as its next version and
// returns the version. Two preconditions, each checked unless 0: revision
// is the draft revision the caller reviewed (a different one is
// ERevision); number is the version number the caller means to create (a
// number already published is EConflict, because a version can never
// change; any number but the next is EConflict too). The draft must be valid (EInvalid with every
// problem otherwise) and differ from the latest version (EConflict: a
// second identical version would say nothing new). The version is
// inserted under its unique (checklist_id, number) key, so of two
// concurrent publishes of one number, on one instance or several, exactly
// one is stored and the other is EConflict. Nothing is stored on error.
// The version document carries the publish's audit entry (by is who
// published), so a publish is audited once, however often it is tried.
func (db *DB) Publish(ctx context.Context, id string, revision, number int, by checklist.Actor) (_ checklist.Version, err error) {
	defer wrap(&err, "publish checklist %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(checklistLock(id))
	defer unlock()
	rec, err := db.FindChecklist(ctx, id)
	if err != nil {
		return checklist.Version{}, err
	}
	if revision != 0 && rec.Revision != revision {
		return checklist.Version{}, staleDraft(rec, revision)
	}
	// A publish interrupted between storing its version and recording the
	// number leaves latest_version behind; the versions themselves count.
	latest, err := db.latestVersionNumber(ctx, id)
	if err != nil {
		return checklist.Version{}, err
	}
	rec.LatestVersion = max(rec.LatestVersion, latest)
	next := rec.LatestVersion + 1
	switch {
	case number != 0 && number < next:
		return checklist.Version{}, checklist.ImmutableVersionError(number)
	case number != 0 && number != next:
		return checklist.Version{}, checklist.Errorf(checklist.EConflict, "the next version of checklist %q is %d, not %d", id, next, number)
	}
	if rec.LatestVersion > 0 {
		prev, err := db.ChecklistVersion(ctx, id, rec.LatestVersion)
		if err != nil {
			return checklist.Version{}, err
		}
		if prev.Content.Equal(rec.Draft) {
			return checklist.Version{}, checklist.Errorf(checklist.EConflict, "the draft is the same as version %d; change it before publishing", prev.Number)
		}
	}
	v, err := rec.Checklist.Publish(db.now(), by.UserID)
	if err != nil {
		return checklist.Version{}, err
	}
	if err := db.insertVersion(ctx, v, checklist.PublishAuditEntry(v, by)); err != nil {
		return checklist.Version{}, err
	}
	// Should this fail, the version is stored and counts all the same
	// (latestVersionNumber); the next publish repairs the record.
	if err := db.recordLatest(ctx, id, v.Number); err != nil {
		db.logger().Warn("latest version not recorded; the next publish records it",
			slog.String("checklist", id), slog.Int("version", v.Number), slog.String("error", err.Error()))
	}
	return v, nil
}

// findChecklistHead reads a checklist without its draft content.
func (db *DB) findChecklistHead(ctx context.Context, id string) (checklist.ChecklistRecord, error) {
	var doc checklistDoc
	opts := options.FindOne().SetProjection(bson.D{{Key: "draft.sections", Value: 0}})
	if err := db.db.Collection(colChecklists).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, opts).Decode(&doc); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return checklist.ChecklistRecord{}, errNoChecklist(id)
		}
		return checklist.ChecklistRecord{}, translate(err)
	}
	return doc.record(), nil
}

// FindApplicability returns which checklists apply; revision 0 and no
// assignments when nothing was ever set.
func (db *DB) FindApplicability(ctx context.Context) (_ checklist.Applicability, err error) {
	defer wrap(&err, "find applicability")
	doc, err := db.findApplicabilityDoc(ctx)
	if err != nil {
		return checklist.Applicability{}, err
	}
	return doc.applicability(), nil
}

// findApplicabilityDoc reads the applicability as stored; a zero document
// (revision 0) when nothing was ever set.
func (db *DB) findApplicabilityDoc(ctx context.Context) (applicabilityDoc, error) {
	var doc applicabilityDoc
	err := db.db.Collection(colApplicability).FindOne(ctx, bson.D{{Key: "_id", Value: applicabilityID}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return applicabilityDoc{}, nil
	}
	return doc, translate(err)
}

// SetApplicability replaces which checklists apply with a (its Default
// and Kinds), which must be based on revision (0 when nothing was set
// yet). Every named checklist must exist and have a published version
// that is not retired, so that a facility is never pointed at nothing.
// A stale revision is ERevision with the current applicability.
// by made the change, for the records and the audit trail.
func (db *DB) SetApplicability(ctx context.Context, a checklist.Applicability, revision int, by checklist.Actor) (_ checklist.Applicability, err error) {
	defer wrap(&err, "set applicability")
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if err := a.Validate(); err != nil {
		return checklist.Applicability{}, err
	}
	unlock := db.locks.Lock("checklist_applicability")
	defer unlock()
	prev, err := db.findApplicabilityDoc(ctx)
	if err != nil {
		return checklist.Applicability{}, err
	}
	cur := prev.applicability()
	if cur.Revision != revision {
		return checklist.Applicability{}, staleApplicability(cur, revision)
	}
	if err := db.checkApplicable(ctx, a); err != nil {
		return checklist.Applicability{}, err
	}
	doc := applicabilityDoc{ID: applicabilityID, Default: a.Default, Kinds: []kindAssignDoc{},
		Revision: revision + 1, UpdatedAt: db.now(), UpdatedBy: by.UserID}
	for _, k := range checklist.FacilityKinds {
		if id := a.Kinds[k]; id != "" {
			doc.Kinds = append(doc.Kinds, kindAssignDoc{Kind: string(k), ChecklistID: id})
		}
	}
	doc.Outbox = outboxOf(checklist.ApplicabilityAuditEntry(cur, doc.applicability(), by))
	// The previous write's entry, should a crash have kept it back: it
	// must be in the trail before this write replaces it.
	if err := db.copyOutbox(ctx, prev.Outbox); err != nil {
		return checklist.Applicability{}, err
	}
	col := db.db.Collection(colApplicability)
	if revision == 0 {
		// The first write creates the document: of two racing creators
		// the unique _id lets one win.
		if _, err := col.InsertOne(ctx, doc); err != nil {
			return checklist.Applicability{}, db.applicabilityConflict(ctx, revision, translate(err))
		}
		db.afterWrite(ctx, doc.Outbox)
		return doc.applicability(), nil
	}
	res, err := col.ReplaceOne(ctx, bson.D{{Key: "_id", Value: applicabilityID}, {Key: "revision", Value: revision}}, doc)
	if err != nil {
		return checklist.Applicability{}, translate(err)
	}
	if res.MatchedCount == 0 {
		return checklist.Applicability{}, db.applicabilityConflict(ctx, revision, nil)
	}
	db.afterWrite(ctx, doc.Outbox)
	return doc.applicability(), nil
}

func (db *DB) applicabilityConflict(ctx context.Context, revision int, err error) error {
	if err != nil && !errors.Is(err, checklist.EConflict) {
		return err
	}
	cur, ferr := db.FindApplicability(ctx)
	if ferr != nil {
		return ferr
	}
	return staleApplicability(cur, revision)
}

func staleApplicability(cur checklist.Applicability, revision int) error {
	return &checklist.Error{Code: checklist.ERevision, Current: cur,
		Message: fmt.Sprintf("the applicability is at revision %d, not %d: someone changed it; reload and apply the change again", cur.Revision, revision)}
}

// checkApplicable checks that every checklist a names exists and has a
// version to offer.
func (db *DB) checkApplicable(ctx context.Context, a checklist.Applicability) error {
	ids := a.ChecklistIDs()
	current, err := db.ApplicableVersions(ctx, ids)
	if err != nil {
		return err
	}
	var p checklist.Problems
	check := func(field, id string) {
		if id == "" {
			return
		}
		if _, ok := current[id]; ok {
			return
		}
		if _, err := db.findChecklistHead(ctx, id); errors.Is(err, checklist.ENotFound) {
			p.Add(field, "unknown_checklist", "there is no checklist %q", id)
			return
		}
		p.Add(field, "no_version", "checklist %q has no published version that is not retired", id)
	}
	check("default_checklist_id", a.Default)
	for _, k := range checklist.FacilityKinds {
		check("kinds."+string(k), a.Kinds[k])
	}
	return p.Err("the applicability names checklists that cannot apply")
}

// DefaultChecklistID is the id of the checklist first start publishes.
const DefaultChecklistID = "default"

// EnsureDefaultChecklist makes a fresh database usable: when no checklist
// exists, it creates checklist DefaultChecklistID with content as its
// draft, publishes it as version 1 and makes it the default. It reports
// whether it published. Each step is idempotent and guarded by a unique
// key, so it is safe to run at every start, by several instances at once,
// and after a start that stopped half-way; once any other checklist
// exists, or the default checklist has a version, it does nothing.
func (db *DB) EnsureDefaultChecklist(ctx context.Context, content checklist.Content) (published bool, err error) {
	defer wrap(&err, "ensure the default checklist")
	if err := content.Validate(); err != nil {
		return false, fmt.Errorf("the bundled checklist: %w", err)
	}
	rec, err := db.FindChecklist(ctx, DefaultChecklistID)
	switch checklist.ErrorCode(err) {
	case "":
	case checklist.ENotFound:
		n, err := db.db.Collection(colChecklists).CountDocuments(ctx, bson.D{})
		if err != nil {
			return false, translate(err)
		}
		if n > 0 {
			return false, nil // the admins have their own checklists
		}
		rec, err = db.CreateChecklist(ctx, DefaultChecklistID, content, checklist.SystemActor)
		if errors.Is(err, checklist.EConflict) {
			rec, err = db.FindChecklist(ctx, DefaultChecklistID) // another instance was first
		}
		if err != nil {
			return false, err
		}
	default:
		return false, err
	}

	latest, err := db.latestVersionNumber(ctx, DefaultChecklistID)
	if err != nil {
		return false, err
	}
	if latest == 0 {
		_, err := db.Publish(ctx, DefaultChecklistID, 0, 1, checklist.SystemActor)
		switch checklist.ErrorCode(err) {
		case "":
			published = true
		case checklist.EConflict: // another instance published version 1
		default:
			return false, err
		}
	} else if rec.LatestVersion < latest {
		_ = db.recordLatest(ctx, DefaultChecklistID, latest)
	}

	a, err := db.FindApplicability(ctx)
	if err != nil {
		return published, err
	}
	if a.Revision == 0 {
		_, err := db.SetApplicability(ctx, checklist.Applicability{Default: DefaultChecklistID}, 0, checklist.SystemActor)
		if err != nil && !errors.Is(err, checklist.ERevision) {
			return published, err
		}
	}
	return published, nil
}
