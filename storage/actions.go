package storage

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// colActions holds improvement actions, one document each.
const colActions = "actions"

func init() {
	indexes[colActions] = []mongo.IndexModel{
		{Keys: bson.D{{Key: "facility_id", Value: 1}, {Key: "item_key", Value: 1}}},
		{Keys: bson.D{{Key: "target_fiscal_year", Value: 1}}},
		{Keys: bson.D{{Key: "good_practice", Value: 1}}},
	}
}

type progressDoc struct {
	Date string    `bson:"date"`
	Text string    `bson:"text"`
	By   string    `bson:"by"`
	At   time.Time `bson:"at"`
}

type actionDoc struct {
	ID                   string       `bson:"_id"`
	FacilityID           string       `bson:"facility_id"`
	ItemKey              string       `bson:"item_key"`
	Title                string       `bson:"title"`
	Owner                string       `bson:"owner"`
	TargetFiscalYear     int          `bson:"target_fiscal_year"`
	Due                  string       `bson:"due_date"`
	Status               string       `bson:"status"`
	SourceInspectionID   string       `bson:"source_inspection_id"`
	Interim              *progressDoc `bson:"interim,omitempty"`
	Final                *progressDoc `bson:"final,omitempty"`
	Flagged              bool         `bson:"flagged"`
	FlaggedInspectionID  string       `bson:"flagged_inspection_id"`
	VerifiedInspectionID string       `bson:"verified_inspection_id"`
	GoodPractice         bool         `bson:"good_practice"`
	GoodPracticeNote     string       `bson:"good_practice_note"`
	GoodPracticeBy       string       `bson:"good_practice_by"`
	GoodPracticeAt       time.Time    `bson:"good_practice_at"`
	Revision             int64        `bson:"revision"`
	CreatedAt            time.Time    `bson:"created_at"`
	CreatedBy            string       `bson:"created_by"`
	UpdatedAt            time.Time    `bson:"updated_at"`
	UpdatedBy            string       `bson:"updated_by"`
	// Outbox is the audit entry of the write that stored this revision
	// (see copyOutbox).
	Outbox *auditDoc `bson:"audit_outbox,omitempty"`
}

func dateString(d checklist.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func parseOptionalDate(s string) checklist.Date {
	if s == "" {
		return checklist.Date{}
	}
	d, _ := checklist.ParseDate(s)
	return d
}

func toProgressDoc(r *checklist.ProgressReport) *progressDoc {
	if r == nil {
		return nil
	}
	return &progressDoc{Date: dateString(r.Date), Text: r.Text, By: r.By, At: r.At}
}

func (d *progressDoc) toDomain() *checklist.ProgressReport {
	if d == nil {
		return nil
	}
	return &checklist.ProgressReport{Date: parseOptionalDate(d.Date), Text: d.Text, By: d.By, At: d.At.UTC()}
}

func toActionDoc(a checklist.Action) actionDoc {
	return actionDoc{ID: a.ID, FacilityID: a.FacilityID, ItemKey: a.ItemKey, Title: a.Title, Owner: a.Owner,
		TargetFiscalYear: a.TargetFiscalYear, Due: dateString(a.Due), Status: string(a.Status),
		SourceInspectionID: a.SourceInspectionID, Interim: toProgressDoc(a.Interim), Final: toProgressDoc(a.Final),
		Flagged: a.Flagged, FlaggedInspectionID: a.FlaggedInspectionID, VerifiedInspectionID: a.VerifiedInspectionID,
		GoodPractice: a.GoodPractice, GoodPracticeNote: a.GoodPracticeNote, GoodPracticeBy: a.GoodPracticeBy,
		GoodPracticeAt: a.GoodPracticeAt, Revision: a.Revision, CreatedAt: a.CreatedAt, CreatedBy: a.CreatedBy,
		UpdatedAt: a.UpdatedAt, UpdatedBy: a.UpdatedBy}
}

func (d actionDoc) toDomain() checklist.Action {
	return checklist.Action{ID: d.ID, FacilityID: d.FacilityID, ItemKey: d.ItemKey, Title: d.Title, Owner: d.Owner,
		TargetFiscalYear: d.TargetFiscalYear, Due: parseOptionalDate(d.Due), Status: checklist.ActionStatus(d.Status),
		SourceInspectionID: d.SourceInspectionID, Interim: d.Interim.toDomain(), Final: d.Final.toDomain(),
		Flagged: d.Flagged, FlaggedInspectionID: d.FlaggedInspectionID, VerifiedInspectionID: d.VerifiedInspectionID,
		GoodPractice: d.GoodPractice, GoodPracticeNote: d.GoodPracticeNote, GoodPracticeBy: d.GoodPracticeBy,
		GoodPracticeAt: d.GoodPracticeAt.UTC(), Revision: d.Revision, CreatedAt: d.CreatedAt.UTC(), CreatedBy: d.CreatedBy,
		UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: d.UpdatedBy}
}

func actionLock(id string) string { return "action:" + id }

// CreateAction stores a new action (from checklist.NewAction) under a
// new id and returns it. by made it, for the audit trail.
func (db *DB) CreateAction(ctx context.Context, a checklist.Action, by checklist.Actor) (_ checklist.Action, err error) {
	defer wrap(&err, "create action")
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	if err := db.checkFacilitiesExist(ctx, []string{a.FacilityID}); err != nil {
		return checklist.Action{}, err
	}
	a.ID = newID()
	doc := toActionDoc(a)
	doc.Outbox = outboxOf(checklist.ActionAuditEntry(nil, a, by))
	unlock := db.writeLock()
	_, err = db.db.Collection(colActions).InsertOne(ctx, doc)
	unlock()
	db.actionFacilities.invalidate()
	if err != nil {
		return checklist.Action{}, translate(err)
	}
	db.afterWrite(ctx, doc.Outbox, checklist.ReportVersionActions)
	return a, nil
}

// FindAction returns the action with id, or ENotFound.
func (db *DB) FindAction(ctx context.Context, id string) (_ checklist.Action, err error) {
	defer wrap(&err, "find action %s", id)
	d, err := db.findActionDoc(ctx, id)
	if err != nil {
		return checklist.Action{}, err
	}
	return d.toDomain(), nil
}

func (db *DB) findActionDoc(ctx context.Context, id string) (actionDoc, error) {
	var d actionDoc
	if err := db.db.Collection(colActions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return actionDoc{}, notFound(translate(err), "no improvement action %s", id)
	}
	return d, nil
}

// UpdateAction changes the action with id, which must still be at
// revision (0 skips the check, for system updates): read → change →
// ReplaceOne guarded by the revision, serialised per action in this
// process. A stale revision is ERevision carrying the current action.
// by made the change, for the audit trail; a change that leaves the
// revision as it was writes nothing and is not audited.
func (db *DB) UpdateAction(ctx context.Context, id string, revision int64, by checklist.Actor, change func(*checklist.Action) error) (_ checklist.Action, err error) {
	defer wrap(&err, "update action %s", id)
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(actionLock(id))
	defer unlock()
	d, err := db.findActionDoc(ctx, id)
	if err != nil {
		return checklist.Action{}, err
	}
	a := d.toDomain()
	if revision != 0 && a.Revision != revision {
		return checklist.Action{}, &checklist.Error{Code: checklist.ERevision,
			Message: "the action was changed since revision you sent; reload it", Current: a}
	}
	prev, before := a, a.Revision
	prev.Interim, prev.Final = d.Interim.toDomain(), d.Final.toDomain() // change may edit the reports in place
	if err := change(&a); err != nil {
		return checklist.Action{}, err
	}
	if a.Revision == before {
		return a, nil
	}
	// The previous write's entry, should a crash have kept it back: it
	// must be in the trail before this write replaces it.
	if err := db.copyOutbox(ctx, d.Outbox); err != nil {
		return checklist.Action{}, err
	}
	doc := toActionDoc(a)
	doc.Outbox = outboxOf(checklist.ActionAuditEntry(&prev, a, by))
	unlockWrite := db.writeLock()
	res, err := db.db.Collection(colActions).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "revision", Value: before}}, doc)
	unlockWrite()
	db.actionFacilities.invalidate()
	if err != nil {
		return checklist.Action{}, translate(err)
	}
	if res.MatchedCount == 0 {
		cur, _ := db.FindAction(ctx, id)
		return checklist.Action{}, &checklist.Error{Code: checklist.ERevision,
			Message: "the action was changed at the same time; reload it", Current: cur}
	}
	db.afterWrite(ctx, doc.Outbox, checklist.ReportVersionActions)
	return a, nil
}

// ListActions returns the actions q selects, by facility, target year
// and creation.
func (db *DB) ListActions(ctx context.Context, q checklist.ActionQuery) (_ []checklist.Action, err error) {
	defer wrap(&err, "list actions")
	filter := bson.D{}
	if q.FacilityIDs != nil {
		filter = append(filter, bson.E{Key: "facility_id", Value: bson.D{{Key: "$in", Value: q.FacilityIDs}}})
	}
	if q.ItemKey != "" {
		filter = append(filter, bson.E{Key: "item_key", Value: q.ItemKey})
	}
	if q.Status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(q.Status)})
	}
	if q.OpenOnly {
		filter = append(filter, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{
			string(checklist.ActionPlanned), string(checklist.ActionInProgress), string(checklist.ActionDone)}}}})
	}
	if q.TargetFiscalYear != 0 {
		filter = append(filter, bson.E{Key: "target_fiscal_year", Value: q.TargetFiscalYear})
	}
	if q.GoodPractice {
		filter = append(filter, bson.E{Key: "good_practice", Value: true})
	}
	var docs []actionDoc
	opts := options.Find().SetSort(bson.D{{Key: "facility_id", Value: 1}, {Key: "target_fiscal_year", Value: 1},
		{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(5000)
	if q.Limit > 0 {
		if q.After != "" {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After}}})
		}
		opts = options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(q.Limit))
	}
	if err := db.findAll(ctx, colActions, filter, opts, &docs); err != nil {
		return nil, err
	}
	out := make([]checklist.Action, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toDomain())
	}
	return out, nil
}

// checkActions applies a counted inspection to the open actions of its
// facility: a pass verifies them, a failure flags them. It runs after the
// inspection is written; applying the same inspection again changes
// nothing, so a retry is harmless. Errors are returned: the inspection's
// pending marker keeps the work for RepairFollowUps.
func (db *DB) checkActions(ctx context.Context, in *checklist.Inspection) error {
	if !in.Status.CountsInReports() || !db.memory.mayHaveOpenActions(ctx, in.FacilityID) {
		return nil
	}
	open, err := db.ListActions(ctx, checklist.ActionQuery{FacilityIDs: []string{in.FacilityID}, OpenOnly: true})
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range open {
		if _, ok := in.Answers[a.ItemKey]; !ok {
			continue
		}
		_, err := db.UpdateAction(ctx, a.ID, 0, checklist.SystemActor, func(a *checklist.Action) error {
			a.CheckAgainst(in, db.now())
			return nil
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
