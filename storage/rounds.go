package storage

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// Inspection rounds (checklist.Round): one small document per fiscal
// year, keyed by the year, and one small document per round and facility,
// keyed "<year>:<facility id>". The keys are the _id, so "one round per
// fiscal year" and "one assignment per round and facility" are decided by
// the database on insert, race-safe on both servers. Nothing about an
// assignment's progress is stored: coverage is computed from the
// inspections (checklist.ComputeCoverage).
const (
	colRounds      = "rounds"
	colAssignments = "round_assignments"
)

func init() {
	indexes[colRounds] = nil
	indexes[colAssignments] = nil
}

type roundDoc struct {
	ID         string    `bson:"_id"` // the fiscal year, as text
	FiscalYear int       `bson:"fiscal_year"`
	Interim    string    `bson:"interim_date"`
	Final      string    `bson:"final_date"`
	DefaultDue string    `bson:"default_due_date"`
	Status     string    `bson:"status"`
	Revision   int64     `bson:"revision"`
	OpenedAt   time.Time `bson:"opened_at"`
	OpenedBy   string    `bson:"opened_by"`
	UpdatedAt  time.Time `bson:"updated_at"`
	UpdatedBy  string    `bson:"updated_by"`
	Outbox     *auditDoc `bson:"audit_outbox,omitempty"`
}

func roundKey(fy int) string { return strconv.Itoa(fy) }

func toRoundDoc(r checklist.Round) roundDoc {
	return roundDoc{ID: roundKey(r.FiscalYear), FiscalYear: r.FiscalYear, Interim: r.Interim.String(), Final: r.Final.String(),
		DefaultDue: r.DefaultDue.String(), Status: string(r.Status), Revision: r.Revision, OpenedAt: r.OpenedAt,
		OpenedBy: r.OpenedBy, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
}

func (d roundDoc) round() (checklist.Round, error) {
	r := checklist.Round{FiscalYear: d.FiscalYear, Status: checklist.RoundStatus(d.Status), Revision: d.Revision,
		OpenedAt: d.OpenedAt.UTC(), OpenedBy: d.OpenedBy, UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: d.UpdatedBy}
	var err error
	for _, x := range []struct {
		s string
		d *checklist.Date
	}{{d.Interim, &r.Interim}, {d.Final, &r.Final}, {d.DefaultDue, &r.DefaultDue}} {
		if *x.d, err = checklist.ParseDate(x.s); err != nil {
			return r, err
		}
	}
	return r, nil
}

type assignmentDoc struct {
	ID          string    `bson:"_id"` // checklist.AssignmentID
	FiscalYear  int       `bson:"fiscal_year"`
	FacilityID  string    `bson:"facility_id"`
	ChecklistID string    `bson:"checklist_id"`
	Version     int       `bson:"version"`
	Inspectors  []string  `bson:"inspectors"`
	Due         string    `bson:"due_date"`
	Origin      string    `bson:"origin"`
	AddedAt     time.Time `bson:"added_at"`
	Withdrawn   string    `bson:"withdrawn,omitempty"`
	WithdrawnAt time.Time `bson:"withdrawn_at,omitempty"`
	Revision    int64     `bson:"revision"`
	UpdatedAt   time.Time `bson:"updated_at"`
	UpdatedBy   string    `bson:"updated_by"`
}

func toAssignmentDoc(a checklist.Assignment) assignmentDoc {
	ins := a.Inspectors
	if ins == nil {
		ins = []string{}
	}
	return assignmentDoc{ID: a.ID(), FiscalYear: a.FiscalYear, FacilityID: a.FacilityID, ChecklistID: a.ChecklistID,
		Version: a.Version, Inspectors: ins, Due: a.Due.String(), Origin: string(a.Origin), AddedAt: a.AddedAt,
		Withdrawn: a.Withdrawn, WithdrawnAt: a.WithdrawnAt, Revision: a.Revision, UpdatedAt: a.UpdatedAt, UpdatedBy: a.UpdatedBy}
}

func (d assignmentDoc) assignment() (checklist.Assignment, error) {
	due, err := checklist.ParseDate(d.Due)
	a := checklist.Assignment{FiscalYear: d.FiscalYear, FacilityID: d.FacilityID, ChecklistID: d.ChecklistID,
		Version: d.Version, Inspectors: slices.Clone(d.Inspectors), Due: due, Origin: checklist.AssignmentOrigin(d.Origin),
		AddedAt: d.AddedAt.UTC(), Withdrawn: d.Withdrawn, Revision: d.Revision, UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: d.UpdatedBy}
	if a.Inspectors == nil {
		a.Inspectors = []string{}
	}
	if !d.WithdrawnAt.IsZero() {
		a.WithdrawnAt = d.WithdrawnAt.UTC()
	}
	return a, err
}

func (db *DB) roundLock(fy int) func() { return db.locks.Lock(colRounds + "/" + roundKey(fy)) }

// OpenRound stores round r with its assignments. A round of that fiscal
// year already stored is EConflict and nothing is written. The
// assignments are written first, in batches, ignoring ones already there
// (a retry after a crash), and the round last: until it exists the
// assignments are not a round, and the round's unique key decides a race
// between two openings. The audit trail gets one entry for the opening.
func (db *DB) OpenRound(ctx context.Context, r checklist.Round, as []checklist.Assignment, by checklist.Actor) (err error) {
	defer wrap(&err, "open round %d", r.FiscalYear)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if err := r.Validate(); err != nil {
		return err
	}
	unlock := db.roundLock(r.FiscalYear)
	defer unlock()
	if _, err := db.FindRound(ctx, r.FiscalYear); err == nil {
		return roundExists(r.FiscalYear)
	} else if !errors.Is(err, checklist.ENotFound) {
		return err
	}
	clean, err := db.insertAssignments(ctx, as)
	if err != nil {
		return err
	}
	doc := toRoundDoc(r)
	doc.Outbox = outboxOf(checklist.RoundAuditEntry(nil, r, by, len(as)))
	u := db.writeLock()
	_, err = db.db.Collection(colRounds).InsertOne(ctx, doc)
	u()
	if err != nil {
		if err = translate(err); errors.Is(err, checklist.EConflict) {
			return roundExists(r.FiscalYear)
		}
		return err
	}
	db.afterWrite(ctx, doc.Outbox, checklist.ReportVersionRound(r.FiscalYear))
	if clean {
		db.memory.roundOpened(r.FiscalYear, as)
	}
	return nil
}

func roundExists(fy int) error {
	return &checklist.Error{Code: checklist.EConflict, Message: "the round of fiscal year " + roundKey(fy) + " is already open",
		Fields: []checklist.FieldError{{Field: "fiscal_year", Code: "taken", Message: "a round of this fiscal year exists"}}}
}

// insertAssignments inserts as in batches, unordered, so that one already
// stored does not stop the others. clean reports that none was there.
func (db *DB) insertAssignments(ctx context.Context, as []checklist.Assignment) (clean bool, err error) {
	const batch = 500
	clean = true
	for start := 0; start < len(as); start += batch {
		docs := make([]any, 0, batch)
		for _, a := range as[start:min(start+batch, len(as))] {
			docs = append(docs, toAssignmentDoc(a))
		}
		u := db.writeLock()
		_, err := db.db.Collection(colAssignments).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		u()
		db.rounds.changed(as[start].FiscalYear)
		if err != nil {
			if !onlyDuplicates(err) {
				return false, translate(err)
			}
			clean = false
		}
	}
	return clean, nil
}

// onlyDuplicates reports whether a bulk write failed only on keys that
// exist.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return mongo.IsDuplicateKeyError(err)
	}
	for _, we := range bwe.WriteErrors {
		if !we.HasErrorCode(11000) && !embeddedUniqueViolation(we) {
			return false
		}
	}
	return true
}

// FindRound returns the round of fiscal year fy, or ENotFound.
func (db *DB) FindRound(ctx context.Context, fy int) (_ checklist.Round, err error) {
	defer wrap(&err, "find round %d", fy)
	var d roundDoc
	if err := db.db.Collection(colRounds).FindOne(ctx, bson.D{{Key: "_id", Value: roundKey(fy)}}).Decode(&d); err != nil {
		return checklist.Round{}, notFound(translate(err), "no round of fiscal year %d", fy)
	}
	return d.round()
}

// ListRounds returns every round, newest fiscal year first.
func (db *DB) ListRounds(ctx context.Context) (_ []checklist.Round, err error) {
	defer wrap(&err, "list rounds")
	var docs []roundDoc
	if err := db.findAll(ctx, colRounds, bson.D{}, options.Find().SetSort(bson.D{{Key: "fiscal_year", Value: -1}}), &docs); err != nil {
		return nil, err
	}
	out := make([]checklist.Round, 0, len(docs))
	for _, d := range docs {
		r, err := d.round()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// UpdateRound changes the round of fiscal year fy, which must still be
// at revision: change returns the next round (checklist.RoundChange.Apply).
// A stale revision is ERevision carrying the current round.
func (db *DB) UpdateRound(ctx context.Context, fy int, revision int64, by checklist.Actor, change func(checklist.Round) (checklist.Round, error)) (_ checklist.Round, err error) {
	defer wrap(&err, "update round %d", fy)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.roundLock(fy)
	defer unlock()
	var d roundDoc
	if err := db.db.Collection(colRounds).FindOne(ctx, bson.D{{Key: "_id", Value: roundKey(fy)}}).Decode(&d); err != nil {
		return checklist.Round{}, notFound(translate(err), "no round of fiscal year %d", fy)
	}
	cur, err := d.round()
	if err != nil {
		return checklist.Round{}, err
	}
	if cur.Revision != revision {
		return checklist.Round{}, &checklist.Error{Code: checklist.ERevision, Current: cur,
			Message: "the round is at revision " + strconv.FormatInt(cur.Revision, 10) + ", not " + strconv.FormatInt(revision, 10) + ": reload and retry"}
	}
	next, err := change(cur)
	if err != nil {
		return checklist.Round{}, err
	}
	if next.Revision == cur.Revision {
		return cur, nil // nothing changed
	}
	if err := db.copyOutbox(ctx, d.Outbox); err != nil { // the previous write's entry, should a crash have kept it back
		return checklist.Round{}, err
	}
	doc := toRoundDoc(next)
	doc.Outbox = outboxOf(checklist.RoundAuditEntry(&cur, next, by, 0))
	u := db.writeLock()
	res, err := db.db.Collection(colRounds).ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "revision", Value: cur.Revision}}, doc)
	u()
	if err != nil {
		return checklist.Round{}, translate(err)
	}
	if res.MatchedCount == 0 {
		return checklist.Round{}, checklist.Errorf(checklist.ERevision, "the round was changed at the same time; reload and retry")
	}
	db.afterWrite(ctx, doc.Outbox, checklist.ReportVersionRound(fy))
	return next, nil
}

// roundCache holds the assignments of rounds as the owner of the
// embedded server last read them. The embedded server answers a find by
// fiscal year by decoding every assignment of every year (~140 ms for
// 1,000, measured); the owner is the only writer (see inspectionIndex),
// so a copy it drops after each of its own writes is exact. A read that
// a write overtook does not store what it read (gen).
type roundCache struct {
	mu   sync.Mutex
	gen  int64
	byFY map[int][]checklist.Assignment
}

// changed forgets fiscal year fy's assignments after a write of them,
// whatever its outcome.
func (c *roundCache) changed(fy int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.byFY, fy)
}

// opened records as, every assignment of the round of fiscal year fy
// just opened: its first read needs no query.
func (c *roundCache) opened(fy int, as []checklist.Assignment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byFY == nil {
		c.byFY = map[int][]checklist.Assignment{}
	}
	c.byFY[fy] = cloneAssignments(as)
}

func cloneAssignments(as []checklist.Assignment) []checklist.Assignment {
	out := make([]checklist.Assignment, len(as))
	for i, a := range as {
		a.Inspectors = slices.Clone(a.Inspectors)
		out[i] = a
	}
	return out
}

// RoundAssignments returns every assignment of the round of fiscal year
// fy, withdrawn ones included.
func (db *DB) RoundAssignments(ctx context.Context, fy int) (_ []checklist.Assignment, err error) {
	defer wrap(&err, "assignments of round %d", fy)
	return db.memory.roundAssignments(ctx, fy)
}

// roundAssignmentsCached is RoundAssignments from the sole writer's
// cache, filled by the first query.
func (db *DB) roundAssignmentsCached(ctx context.Context, fy int) ([]checklist.Assignment, error) {
	c := &db.rounds
	c.mu.Lock()
	cached, ok := c.byFY[fy]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return cloneAssignments(cached), nil
	}
	as, err := db.queryAssignments(ctx, fy)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.byFY == nil {
			c.byFY = map[int][]checklist.Assignment{}
		}
		c.byFY[fy] = cloneAssignments(as)
	}
	c.mu.Unlock()
	return as, nil
}

func (db *DB) queryAssignments(ctx context.Context, fy int) ([]checklist.Assignment, error) {
	var docs []assignmentDoc
	if err := db.findAll(ctx, colAssignments, bson.D{{Key: "fiscal_year", Value: fy}}, options.Find(), &docs); err != nil {
		return nil, err
	}
	out := make([]checklist.Assignment, 0, len(docs))
	for _, d := range docs {
		a, err := d.assignment()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ChangeAssignments applies change (which computes, from the round and
// its current assignments, the assignments to write: each either new or
// at its stored revision + 1) to the round of fiscal year fy under
// the round's lock and writes what it returns in one bulk write: new
// assignments are inserted, changed ones replaced if still at the
// revision they were read at (otherwise ERevision, and the others stay
// written: there are no transactions; each write is whole). Every
// written assignment gets its audit entry (keyed by id and revision, so
// a retry adds none). It returns what was written.
func (db *DB) ChangeAssignments(ctx context.Context, fy int, by checklist.Actor, change func(r checklist.Round, current []checklist.Assignment) ([]checklist.Assignment, error)) (_ []checklist.Assignment, err error) {
	defer wrap(&err, "change assignments of round %d", fy)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.roundLock(fy)
	defer unlock()
	r, err := db.FindRound(ctx, fy)
	if err != nil {
		return nil, err
	}
	cur, err := db.RoundAssignments(ctx, fy)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]checklist.Assignment, len(cur))
	for _, a := range cur {
		byID[a.ID()] = a
	}
	next, err := change(r, cur)
	if err != nil || len(next) == 0 {
		return nil, err
	}
	models := make([]mongo.WriteModel, 0, len(next))
	audit := make([]any, 0, len(next))
	for _, a := range next {
		doc := toAssignmentDoc(a)
		before, ok := byID[a.ID()]
		if !ok {
			models = append(models, mongo.NewInsertOneModel().SetDocument(doc))
			audit = append(audit, toAuditDoc(checklist.AssignmentAuditEntry(nil, a, by)))
			continue
		}
		if a.Revision != before.Revision+1 {
			return nil, &checklist.Error{Code: checklist.ERevision, Current: before,
				Message: "the assignment of facility " + a.FacilityID + " is at revision " + strconv.FormatInt(before.Revision, 10) + "; reload and retry"}
		}
		models = append(models, mongo.NewReplaceOneModel().
			SetFilter(bson.D{{Key: "_id", Value: doc.ID}, {Key: "revision", Value: before.Revision}}).SetReplacement(doc))
		audit = append(audit, toAuditDoc(checklist.AssignmentAuditEntry(&before, a, by)))
	}
	u := db.writeLock()
	res, err := db.db.Collection(colAssignments).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	u()
	db.rounds.changed(fy)
	defer func() { // written in part or whole: reports must see it
		if err := db.bumpReportVersions(ctx, checklist.ReportVersionRound(fy)); err != nil {
			db.logger().Warn("report versions not renewed after an assignment change; the round's next change renews them",
				slog.Int("fiscal_year", fy), slog.String("error", err.Error()))
		}
	}()
	if err != nil {
		return nil, translate(err)
	}
	if n := res.InsertedCount + res.MatchedCount; n != int64(len(models)) {
		return nil, checklist.Errorf(checklist.ERevision, "%d of %d assignments were changed at the same time; reload and retry", int64(len(models))-n, len(models))
	}
	u = db.writeLock()
	_, err = db.db.Collection(colAudit).InsertMany(ctx, audit, options.InsertMany().SetOrdered(false))
	u()
	if err != nil && !onlyDuplicates(err) {
		return nil, translate(err)
	}
	return next, nil
}

// RoundInspections returns the inspections of fiscal year fy as
// summaries (no answers, no history), discarded ones included: from the
// in-memory index of the sole writer, else one query.
func (db *DB) RoundInspections(ctx context.Context, fy int) (_ []*checklist.Inspection, err error) {
	defer wrap(&err, "inspections of fiscal year %d", fy)
	return db.memory.roundInspections(ctx, fy)
}

// roundInspectionsIndexed is RoundInspections from the index.
func (db *DB) roundInspectionsIndexed(ctx context.Context, fy int) ([]*checklist.Inspection, error) {
	all, err := db.index.all(ctx, db)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if in.FiscalYear == fy {
			out = append(out, in)
		}
	}
	return out, nil
}

// lifecycleActions are the audit actions that change an inspection's
// status.
var lifecycleActions = bson.A{checklist.ActionSubmit, checklist.ActionReturn, checklist.ActionResubmit,
	checklist.ActionApprove, checklist.ActionReopen, checklist.ActionDiscard}

// InspectionSteps returns the lifecycle steps (submit, return, approve,
// …) of the inspections ids from the audit trail, by inspection id: what
// checklist.InspectionAt needs to say where an inspection stood at a
// past instant.
func (db *DB) InspectionSteps(ctx context.Context, ids []string) (_ map[string][]checklist.StatusChange, err error) {
	defer wrap(&err, "inspection steps")
	out := map[string][]checklist.StatusChange{}
	if len(ids) == 0 {
		return out, nil
	}
	db.audits.flush() // every acknowledged write is in the answer
	var docs []struct {
		EntityID string    `bson:"entity_id"`
		At       time.Time `bson:"at"`
		To       string    `bson:"to"`
	}
	filter := bson.D{{Key: "entity", Value: checklist.EntityInspection},
		{Key: "entity_id", Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: "action", Value: bson.D{{Key: "$in", Value: lifecycleActions}}}}
	opts := options.Find().SetProjection(bson.D{{Key: "entity_id", Value: 1}, {Key: "at", Value: 1}, {Key: "to", Value: 1}})
	if err := db.findAll(ctx, colAudit, filter, opts, &docs); err != nil {
		return nil, err
	}
	for _, d := range docs {
		out[d.EntityID] = append(out[d.EntityID], checklist.StatusChange{At: d.At.UTC(), To: checklist.Status(d.To)})
	}
	return out, nil
}
