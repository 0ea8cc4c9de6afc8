package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// A write, once started, finishes: every write — of an inspection, an
// action, a facility, a user, a checklist or a round — and its follow-ups
// (report row, report data versions, action checks, audit copy) run on a
// context detached from the caller's (writeContext), so a client that
// hangs up cannot leave the document written and its report or audit
// trail behind. Follow-ups that fail are logged and stay recorded: an
// inspection's in a pending marker, which RepairFollowUps completes; any
// other document's in its audit outbox, which RepairOutboxes completes
// (both at start-up, in the background, and periodically).

// writeTimeout bounds one write with its follow-ups once it no longer
// depends on the caller.
const writeTimeout = 30 * time.Second

// colPending holds one marker per inspection whose follow-ups may be
// unfinished: written before a write that changes reports or the status,
// deleted when its follow-ups are done. It is empty in normal operation,
// so reading it at start-up costs nothing.
const colPending = "pending_followups"

func init() { indexes[colPending] = nil }

// pendingDoc marks inspection ID as having follow-ups to finish. Token
// tells this write's marker from a later one's; FiscalYear is the year the
// inspection had before the write (its old report row's year).
type pendingDoc struct {
	ID         string    `bson:"_id"`
	Token      string    `bson:"token"`
	FiscalYear int       `bson:"fiscal_year"`
	At         time.Time `bson:"at"`
}

// writeContext detaches ctx from its caller's cancellation and gives it a
// deadline of its own: everything after it runs to completion.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}

// SetLogger sets where storage reports follow-up failures and repairs.
func (db *DB) SetLogger(l *slog.Logger) { db.log = l }

func (db *DB) logger() *slog.Logger {
	if db.log != nil {
		return db.log
	}
	return slog.Default()
}

// needsMarker says whether a write of an inspection (status before,
// counted in reports before) to in has follow-ups a crash must not lose:
// report rows and versions, action checks, and the audit copy of a
// lifecycle step, which may be the inspection's last write ever (an
// approval). Draft saves need none: no report sees them, and the next
// write of the draft copies their audit entry.
func needsMarker(before checklist.Status, countedBefore bool, in *checklist.Inspection) bool {
	return countedBefore || in.Status.CountsInReports() || before != in.Status
}

// markPending records that inspection in (of fiscal year before) is about
// to be written with follow-ups; it returns the marker's token.
func (db *DB) markPending(ctx context.Context, id string, before int) (string, error) {
	tok := newToken()
	unlock := db.writeLock()
	_, err := db.db.Collection(colPending).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}},
		pendingDoc{ID: id, Token: tok, FiscalYear: before, At: db.now()}, options.Replace().SetUpsert(true))
	unlock()
	return tok, translate(err)
}

// afterInspectionWrite runs the follow-ups of a write of inspection in
// (stored as e; of fiscal year before and counted in reports before when
// countedBefore), on a context of its own: the report row and action
// checks now, and the report data versions renewed in this process at
// once; then the audit copier stores those versions and copies the
// write's audit entries. With a marker token whose report follow-ups
// succeeded, the copier deletes the marker once the versions are stored
// and the entries are in the trail; a crash before that leaves the
// marker, and RepairFollowUps does it all again (every step is
// idempotent). Every error is returned, joined.
func (db *DB) afterInspectionWrite(ctx context.Context, in *checklist.Inspection, e *cachedDoc, before int, countedBefore bool, token string) error {
	ctx, cancel := writeContext(ctx)
	defer cancel()
	versions, err := db.reportFollowUps(ctx, in, before, countedBefore)
	db.reportVers.renewLater(versions, db.now())
	var marker *pendingDoc
	if token != "" && err == nil {
		marker = &pendingDoc{ID: in.ID, Token: token}
	}
	db.audits.enqueue(e, marker, versions)
	return err
}

// reportFollowUps updates what reports read after a write of in (which
// was of fiscal year before, and counted in reports before when
// countedBefore): its report row and the improvement actions of its
// facility. Each is idempotent. It returns the keys of the report data
// versions the write changes (both years), which the caller renews.
func (db *DB) reportFollowUps(ctx context.Context, in *checklist.Inspection, before int, countedBefore bool) (versions []string, err error) {
	if !countedBefore && !in.Status.CountsInReports() {
		// A draft saved, created or discarded: no report sees it, and
		// tablets save drafts every few seconds.
		return nil, nil
	}
	var errs []error
	if err := db.putReportRow(ctx, in); err != nil {
		errs = append(errs, fmt.Errorf("report row: %w", err))
	}
	versions = []string{checklist.ReportVersionYear(in.FiscalYear)}
	if before != in.FiscalYear {
		versions = append(versions, checklist.ReportVersionYear(before))
	}
	if err := db.checkActions(ctx, in); err != nil {
		errs = append(errs, fmt.Errorf("action checks: %w", err))
	}
	return versions, errors.Join(errs...)
}

// clearPending deletes the marker of inspection id if it is still the one
// with token (a later write may have replaced it).
func (db *DB) clearPending(ctx context.Context, id, token string) error {
	unlock := db.writeLock()
	_, err := db.db.Collection(colPending).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "token", Value: token}})
	unlock()
	if err != nil {
		return fmt.Errorf("pending marker: %w", translate(err))
	}
	return nil
}

// followUpFailed logs follow-ups that did not finish; the marker keeps
// them for RepairFollowUps.
func (db *DB) followUpFailed(id string, err error) {
	if err != nil {
		db.logger().Warn("inspection follow-ups incomplete; they are repaired later",
			slog.String("inspection", id), slog.String("error", err.Error()))
	}
}

// afterWrite finishes a write of a document other than an inspection
// whose audit entry is outbox: it renews the report data versions keys,
// then copies the entry to the trail. The write is done and acknowledged
// whatever happens here, so failures are logged, not returned. A failure
// leaves the entry uncopied in the document's outbox, which marks the
// write's follow-ups as unfinished: RepairOutboxes renews the keys and
// copies it.
func (db *DB) afterWrite(ctx context.Context, outbox *auditDoc, keys ...string) {
	if err := db.bumpReportVersions(ctx, keys...); err != nil {
		db.outboxesDirty.Store(true)
		db.logger().Warn("report versions not renewed; they are repaired later",
			slog.String("entry", outbox.ID), slog.String("error", err.Error()))
		return
	}
	db.auditCopyFailed(outbox, db.copyOutbox(ctx, outbox))
}

// auditCopyFailed logs err, the failure to copy entry to the trail; the
// entry waits in its document's outbox.
func (db *DB) auditCopyFailed(entry *auditDoc, err error) {
	if err == nil {
		return
	}
	db.outboxesDirty.Store(true)
	db.logger().Warn("audit entry not copied; it is copied later",
		slog.String("entry", entry.ID), slog.String("error", err.Error()))
}

// outboxes are the collections whose documents keep the audit entry of
// their last write in audit_outbox, besides inspections (see
// RepairOutboxes), with the report data versions a write of one renews.
var outboxes = []struct {
	col  string
	keys func(id string) []string
}{
	{colActions, func(string) []string { return []string{checklist.ReportVersionActions} }},
	{colFacilities, func(string) []string { return []string{checklist.ReportVersionFacilities} }},
	{colRounds, func(id string) []string {
		fy, _ := strconv.Atoi(id) // a round's id is its fiscal year
		return []string{checklist.ReportVersionRound(fy)}
	}},
	{colUsers, nil},
	{colChecklists, nil},
	{colChecklistVersions, nil},
	{colApplicability, nil},
}

// RepairOutboxes finishes the writes of actions, facilities, users,
// checklists, checklist versions, the applicability and rounds whose
// audit entry is not in the trail — left by a crash, or by a database
// that failed after the write: it renews their report data versions and
// copies the entry. It returns how many entries it copied. It reads each
// document's outbox and looks its entry up in the trail by id (about
// 3 s for 8,000 documents on the embedded server, in the background);
// these collections hold thousands of documents at most. Inspections are left
// out: there are many, and their follow-ups that matter have pending
// markers (RepairFollowUps).
func (db *DB) RepairOutboxes(ctx context.Context) (copied int, err error) {
	defer wrap(&err, "repair audit outboxes")
	db.outboxesDirty.Store(false) // a failure from now on calls for another pass
	var errs []error
	for _, o := range outboxes {
		n, err := db.repairOutboxes(ctx, o.col, o.keys)
		copied += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.col, err))
		}
	}
	if len(errs) > 0 {
		db.outboxesDirty.Store(true)
	}
	return copied, errors.Join(errs...)
}

func (db *DB) repairOutboxes(ctx context.Context, col string, keys func(string) []string) (copied int, err error) {
	var docs []struct {
		ID     string    `bson:"_id"`
		Outbox *auditDoc `bson:"audit_outbox"`
	}
	filter := bson.D{{Key: "audit_outbox", Value: bson.D{{Key: "$exists", Value: true}}}}
	if err := db.findAll(ctx, col, filter, options.Find().SetProjection(bson.D{{Key: "audit_outbox", Value: 1}}), &docs); err != nil {
		return 0, err
	}
	for _, d := range docs {
		if d.Outbox == nil {
			continue
		}
		// One lookup by _id each: the embedded server answers it from
		// the key, where an $in reads the whole trail.
		err := db.db.Collection(colAudit).FindOne(ctx, bson.D{{Key: "_id", Value: d.Outbox.ID}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if err = translate(err); err == nil {
			continue
		} else if !errors.Is(err, checklist.ENotFound) {
			return copied, err
		}
		if keys != nil {
			if err := db.bumpReportVersions(ctx, keys(d.ID)...); err != nil {
				return copied, err
			}
		}
		if err := db.copyOutbox(ctx, d.Outbox); err != nil {
			return copied, err
		}
		copied++
	}
	return copied, nil
}

// writtenAfterUnknown re-reads inspection id after a write whose outcome
// is unknown (the database did not answer): it returns the stored copy
// when it is the write that was attempted (its audit entry's id is in the
// outbox), or nil.
func (db *DB) writtenAfterUnknown(ctx context.Context, id string, attempted *auditDoc) *inspectionDoc {
	ctx, cancel := writeContext(ctx)
	defer cancel()
	_, d, err := db.loadInspection(ctx, id)
	if err != nil || d.Outbox == nil || attempted == nil || d.Outbox.ID != attempted.ID {
		return nil
	}
	return d
}

// RepairFollowUps finishes the follow-ups that pending markers record —
// left by a crash, or by a database that failed between an inspection
// write and its follow-ups — and returns how many it repaired. It reads
// the markers only, never every inspection.
func (db *DB) RepairFollowUps(ctx context.Context) (repaired int, err error) {
	defer wrap(&err, "repair follow-ups")
	// Markers whose follow-ups are done but which wait in the audit
	// copier are deleted first; and the repairs' own, at the end.
	db.audits.flush()
	defer db.audits.flush()
	cur, err := db.db.Collection(colPending).Find(ctx, bson.D{})
	if err != nil {
		return 0, translate(err)
	}
	var marks []pendingDoc
	if err := cur.All(ctx, &marks); err != nil {
		return 0, translate(err)
	}
	var errs []error
	for _, m := range marks {
		if ctx.Err() != nil {
			break
		}
		if err := db.repairOne(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("inspection %s: %w", m.ID, err))
			continue
		}
		repaired++
	}
	return repaired, errors.Join(errs...)
}

func (db *DB) repairOne(ctx context.Context, m pendingDoc) error {
	unlock := db.locks.Lock(inspectionLock(m.ID))
	defer unlock()
	in, d, err := db.loadInspection(ctx, m.ID)
	if errors.Is(err, checklist.ENotFound) {
		return db.clearPending(ctx, m.ID, m.Token)
	}
	if err != nil {
		return err
	}
	// The row may be stale whatever the status is now: treat the
	// inspection as counted before, so its row is rewritten or removed.
	return db.afterInspectionWrite(ctx, in, &cachedDoc{doc: d}, m.FiscalYear, true, m.Token)
}

// RunFollowUpRepairs repairs pending follow-ups and audit outboxes now,
// then every interval until ctx is done, logging what it repaired. After
// the first pass outboxes are read again only when a write's follow-ups
// failed since. serve runs it in the background, so start-up never waits
// for it.
func (db *DB) RunFollowUpRepairs(ctx context.Context, interval time.Duration) {
	for first := true; ; first = false {
		n, err := db.RepairFollowUps(ctx)
		db.logRepair(ctx, "follow-up repair", n, err)
		if first || db.outboxesDirty.Load() {
			n, err := db.RepairOutboxes(ctx)
			db.logRepair(ctx, "audit outbox repair", n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (db *DB) logRepair(ctx context.Context, what string, n int, err error) {
	switch {
	case err != nil && ctx.Err() == nil:
		db.logger().Warn(what, slog.Int("repaired", n), slog.String("error", err.Error()))
	case n > 0:
		db.logger().Info(what, slog.Int("repaired", n))
	}
}
