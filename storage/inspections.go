package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

const colInspections = "inspections"

func init() {
	indexes[colInspections] = []mongo.IndexModel{
		// Reviewers' lists and reports: one facility's or every
		// facility's inspections of a fiscal year.
		{Keys: bson.D{{Key: "facility_id", Value: 1}, {Key: "fiscal_year", Value: 1}}},
		{Keys: bson.D{{Key: "fiscal_year", Value: 1}, {Key: "status", Value: 1}}},
		{Keys: bson.D{{Key: "status", Value: 1}}},
		// Tablet sync: what changed since a cursor.
		{Keys: bson.D{{Key: "updated_at", Value: 1}, {Key: "_id", Value: 1}}},
		// Photo download authorization: which inspections hold a photo
		// (photos.sha256: as stored before photo_sha256).
		{Keys: bson.D{{Key: "photo_sha256", Value: 1}}},
		{Keys: bson.D{{Key: "photos.sha256", Value: 1}}},
	}
}

// maxInspectionDoc bounds a stored inspection. MongoDB refuses documents
// over 16 MB; the embedded server accepts them, so the limit is ours.
const maxInspectionDoc = 8 << 20

// inspectionDoc is an inspection as stored: one document with its
// answers inside. Answers, cleared items and item comments are arrays of
// sub-documents, not maps, so that reports can $unwind them and item keys
// never become field names.
type inspectionDoc struct {
	ID          string `bson:"_id"`
	FacilityID  string `bson:"facility_id"`
	ChecklistID string `bson:"checklist_id"`
	Version     int    `bson:"version"`
	Date        string `bson:"inspection_date"`
	FiscalYear  int    `bson:"fiscal_year"`
	Status      string `bson:"status"`
	// AnswersJSON holds the answers ([]answerDoc) as one JSON string.
	// The embedded server stores a type schema beside every field of
	// every sub-document and parses it all on every write of the
	// inspection: as typed sub-documents the answers were most of a
	// save's cost. Nothing queries inside them (reports read
	// report_rows). Answers is how they were stored before: still read.
	AnswersJSON string      `bson:"answers_json,omitempty"`
	Answers     []answerDoc `bson:"answers,omitempty"`
	// AnswersZ is how AnswersJSON is stored when it is long: deflated
	// (packJSON). A whole checklist's answers are ~10 KB of JSON that
	// deflates to a fifth, and the embedded server's cost of a write grows
	// with the document: a replace of a submitted inspection cost it
	// 1.43 ms of CPU as text, 0.93 ms deflated (BenchmarkWriteFloor).
	// Documents stored before hold answers_json: still read.
	AnswersZ []byte `bson:"answers_z,omitempty"`
	// DetailJSON holds what lists do not carry besides the answers —
	// cleared items, history, applied idempotency keys (detailDoc) — and
	// ListJSON what they do — photos, review, totals (listDoc): one JSON
	// string each, for the reason answers are one (the embedded server
	// parsed every field of them on every write). Two strings, so that
	// list queries still leave the detail out. PhotoSHA256 is the photos'
	// digests, which the photo download's query reads. The typed fields
	// below them are how these were stored before: still read.
	DetailJSON  string          `bson:"detail_json,omitempty"`
	ListJSON    string          `bson:"list_json,omitempty"`
	PhotoSHA256 []string        `bson:"photo_sha256,omitempty"`
	Cleared     []clearedDoc    `bson:"cleared,omitempty"`
	Photos      []photoDoc      `bson:"photos,omitempty"`
	Review      *reviewDoc      `bson:"review,omitempty"`
	History     []transitionDoc `bson:"history,omitempty"`
	Totals      *totalsDoc      `bson:"totals,omitempty"`
	Revision    int64           `bson:"revision"`
	CreatedAt   time.Time       `bson:"created_at"`
	CreatedBy   string          `bson:"created_by"`
	UpdatedAt   time.Time       `bson:"updated_at"`
	UpdatedBy   string          `bson:"updated_by"`
	Applied     []string        `bson:"applied,omitempty"` // "revision|key"; before detail_json
	// Outbox is the audit entry of the write that produced this
	// revision. It is written with the inspection, then copied to the
	// audit collection; if the process dies in between, the next write
	// carries it on or copies it (the audit key makes the copy
	// idempotent).
	Outbox *auditDoc `bson:"-"`
	// Unsent are the audit entries of earlier writes that were not known
	// to be in the audit collection when this revision was written: a
	// write carries them on instead of copying them first, and the audit
	// copier copies them with Outbox (at most maxUnsent; beyond, the
	// write copies them first).
	Unsent []auditDoc `bson:"-"`
	// AuditJSON stores Unsent and then Outbox as one JSON array: as
	// sub-documents the embedded server parsed every field of them, and
	// a full save's entry names every item, on every write. StoredOutbox
	// is how the outbox was stored before: still read.
	AuditJSON    string    `bson:"audit_json,omitempty"`
	StoredOutbox *auditDoc `bson:"audit_outbox,omitempty"`
	// decoded is what toInspectionDoc encoded into AnswersJSON,
	// DetailJSON and ListJSON, kept with a document this process wrote:
	// the write cache's copy is the base of the next write and of the
	// owner's reads, which then parse none of it again. Not stored; nil
	// in a document read from the database.
	decoded *decodedDoc
}

// forCache is d as the write cache keeps it: decoded, without the JSON
// strings it was stored with (nothing reads them from the cache), so
// that a cached inspection takes about the memory it did as strings.
func (d inspectionDoc) forCache() *inspectionDoc {
	if d.decoded != nil {
		d.AnswersJSON, d.DetailJSON, d.ListJSON = "", "", ""
	}
	return &d
}

// decodedDoc is the content of an inspection's JSON strings. Readers
// share it: toDomain copies out of it and never changes it.
type decodedDoc struct {
	answers []answerDoc
	detail  detailDoc
	list    listDoc
}

// storedInspection is inspectionDoc without its BSON methods.
type storedInspection inspectionDoc

// MarshalBSON stores d with its audit entries packed into AuditJSON.
func (d inspectionDoc) MarshalBSON() ([]byte, error) {
	s := storedInspection(d)
	s.AuditJSON, s.StoredOutbox = "", nil
	if entries := d.entries(); len(entries) > 0 {
		js, err := json.Marshal(entries)
		if err != nil {
			return nil, fmt.Errorf("inspection %s: audit entries: %w", d.ID, err)
		}
		s.AuditJSON = string(js)
	}
	s.AnswersZ, s.AnswersJSON = packJSON(s.AnswersJSON)
	return bson.Marshal(s)
}

// UnmarshalBSON reads a stored inspection and unpacks its audit entries.
func (d *inspectionDoc) UnmarshalBSON(b []byte) error {
	var s storedInspection
	if err := bson.Unmarshal(b, &s); err != nil {
		return err
	}
	*d = inspectionDoc(s)
	if d.AnswersZ != nil {
		js, err := unpackJSON(d.AnswersZ)
		if err != nil {
			return fmt.Errorf("inspection %s: stored answers: %w", d.ID, err)
		}
		d.AnswersJSON, d.AnswersZ = js, nil
	}
	d.Outbox, d.Unsent = d.StoredOutbox, nil
	if d.AuditJSON != "" {
		var entries []auditDoc
		if err := json.Unmarshal([]byte(d.AuditJSON), &entries); err != nil {
			return fmt.Errorf("inspection %s: stored audit entries: %w", d.ID, err)
		}
		if n := len(entries); n > 0 {
			d.Unsent, d.Outbox = entries[:n-1:n-1], &entries[n-1]
		}
	}
	d.AuditJSON, d.StoredOutbox = "", nil
	return nil
}

// maxUnsent bounds the audit entries an inspection carries on.
const maxUnsent = 8

// entries are d's audit entries that may not be in the trail yet:
// Unsent, then Outbox.
func (d *inspectionDoc) entries() []*auditDoc {
	out := make([]*auditDoc, 0, len(d.Unsent)+1)
	for i := range d.Unsent {
		out = append(out, &d.Unsent[i])
	}
	if d.Outbox != nil {
		out = append(out, d.Outbox)
	}
	return out
}

// answerDoc is one stored answer, flat, with the numbers reports sum:
// failed and na as 0/1, points and max_points. The embedded server stores
// a type schema beside every field of every array element, so the fewer
// fields an answer has, the less every query of the collection decodes.
type answerDoc struct {
	Key       string    `bson:"key" json:"key"`
	Value     any       `bson:"value" json:"value"`
	Comment   string    `bson:"comment,omitempty" json:"comment,omitempty"`
	Photos    []string  `bson:"photos,omitempty" json:"photos,omitempty"`
	Failed    int       `bson:"failed" json:"failed,omitempty"`
	NA        int       `bson:"na" json:"na,omitempty"`
	Points    float64   `bson:"points" json:"points,omitempty"`
	MaxPoints float64   `bson:"max_points" json:"max_points,omitempty"`
	Revision  int64     `bson:"revision" json:"revision"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
	UpdatedBy string    `bson:"updated_by" json:"updated_by"`
}

// detailDoc is stored as detail_json, listDoc as list_json.
type detailDoc struct {
	Cleared []clearedDoc    `json:"cleared,omitempty"`
	History []transitionDoc `json:"history,omitempty"`
	Applied []string        `json:"applied,omitempty"`
}

type listDoc struct {
	Photos []photoDoc `json:"photos,omitempty"`
	Review reviewDoc  `json:"review"`
	Totals totalsDoc  `json:"totals"`
}

type clearedDoc struct {
	Key       string    `bson:"key" json:"key"`
	Revision  int64     `bson:"revision" json:"revision"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
	UpdatedBy string    `bson:"updated_by" json:"updated_by"`
}

type photoDoc struct {
	SHA256      string    `bson:"sha256" json:"sha256"`
	ItemKey     string    `bson:"item_key" json:"item_key"`
	ContentType string    `bson:"content_type" json:"content_type"`
	Size        int64     `bson:"size" json:"size"`
	At          time.Time `bson:"at" json:"at"`
	By          string    `bson:"by" json:"by"`
}

type itemCommentDoc struct {
	Key     string `bson:"key" json:"key"`
	Comment string `bson:"comment" json:"comment"`
}

type reviewDoc struct {
	Comment string           `bson:"comment,omitempty" json:"comment,omitempty"`
	Items   []itemCommentDoc `bson:"items,omitempty" json:"items,omitempty"`
	By      string           `bson:"by,omitempty" json:"by,omitempty"`
	At      time.Time        `bson:"at,omitempty" json:"at,omitzero"`
}

type transitionDoc struct {
	From     string           `bson:"from" json:"from"`
	To       string           `bson:"to" json:"to"`
	At       time.Time        `bson:"at" json:"at"`
	By       string           `bson:"by" json:"by"`
	ByName   string           `bson:"by_name" json:"by_name"`
	Role     string           `bson:"role" json:"role"`
	Reason   string           `bson:"reason,omitempty" json:"reason,omitempty"`
	Items    []itemCommentDoc `bson:"items,omitempty" json:"items,omitempty"`
	Revision int64            `bson:"revision" json:"revision"`
}

type totalsDoc struct {
	Points    float64 `bson:"points" json:"points"`
	MaxPoints float64 `bson:"max_points" json:"max_points"`
	Answered  int     `bson:"answered" json:"answered"`
	Failed    int     `bson:"failed" json:"failed"`
	NA        int     `bson:"na" json:"na"`
}

// appliedString and parseApplied store an applied idempotency key as one
// string, "revision|key fingerprint" (keys are printable ASCII without
// spaces): an array of strings is the cheapest array to store. Records
// written before fingerprints were kept are "revision|key".
func appliedString(a checklist.AppliedRequest) string {
	return strconv.FormatInt(a.Revision, 10) + "|" + a.Key + " " + a.Fingerprint
}

func parseApplied(s string) checklist.AppliedRequest {
	rev, rest, _ := strings.Cut(s, "|")
	n, _ := strconv.ParseInt(rev, 10, 64)
	a := checklist.AppliedRequest{Key: rest, Revision: n}
	if i := strings.LastIndexByte(rest, ' '); i >= 0 {
		a.Key, a.Fingerprint = rest[:i], rest[i+1:]
	}
	return a
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func commentsToDoc(m map[string]string) []itemCommentDoc {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]itemCommentDoc, len(keys))
	for i, k := range keys {
		out[i] = itemCommentDoc{k, m[k]}
	}
	return out
}

func commentsFromDoc(d []itemCommentDoc) map[string]string {
	if len(d) == 0 {
		return nil
	}
	m := make(map[string]string, len(d))
	for _, c := range d {
		m[c.Key] = c.Comment
	}
	return m
}

func toInspectionDoc(in *checklist.Inspection) inspectionDoc {
	d := inspectionDoc{
		ID: in.ID, FacilityID: in.FacilityID, ChecklistID: in.ChecklistID, Version: in.Version,
		Date: in.Date.String(), FiscalYear: in.FiscalYear, Status: string(in.Status),
		Revision:  in.Revision,
		CreatedAt: in.Created.At, CreatedBy: in.Created.By,
		UpdatedAt: in.Updated.At, UpdatedBy: in.Updated.By,
	}
	detail := detailDoc{
		Cleared: make([]clearedDoc, 0, len(in.Cleared)),
		History: make([]transitionDoc, 0, len(in.History)),
		Applied: make([]string, 0, len(in.Applied)),
	}
	list := listDoc{
		Photos: make([]photoDoc, 0, len(in.Photos)),
		Review: reviewDoc{Comment: in.Review.Comment, Items: commentsToDoc(in.Review.Items),
			By: in.Review.By, At: in.Review.At},
		Totals: totalsDoc{Points: in.Totals.Points, MaxPoints: in.Totals.MaxPoints,
			Answered: in.Totals.Answered, Failed: in.Totals.Failed, NA: in.Totals.NA},
	}
	answers := make([]answerDoc, 0, len(in.Answers))
	for _, k := range slices.Sorted(maps.Keys(in.Answers)) {
		answers = append(answers, toAnswerDoc(k, in.Answers[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(in.Cleared)) {
		s := in.Cleared[k]
		detail.Cleared = append(detail.Cleared, clearedDoc{Key: k, Revision: s.Revision, UpdatedAt: s.At, UpdatedBy: s.By})
	}
	for _, p := range in.Photos {
		list.Photos = append(list.Photos, photoDoc{SHA256: p.SHA256, ItemKey: p.ItemKey, ContentType: p.ContentType,
			Size: p.Size, At: p.At, By: p.By})
		if !slices.Contains(d.PhotoSHA256, p.SHA256) {
			d.PhotoSHA256 = append(d.PhotoSHA256, p.SHA256)
		}
	}
	for _, t := range in.History {
		detail.History = append(detail.History, transitionDoc{From: string(t.From), To: string(t.To), At: t.At, By: t.By,
			ByName: t.ByName, Role: string(t.Role), Reason: t.Reason, Items: commentsToDoc(t.Items), Revision: t.Revision})
	}
	for _, a := range in.Applied {
		detail.Applied = append(detail.Applied, appliedString(a))
	}
	d.AnswersJSON = mustJSON(in.ID, "answers", answers)
	d.DetailJSON = mustJSON(in.ID, "detail", detail)
	d.ListJSON = mustJSON(in.ID, "list fields", list)
	d.decoded = &decodedDoc{answers: answers, detail: detail, list: list}
	return d
}

// mustJSON encodes v, made of plain values only: it cannot fail.
func mustJSON(id, what string, v any) string {
	js, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("inspection %s: %s: %v", id, what, err))
	}
	return string(js)
}

// unpack reads what d stored as JSON (detail_json, list_json) into its
// typed fields, where documents stored before held them.
func (d *inspectionDoc) unpack() error {
	if d.DetailJSON != "" {
		var detail detailDoc
		if err := json.Unmarshal([]byte(d.DetailJSON), &detail); err != nil {
			return fmt.Errorf("inspection %s: stored detail: %w", d.ID, err)
		}
		d.Cleared, d.History, d.Applied = detail.Cleared, detail.History, detail.Applied
	}
	if d.ListJSON != "" {
		var list listDoc
		if err := json.Unmarshal([]byte(d.ListJSON), &list); err != nil {
			return fmt.Errorf("inspection %s: stored list fields: %w", d.ID, err)
		}
		d.Photos, d.Review, d.Totals = list.Photos, &list.Review, &list.Totals
	}
	return nil
}

func (d *inspectionDoc) toDomain() (*checklist.Inspection, error) {
	date, err := checklist.ParseDate(d.Date)
	if err != nil {
		return nil, fmt.Errorf("inspection %s: stored date: %w", d.ID, err)
	}
	// The typed fields are read from a copy: d may be this process's
	// cached copy of its write, shared by readers.
	t := *d
	if dd := d.decoded; dd != nil {
		t.Cleared, t.History, t.Applied = dd.detail.Cleared, dd.detail.History, dd.detail.Applied
		t.Photos, t.Review, t.Totals = dd.list.Photos, &dd.list.Review, &dd.list.Totals
	} else if err := t.unpack(); err != nil {
		return nil, err
	}
	review, totals := reviewDoc{}, totalsDoc{}
	if t.Review != nil {
		review = *t.Review
	}
	if t.Totals != nil {
		totals = *t.Totals
	}
	in := &checklist.Inspection{
		ID: d.ID, FacilityID: d.FacilityID, ChecklistID: d.ChecklistID, Version: d.Version,
		Date: date, FiscalYear: d.FiscalYear, Status: checklist.Status(d.Status),
		Answers: map[string]checklist.AnswerRecord{},
		Cleared: make(map[string]checklist.Stamp, len(t.Cleared)),
		Review: checklist.Review{Comment: review.Comment, Items: commentsFromDoc(review.Items),
			By: review.By, At: review.At.UTC()},
		Totals: checklist.Totals{Points: totals.Points, MaxPoints: totals.MaxPoints,
			Answered: totals.Answered, Failed: totals.Failed, NA: totals.NA},
		Revision: d.Revision,
		Created:  checklist.Stamp{Revision: 1, At: d.CreatedAt.UTC(), By: d.CreatedBy},
		Updated:  checklist.Stamp{Revision: d.Revision, At: d.UpdatedAt.UTC(), By: d.UpdatedBy},
	}
	answers := d.Answers
	if d.decoded != nil {
		answers = d.decoded.answers
	} else if d.AnswersJSON != "" {
		answers = nil
		if err := json.Unmarshal([]byte(d.AnswersJSON), &answers); err != nil {
			return nil, fmt.Errorf("inspection %s: stored answers: %w", d.ID, err)
		}
	}
	for _, a := range answers {
		r, err := a.toDomain()
		if err != nil {
			return nil, fmt.Errorf("inspection %s: stored answer %s: %w", d.ID, a.Key, err)
		}
		in.Answers[a.Key] = r
	}
	for _, c := range t.Cleared {
		in.Cleared[c.Key] = checklist.Stamp{Revision: c.Revision, At: c.UpdatedAt.UTC(), By: c.UpdatedBy}
	}
	for _, p := range t.Photos {
		in.Photos = append(in.Photos, checklist.Photo{SHA256: p.SHA256, ItemKey: p.ItemKey,
			ContentType: p.ContentType, Size: p.Size, At: p.At.UTC(), By: p.By})
	}
	for _, h := range t.History {
		in.History = append(in.History, checklist.Transition{From: checklist.Status(h.From), To: checklist.Status(h.To),
			At: h.At.UTC(), By: h.By, ByName: h.ByName, Role: checklist.Role(h.Role), Reason: h.Reason,
			Items: commentsFromDoc(h.Items), Revision: h.Revision})
	}
	for _, a := range t.Applied {
		in.Applied = append(in.Applied, parseApplied(a))
	}
	return in, nil
}

func inspectionLock(id string) string { return "inspection:" + id }

// CreateInspection stores a new inspection. Creating is idempotent on the
// client's id: if an inspection with in.ID exists and was created with the
// same facility, checklist version and date, it is returned with created
// false; if it differs, the result is EConflict carrying the existing one.
// The unique _id decides, so concurrent retries create exactly one.
func (db *DB) CreateInspection(ctx context.Context, in *checklist.Inspection, by checklist.Actor, req checklist.Idempotency) (_ *checklist.Inspection, created bool, err error) {
	defer wrap(&err, "create inspection %s", in.ID)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(inspectionLock(in.ID))
	defer unlock()

	now := db.now()
	in.Created.At, in.Updated.At = now, now
	in.RecordApplied(req)
	// A create may carry answers (saved with it): the entry names them.
	ch := checklist.InspectionChange{Action: checklist.ActionCreate, To: in.Status, Items: slices.Sorted(maps.Keys(in.Answers))}
	entry := checklist.InspectionAuditEntry(in, ch, by, req.Key)
	doc := toInspectionDoc(in)
	outbox := toAuditDoc(entry)
	doc.Outbox = &outbox
	unlockWrite := db.writeLock()
	_, err = db.db.Collection(colInspections).InsertOne(ctx, doc)
	unlockWrite()
	if err == nil {
		db.index.put(in)
		e := &cachedDoc{doc: doc.forCache()}
		db.cache.put(in.ID, e)
		db.followUpFailed(in.ID, db.afterInspectionWrite(ctx, in, e, in.FiscalYear, false, ""))
		return in, true, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		db.index.unknown(in.ID)
		return nil, false, translate(err)
	}
	existing, stored, err := db.loadInspection(ctx, in.ID)
	if err != nil {
		return nil, false, err
	}
	for _, entry := range stored.entries() {
		db.auditCopyFailed(entry, db.copyOutbox(ctx, entry))
	}
	if !existing.SameCreation(in) {
		return nil, false, &checklist.Error{Code: checklist.EConflict,
			Message: "an inspection with this id already exists with a different facility, checklist version or date",
			Current: existing}
	}
	return existing, false, nil
}

// FindInspection returns the inspection with id, or ENotFound.
func (db *DB) FindInspection(ctx context.Context, id string) (_ *checklist.Inspection, err error) {
	defer wrap(&err, "find inspection %s", id)
	return db.memory.findInspection(ctx, id)
}

// inspectionForWrite returns the stored inspection to base a write on:
// this process's copy of its last write when useCache and there is one,
// otherwise a fresh read. cached says which.
func (db *DB) inspectionForWrite(ctx context.Context, id string, useCache bool) (*cachedDoc, bool, error) {
	if useCache {
		if e, ok := db.cache.get(id); ok {
			return e, true, nil
		}
	}
	_, d, err := db.loadInspection(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return &cachedDoc{doc: d}, false, nil
}

func (db *DB) loadInspection(ctx context.Context, id string) (*checklist.Inspection, *inspectionDoc, error) {
	var d inspectionDoc
	if err := db.db.Collection(colInspections).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		err = translate(err)
		if checklist.ErrorCode(err) == checklist.ENotFound {
			return nil, nil, checklist.Errorf(checklist.ENotFound, "no inspection %s", id)
		}
		return nil, nil, err
	}
	in, err := d.toDomain()
	return in, &d, err
}

// UpdateInspection applies change to inspection id by read → domain
// function → ReplaceOne guarded by the revision read, and returns the
// result. It is the only way an inspection changes.
//
// Writers of one inspection are serialised in this process (the embedded
// server does not make the guard atomic); across processes on MongoDB
// the guard refuses a stale replace and the change is re-run on a fresh
// copy — the domain functions decide against the client's base revision,
// not the server's, so re-running them is safe.
//
// Idempotency: a write with req.Key records the key and the request's
// fingerprint inside the inspection, atomically with the change. A retry
// finds it there and gets the inspection with replayed true and nothing
// applied again — also after a crash between the write and the response,
// and also when the duplicate ran concurrently on another instance (its
// guarded replace fails and it decides again on the winner's copy). The
// key reused for a different request is refused (checklist.WasApplied).
//
// change is a pure domain function (see checklist.InspectionUpdate); the
// caller resolves everything it needs before, so nothing here calls back
// into the caller. Its one input only storage can supply, besides the
// inspection, is the checklist content the inspection is pinned to — its
// checklist id and version are known once it is read. Published content
// never changes and ChecklistContent keeps it in memory, so this is a
// memory read (the first use of a version in a process reads it once),
// and the content comes back in the result for the caller to render with.
//
// A refused change comes back as its domain error; conflicts (EConflict,
// ERevision, EPrecondition) carry the current copy in Current.
func (db *DB) UpdateInspection(ctx context.Context, id string, by checklist.Actor, req checklist.Idempotency, change checklist.InspectionUpdate) (_ checklist.InspectionWrite, err error) {
	defer wrap(&err, "update inspection %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(inspectionLock(id))
	defer unlock()

	for attempt := range 5 {
		// The first attempt may start from this process's copy of its
		// own last write; any doubt is settled by a fresh read.
		stored, cached, err := db.inspectionForWrite(ctx, id, attempt == 0)
		if err != nil {
			return checklist.InspectionWrite{}, err
		}
		in, err := stored.doc.toDomain()
		if err != nil {
			return checklist.InspectionWrite{}, err
		}
		content, err := db.ChecklistContent(ctx, in.ChecklistID, in.Version)
		if err != nil {
			return checklist.InspectionWrite{}, err
		}
		// The entries of earlier writes not yet known to be in the trail
		// (the copier is behind, or a crash came between) must not be
		// lost when this write replaces the document: it carries them
		// on, or, when they are many, copies them first.
		var unsent []auditDoc
		if !stored.outboxCopied.Load() {
			for _, entry := range stored.doc.entries() {
				unsent = append(unsent, *entry)
			}
			if len(unsent) > maxUnsent {
				for i := range unsent {
					if err := db.copyOutbox(ctx, &unsent[i]); err != nil {
						return checklist.InspectionWrite{}, err
					}
				}
				unsent = nil
			}
		}
		if _, ok, err := in.WasApplied(req); err != nil {
			return checklist.InspectionWrite{}, err
		} else if ok {
			return checklist.InspectionWrite{Inspection: in, Content: content, Replayed: true}, nil
		}
		before, counted := in.Revision, in.Status.CountsInReports()
		ch, err := change(in, content, db.now())
		if err != nil {
			if cached {
				db.cache.drop(id)
				continue // refused on the cached copy: decide on a fresh one
			}
			var e *checklist.Error
			if errors.As(err, &e) && (e.Code == checklist.ERevision || e.Code == checklist.EConflict || e.Code == checklist.EPrecondition) && e.Current == nil {
				e.Current, _ = stored.doc.toDomain()
			}
			return checklist.InspectionWrite{}, err
		}
		done := checklist.InspectionWrite{Inspection: in, Content: content}
		switch in.Revision {
		case before:
			return done, nil // nothing to change
		case before + 1:
		default:
			return checklist.InspectionWrite{}, fmt.Errorf("a change moved revision %d to %d", before, in.Revision)
		}
		in.RecordApplied(req)
		entry := checklist.InspectionAuditEntry(in, ch, by, req.Key)
		doc := toInspectionDoc(in)
		outbox := toAuditDoc(entry)
		doc.Outbox = &outbox
		doc.Unsent = unsent
		raw, err := bson.Marshal(doc)
		if err != nil {
			return checklist.InspectionWrite{}, err
		}
		if len(raw) > maxInspectionDoc {
			return checklist.InspectionWrite{}, checklist.Errorf(checklist.ETooLarge, "the inspection would grow beyond %d MB", maxInspectionDoc>>20)
		}
		var token string // the pending marker of follow-ups a crash must not lose
		if needsMarker(checklist.Status(stored.doc.Status), counted, in) {
			if token, err = db.markPending(ctx, id, stored.doc.FiscalYear); err != nil {
				return checklist.InspectionWrite{}, err
			}
		}
		unlockWrite := db.writeLock()
		res, err := db.db.Collection(colInspections).ReplaceOne(ctx, db.guardFilter(id, before), bson.Raw(raw))
		unlockWrite()
		if err != nil {
			// Whether it was written is unknown: forget the copy, and
			// read it again to finish its follow-ups if it was.
			db.cache.drop(id)
			db.index.unknown(id)
			if db.writtenAfterUnknown(ctx, id, doc.Outbox) == nil {
				return checklist.InspectionWrite{}, translate(err)
			}
		} else if res.MatchedCount == 0 {
			db.cache.drop(id)
			continue // another process wrote first: decide again on its result
		}
		db.index.put(in)
		e := &cachedDoc{doc: doc.forCache()}
		db.cache.put(id, e)
		db.followUpFailed(id, db.afterInspectionWrite(ctx, in, e, stored.doc.FiscalYear, counted, token))
		return done, nil
	}
	return checklist.InspectionWrite{}, checklist.Errorf(checklist.EUnavailable, "the inspection is changing too often to be written; retry")
}

// summaryProjection leaves out what lists do not show.
var summaryProjection = bson.D{
	{Key: "answers", Value: 0}, {Key: "answers_json", Value: 0}, {Key: "answers_z", Value: 0}, {Key: "cleared", Value: 0}, {Key: "history", Value: 0},
	{Key: "applied", Value: 0}, {Key: "detail_json", Value: 0}, {Key: "audit_outbox", Value: 0}, {Key: "audit_json", Value: 0},
}

// ListInspections returns inspections newest inspection date first
// (then by id), without answers, history or photos' details.
func (db *DB) ListInspections(ctx context.Context, f checklist.InspectionQuery) (_ checklist.InspectionPage, err error) {
	defer wrap(&err, "list inspections")
	limit := clampLimit(f.Limit)
	var ins []*checklist.Inspection // up to limit+1
	ins, err = db.memory.listInspections(ctx, f, limit)
	if err != nil {
		return checklist.InspectionPage{}, err
	}
	page := checklist.InspectionPage{Inspections: ins}
	if len(ins) > limit {
		page.Inspections, page.More = ins[:limit], true
	}
	if n := len(page.Inspections); n > 0 {
		last := page.Inspections[n-1]
		page.LastDate, page.LastID = last.Date.String(), last.ID
	}
	return page, nil
}

// listQueried is ListInspections as a query.
func (db *DB) listQueried(ctx context.Context, f checklist.InspectionQuery, limit int) ([]*checklist.Inspection, error) {
	filter := bson.D{}
	if f.FacilityIDs != nil {
		filter = append(filter, bson.E{Key: "facility_id", Value: bson.D{{Key: "$in", Value: f.FacilityIDs}}})
	}
	if f.FiscalYear != 0 {
		filter = append(filter, bson.E{Key: "fiscal_year", Value: f.FiscalYear})
	}
	switch {
	case f.Status != "":
		filter = append(filter, bson.E{Key: "status", Value: string(f.Status)})
	case !f.IncludeDiscarded:
		filter = append(filter, bson.E{Key: "status", Value: bson.D{{Key: "$ne", Value: string(checklist.StatusDiscarded)}}})
	}
	if f.AfterID != "" {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "inspection_date", Value: bson.D{{Key: "$lt", Value: f.AfterDate}}}},
			bson.D{{Key: "inspection_date", Value: f.AfterDate}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: f.AfterID}}}},
		}})
	}
	return db.findInspections(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "inspection_date", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(limit+1)).
		SetProjection(summaryProjection))
}

// ChangedInspections returns the inspections of facilities (nil for
// every facility) updated after (since, afterID), oldest change first:
// the tablets' sync feed.
func (db *DB) ChangedInspections(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) (_ []*checklist.Inspection, more bool, err error) {
	defer wrap(&err, "changed inspections")
	return db.memory.changedInspections(ctx, facilities, since, afterID, clampLimit(limit))
}

// changedQueried is ChangedInspections as a query.
func (db *DB) changedQueried(ctx context.Context, facilities []string, since time.Time, afterID string, limit int) ([]*checklist.Inspection, bool, error) {
	filter := bson.D{}
	if facilities != nil {
		filter = append(filter, bson.E{Key: "facility_id", Value: bson.D{{Key: "$in", Value: facilities}}})
	}
	filter = append(filter, bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gt", Value: since}}}},
		bson.D{{Key: "updated_at", Value: since}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: afterID}}}},
	}})
	opts := options.Find().
		SetSort(bson.D{{Key: "updated_at", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(int64(limit + 1)).
		SetProjection(bson.D{{Key: "applied", Value: 0}, {Key: "audit_outbox", Value: 0}, {Key: "audit_json", Value: 0}})
	ins, err := db.findInspections(ctx, filter, opts)
	if err != nil {
		return nil, false, err
	}
	if len(ins) > limit {
		return ins[:limit], true, nil
	}
	return ins, false, nil
}

// PhotoFacilities returns the facilities whose inspections hold the photo
// with digest sha: who may download it.
func (db *DB) PhotoFacilities(ctx context.Context, sha string) (_ []string, err error) {
	defer wrap(&err, "photo %s", sha)
	return db.memory.photoFacilities(ctx, sha)
}

// photoFacilitiesQueried is PhotoFacilities as a query.
func (db *DB) photoFacilitiesQueried(ctx context.Context, sha string) ([]string, error) {
	cur, err := db.db.Collection(colInspections).Find(ctx,
		bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "photo_sha256", Value: sha}},
			bson.D{{Key: "photos.sha256", Value: sha}}, // stored before photo_sha256
		}}},
		options.Find().SetProjection(bson.D{{Key: "facility_id", Value: 1}}))
	if err != nil {
		return nil, translate(err)
	}
	var docs []struct {
		FacilityID string `bson:"facility_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.FacilityID)
	}
	return ids, nil
}

func (db *DB) findInspections(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*checklist.Inspection, error) {
	cur, err := db.db.Collection(colInspections).Find(ctx, filter, opts)
	if err != nil {
		return nil, translate(err)
	}
	var docs []inspectionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	out := make([]*checklist.Inspection, 0, len(docs))
	for i := range docs {
		in, err := docs[i].toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// Page sizes.
const (
	defaultLimit = 50
	maxLimit     = 200
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

// ImportInspection stores an inspection built elsewhere — already
// filled, submitted or reviewed — with the audit entries of its history,
// in one insert and no read: demo data and migrations. An existing id is
// EConflict.
func (db *DB) ImportInspection(ctx context.Context, in *checklist.Inspection, trail []checklist.AuditEntry) (err error) {
	defer wrap(&err, "import inspection %s", in.ID)
	doc := toInspectionDoc(in)
	unlock := db.writeLock()
	_, err = db.db.Collection(colInspections).InsertOne(ctx, doc)
	unlock()
	if err != nil {
		return translate(err)
	}
	db.index.put(in)
	versions, err := db.reportFollowUps(ctx, in, in.FiscalYear, false)
	if err != nil {
		return err
	}
	if err := db.bumpReportVersions(ctx, versions...); err != nil {
		return err
	}
	for _, e := range trail {
		if err := db.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
