package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

const colAudit = "audit"

func init() {
	indexes[colAudit] = []mongo.IndexModel{
		{Keys: bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "entity", Value: 1}, {Key: "entity_id", Value: 1}}},
		{Keys: bson.D{{Key: "actor_id", Value: 1}}},
	}
}

// auditDoc is an audit entry as stored. Its _id is the writer's key for
// the change, so storing it twice stores it once.
type auditDoc struct {
	ID         string    `bson:"_id" json:"_id"`
	At         time.Time `bson:"at" json:"at"`
	ActorID    string    `bson:"actor_id" json:"actor_id"`
	ActorName  string    `bson:"actor_name,omitempty" json:"actor_name,omitempty"`
	Role       string    `bson:"role,omitempty" json:"role,omitempty"`
	Entity     string    `bson:"entity" json:"entity"`
	EntityID   string    `bson:"entity_id" json:"entity_id"`
	FacilityID string    `bson:"facility_id,omitempty" json:"facility_id,omitempty"`
	Action     string    `bson:"action" json:"action"`
	Revision   int64     `bson:"revision,omitempty" json:"revision,omitempty"`
	Items      []string  `bson:"items,omitempty" json:"items,omitempty"`
	From       string    `bson:"from,omitempty" json:"from,omitempty"`
	To         string    `bson:"to,omitempty" json:"to,omitempty"`
	Reason     string    `bson:"reason,omitempty" json:"reason,omitempty"`
	RequestKey string    `bson:"request_key,omitempty" json:"request_key,omitempty"`
	Summary    string    `bson:"summary,omitempty" json:"summary,omitempty"`
}

func toAuditDoc(e checklist.AuditEntry) auditDoc {
	return auditDoc{ID: e.ID, At: e.At, ActorID: e.ActorID, ActorName: e.ActorName, Role: string(e.Role),
		Entity: e.Entity, EntityID: e.EntityID, FacilityID: e.FacilityID, Action: e.Action, Revision: e.Revision,
		Items: e.Items, From: string(e.From), To: string(e.To), Reason: e.Reason, RequestKey: e.RequestKey,
		Summary: e.Summary}
}

func (d auditDoc) toDomain() checklist.AuditEntry {
	return checklist.AuditEntry{ID: d.ID, At: d.At.UTC(), ActorID: d.ActorID, ActorName: d.ActorName,
		Role: checklist.Role(d.Role), Entity: d.Entity, EntityID: d.EntityID, FacilityID: d.FacilityID,
		Action: d.Action, Revision: d.Revision, Items: d.Items, From: checklist.Status(d.From),
		To: checklist.Status(d.To), Reason: d.Reason, RequestKey: d.RequestKey, Summary: d.Summary}
}

// AppendAudit adds e to the audit trail. An entry with e.ID already
// there is left as it is: appending is idempotent, never an update.
func (db *DB) AppendAudit(ctx context.Context, e checklist.AuditEntry) (err error) {
	defer wrap(&err, "append audit entry %s", e.ID)
	if e.At.IsZero() {
		e.At = db.now()
	}
	unlock := db.writeLock()
	_, err = db.db.Collection(colAudit).InsertOne(ctx, toAuditDoc(e))
	unlock()
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return translate(err)
	}
	return nil
}

// Every audited document keeps the audit entry of its last write in an
// outbox field, audit_outbox, written in the same single-document write
// as the change itself: inspections, users, facilities, checklists (the
// draft), checklist versions (publish, retire), the applicability and
// improvement actions. After the write the entry is copied to the audit
// collection under its deterministic key (entity:id:revision, or
// checklist:id:vN:publish|retire), so a copy made twice is stored once.
// If the process dies between the write and the copy, the entry is not
// lost: it waits in the document, and the next write of the same document
// copies it before it replaces the outbox (and refuses to replace it while
// it cannot). For every document but inspections, RepairOutboxes copies
// it at the next start too, so a document never written again does not
// keep it from the trail.

// outboxOf is e as a document's audit_outbox.
func outboxOf(e checklist.AuditEntry) *auditDoc {
	d := toAuditDoc(e)
	return &d
}

// copyOutbox copies a document's pending audit entry to the audit
// trail; nil means it is there. A failed copy waits in the document's
// outbox (see RepairOutboxes).
func (db *DB) copyOutbox(ctx context.Context, d *auditDoc) error {
	if d == nil {
		return nil
	}
	unlock := db.writeLock()
	_, err := db.db.Collection(colAudit).InsertOne(ctx, d)
	unlock()
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return translate(err)
	}
	return nil
}

// ListAudit returns audit entries newest first, and whether more follow.
func (db *DB) ListAudit(ctx context.Context, f checklist.AuditQuery) (_ []checklist.AuditEntry, more bool, err error) {
	defer wrap(&err, "list audit")
	db.audits.flush() // every acknowledged write is in the answer
	filter := bson.D{}
	if f.Entity != "" {
		filter = append(filter, bson.E{Key: "entity", Value: f.Entity})
	}
	if f.EntityID != "" {
		filter = append(filter, bson.E{Key: "entity_id", Value: f.EntityID})
	}
	if f.ActorID != "" {
		filter = append(filter, bson.E{Key: "actor_id", Value: f.ActorID})
	}
	if !f.Since.IsZero() {
		filter = append(filter, bson.E{Key: "at", Value: bson.D{{Key: "$gte", Value: f.Since}}})
	}
	if f.BeforeID != "" {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: f.BeforeAt}}}},
			bson.D{{Key: "at", Value: f.BeforeAt}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: f.BeforeID}}}},
		}})
	}
	limit := clampLimit(f.Limit)
	cur, err := db.db.Collection(colAudit).Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(limit+1)))
	if err != nil {
		return nil, false, translate(err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, translate(err)
	}
	if len(docs) > limit {
		docs, more = docs[:limit], true
	}
	out := make([]checklist.AuditEntry, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	return out, more, nil
}
