package storage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

type facilityDoc struct {
	ID         string          `bson:"_id"`
	Code       string          `bson:"code"`
	Name       facilityNameDoc `bson:"name"`
	Kind       string          `bson:"kind"`
	Department string          `bson:"department"`
	Address    string          `bson:"address"`
	Active     bool            `bson:"active"`
	Revision   int             `bson:"revision"`
	CreatedAt  time.Time       `bson:"created_at"`
	UpdatedAt  time.Time       `bson:"updated_at"`
	// Outbox is the audit entry of the write that stored this revision
	// (see copyOutbox).
	Outbox *auditDoc `bson:"audit_outbox,omitempty"`
}

type facilityNameDoc struct {
	JA string `bson:"ja"`
	EN string `bson:"en"`
}

func (d facilityDoc) facility() checklist.Facility {
	return checklist.Facility{
		ID: d.ID, Code: d.Code, Name: checklist.FacilityName{JA: d.Name.JA, EN: d.Name.EN},
		Kind: checklist.FacilityKind(d.Kind), Department: d.Department, Address: d.Address,
		Active: d.Active, Revision: d.Revision, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

func newFacilityDoc(f checklist.Facility) facilityDoc {
	return facilityDoc{
		ID: f.ID, Code: f.Code, Name: facilityNameDoc{JA: f.Name.JA, EN: f.Name.EN},
		Kind: string(f.Kind), Department: f.Department, Address: f.Address, Active: f.Active,
		Revision: f.Revision, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
}

// CreateFacility stores a new facility and returns it with its id,
// revision 1 and timestamps. f is normalized and validated; a taken code
// is EConflict. by made the change, for the audit trail.
func (db *DB) CreateFacility(ctx context.Context, f checklist.Facility, by checklist.Actor) (_ checklist.Facility, err error) {
	defer wrap(&err, "create facility %s", f.Code)
	defer db.facilities.invalidate()
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	f.Normalize()
	if err := f.Validate(); err != nil {
		return checklist.Facility{}, err
	}
	now := db.now()
	f.ID, f.Revision, f.CreatedAt, f.UpdatedAt = newID(), 1, now, now
	doc := newFacilityDoc(f)
	doc.Outbox = outboxOf(checklist.FacilityAuditEntry(nil, f, by))
	if _, err := db.db.Collection(colFacilities).InsertOne(ctx, doc); err != nil {
		return checklist.Facility{}, codeTaken(f.Code, translate(err))
	}
	db.afterWrite(ctx, doc.Outbox, checklist.ReportVersionFacilities)
	return f, nil
}

func codeTaken(code string, err error) error {
	if !errors.Is(err, checklist.EConflict) {
		return err
	}
	msg := fmt.Sprintf("a facility with code %q already exists", code)
	return &checklist.Error{Code: checklist.EConflict, Message: msg,
		Fields: []checklist.FieldError{{Field: "code", Code: "taken", Message: msg}}}
}

// FindFacility returns the facility with id, or ENotFound.
func (db *DB) FindFacility(ctx context.Context, id string) (_ checklist.Facility, err error) {
	defer wrap(&err, "find facility %s", id)
	return db.memory.findFacility(ctx, id)
}

// FindFacilityByCode returns the facility with code (in any case), or
// ENotFound.
func (db *DB) FindFacilityByCode(ctx context.Context, code string) (_ checklist.Facility, err error) {
	defer wrap(&err, "find facility by code %s", code)
	code = checklist.NormalizeFacilityCode(code)
	d, err := db.findFacilityDoc(ctx, bson.D{{Key: "code", Value: code}})
	if err != nil {
		return checklist.Facility{}, notFound(err, "no facility with code %q", code)
	}
	return d.facility(), nil
}

func (db *DB) findFacilityDoc(ctx context.Context, filter bson.D) (facilityDoc, error) {
	var d facilityDoc
	err := db.db.Collection(colFacilities).FindOne(ctx, filter).Decode(&d)
	return d, translate(err)
}

// ListFacilities returns one page of the facilities q selects, ordered by
// code.
func (db *DB) ListFacilities(ctx context.Context, q checklist.FacilityQuery) (_ checklist.FacilityPage, err error) {
	defer wrap(&err, "list facilities")
	filter := bson.D{}
	if q.Within != nil {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: append([]string{}, q.Within...)}}})
	}
	if q.Active != nil {
		filter = append(filter, bson.E{Key: "active", Value: *q.Active})
	}
	if q.Kind != "" {
		filter = append(filter, bson.E{Key: "kind", Value: string(q.Kind)})
	}
	if q.Text != "" {
		re := bson.Regex{Pattern: regexp.QuoteMeta(q.Text), Options: "i"}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "code", Value: re}},
			bson.D{{Key: "name.ja", Value: re}},
			bson.D{{Key: "name.en", Value: re}},
			bson.D{{Key: "department", Value: re}},
		}})
	}
	if q.After != "" {
		filter = append(filter, bson.E{Key: "code", Value: bson.D{{Key: "$gt", Value: q.After}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "code", Value: 1}}).SetLimit(int64(q.Limit) + 1)
	var docs []facilityDoc
	if err := db.findAll(ctx, colFacilities, filter, opts, &docs); err != nil {
		return checklist.FacilityPage{}, err
	}
	var page checklist.FacilityPage
	for i, d := range docs {
		if i == q.Limit {
			page.Next = page.Items[i-1].Code
			break
		}
		page.Items = append(page.Items, d.facility())
	}
	return page, nil
}

// UpdateFacility changes the facility with id, which must still be at
// revision: change gets the current facility and returns the next one (or
// an error that is returned as is). The result is validated and stored at
// revision+1. A stale revision is ERevision carrying the current facility;
// a taken code is EConflict. by made the change, for the audit trail.
func (db *DB) UpdateFacility(ctx context.Context, id string, revision int, by checklist.Actor, change func(checklist.Facility) (checklist.Facility, error)) (_ checklist.Facility, err error) {
	defer wrap(&err, "update facility %s", id)
	defer db.facilities.invalidate()
	ctx, cancel := writeContext(ctx) // once started, it finishes
	defer cancel()
	unlock := db.locks.Lock(colFacilities + "/" + id)
	defer unlock()
	d, err := db.findFacilityDoc(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return checklist.Facility{}, notFound(err, "no facility %q", id)
	}
	cur := d.facility()
	if cur.Revision != revision {
		return checklist.Facility{}, staleRevision("facility", revision, cur.Revision, cur)
	}
	next, err := change(cur)
	if err != nil {
		return checklist.Facility{}, err
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return checklist.Facility{}, err
	}
	next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
	next.Revision, next.UpdatedAt = cur.Revision+1, db.now()
	// The previous write's entry, should a crash have kept it back: it
	// must be in the trail before this write replaces it.
	if err := db.copyOutbox(ctx, d.Outbox); err != nil {
		return checklist.Facility{}, err
	}
	doc := newFacilityDoc(next)
	doc.Outbox = outboxOf(checklist.FacilityAuditEntry(&cur, next, by))
	res, err := db.db.Collection(colFacilities).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "revision", Value: revision}}, doc)
	if err != nil {
		return checklist.Facility{}, codeTaken(next.Code, translate(err))
	}
	if res.MatchedCount == 0 {
		return checklist.Facility{}, checklist.Errorf(checklist.ERevision, "the facility was changed at the same time; reload and retry")
	}
	db.afterWrite(ctx, doc.Outbox, checklist.ReportVersionFacilities)
	return next, nil
}

// checkFacilitiesExist returns an EInvalid error naming every id in ids
// (as facility_ids[i]) that is not a facility.
func (db *DB) checkFacilitiesExist(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var found []struct {
		ID string `bson:"_id"`
	}
	opts := options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})
	if err := db.findAll(ctx, colFacilities, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, opts, &found); err != nil {
		return err
	}
	exists := make(map[string]bool, len(found))
	for _, f := range found {
		exists[f.ID] = true
	}
	var p checklist.Problems
	for i, id := range ids {
		if !exists[id] {
			p.Add(fmt.Sprintf("facility_ids[%d]", i), "unknown", "no facility %q", id)
		}
	}
	return p.Err("unknown facilities")
}

// reportFacilities returns every facility by code, as reports list them:
// from the sole writer's memory, else with a query (memory.reportFacilities).
func (db *DB) reportFacilities(ctx context.Context) ([]checklist.Facility, error) {
	return db.memory.reportFacilities(ctx)
}

// facilitiesByCode is reportFacilities with a query.
func (db *DB) facilitiesByCode(ctx context.Context) ([]checklist.Facility, error) {
	var docs []facilityDoc
	if err := db.findAll(ctx, colFacilities, bson.D{}, options.Find().SetSort(bson.D{{Key: "code", Value: 1}}), &docs); err != nil {
		return nil, err
	}
	out := make([]checklist.Facility, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.facility())
	}
	return out, nil
}
