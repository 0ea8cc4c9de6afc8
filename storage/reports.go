package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"tenken/checklist"
)

// colReportVersions holds one document per fiscal year (and one for the
// facility list) whose token changes whenever data of that year changes:
// report caches key on it, so every instance sees the same invalidation.
// The token is a fresh random value, never a counter: $inc is not atomic
// on the embedded server, but two writers setting two fresh tokens both
// leave a value no cache has seen.
const colReportVersions = "report_versions"

type reportVersionDoc struct {
	ID        string    `bson:"_id"`
	Token     string    `bson:"token"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// ReportVersionTTL is how long this process trusts the versions it read
// before reading them again. Writes through this process update them at
// once; writes by other instances (on MongoDB) are seen within the TTL.
var ReportVersionTTL = time.Second

// reportVersions remembers the versions last read or written.
//
// pending holds the tokens this process gave keys after an inspection
// write (renewLater) that the audit copier has not stored yet: they are
// this process's versions from the moment they are made, and a read of
// the collection before they are stored must not bring back the older
// ones.
type reportVersions struct {
	mu      sync.Mutex
	tokens  map[string]string
	pending map[string]pendingVersion
	readAt  time.Time
}

// pendingVersion is a token renewLater made, and when.
type pendingVersion struct {
	token string
	at    time.Time
}

// renewLater gives keys fresh tokens in this process at once; the audit
// copier stores them (storeRenewed) with the write's audit entries,
// before it deletes the write's pending marker. A whole batch of writes
// of one fiscal year then costs one upsert, not one each. Other
// instances see the new token once it is stored (auditLinger later) and
// read (ReportVersionTTL).
func (rv *reportVersions) renewLater(keys []string, now time.Time) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.pending == nil {
		rv.pending = map[string]pendingVersion{}
	}
	for _, k := range keys {
		tok := newToken()
		rv.pending[k] = pendingVersion{tok, now}
		if rv.tokens != nil {
			rv.tokens[k] = tok
		}
	}
}

// storeRenewed stores the pending tokens of keys (renewLater), one
// upsert per key, and returns the keys it could not store: their
// writes' markers must stay, so that RepairFollowUps renews them again.
func (db *DB) storeRenewed(ctx context.Context, keys []string) (failed map[string]bool) {
	for _, k := range keys {
		rv := &db.reportVers
		rv.mu.Lock()
		p, ok := rv.pending[k]
		rv.mu.Unlock()
		if !ok {
			continue // stored by an earlier batch, or renewed at once since
		}
		unlock := db.writeLock()
		_, err := db.db.Collection(colReportVersions).UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "token", Value: p.token}, {Key: "updated_at", Value: p.at}}}},
			options.UpdateOne().SetUpsert(true))
		unlock()
		if err != nil {
			if failed == nil {
				failed = map[string]bool{}
			}
			failed[k] = true
			continue // still pending: this process keeps its token
		}
		rv.mu.Lock()
		if rv.pending[k] == p {
			delete(rv.pending, k)
		}
		rv.mu.Unlock()
	}
	return failed
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// bumpReportVersions gives keys fresh tokens. It runs after the data
// changed, so a reader that saw the old token computed from data at
// least as old as the change, and is invalidated by the new one.
func (db *DB) bumpReportVersions(ctx context.Context, keys ...string) error {
	now := db.now()
	var errs []error
	for _, k := range keys {
		tok := newToken()
		db.reportVers.mu.Lock()
		delete(db.reportVers.pending, k) // this token replaces it
		db.reportVers.mu.Unlock()
		unlock := db.writeLock()
		_, err := db.db.Collection(colReportVersions).UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "token", Value: tok}, {Key: "updated_at", Value: now}}}},
			options.UpdateOne().SetUpsert(true))
		unlock()
		db.reportVers.mu.Lock()
		if err != nil {
			// The database may or may not hold the new token: read it
			// again next time.
			db.reportVers.readAt = time.Time{}
			errs = append(errs, fmt.Errorf("%s: %w", k, translate(err)))
		} else if db.reportVers.tokens != nil {
			db.reportVers.tokens[k] = tok
		}
		db.reportVers.mu.Unlock()
	}
	return errors.Join(errs...)
}

// ReportVersions returns every data version by key (checklist.ReportVersionYear,
// checklist.ReportVersionFacilities): one read of a tiny collection, at most once
// per ReportVersionTTL.
func (db *DB) ReportVersions(ctx context.Context) (_ map[string]string, err error) {
	defer wrap(&err, "report versions")
	if db.rows.running.Load() {
		return nil, errRebuilding()
	}
	rv := &db.reportVers
	rv.mu.Lock()
	if rv.tokens != nil && time.Since(rv.readAt) < ReportVersionTTL {
		m := make(map[string]string, len(rv.tokens))
		for k, v := range rv.tokens {
			m[k] = v
		}
		rv.mu.Unlock()
		return m, nil
	}
	rv.mu.Unlock()
	started := time.Now()
	var docs []reportVersionDoc
	if err := db.findAll(ctx, colReportVersions, bson.D{}, options.Find(), &docs); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(docs))
	for _, d := range docs {
		m[d.ID] = d.Token
	}
	rv.mu.Lock()
	for k, p := range rv.pending {
		m[k] = p.token
	}
	rv.tokens, rv.readAt = m, started
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	rv.mu.Unlock()
	return out, nil
}

// reportStatusFilter selects the inspections that count in reports.
func reportStatusFilter() bson.E {
	ss := make(bson.A, 0, len(checklist.ReportStatuses))
	for _, s := range checklist.ReportStatuses {
		ss = append(ss, string(s))
	}
	return bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: ss}}}
}

// colReportRows holds one small document per inspection that counts in
// reports (submitted or approved): its facility, fiscal year, date and
// status, and its answers' numbers and findings encoded as two strings.
// It is written with every write of the inspection and is what reports
// read.
//
// Why not aggregate the inspections themselves: on the embedded server
// (FerretDB 1.24, SQLite) every query decodes every document of the
// collection, and an inspection of the default checklist is ~15 KB with
// ~80 answer sub-documents. Measured on this machine with 600 inspections
// (60 facilities × 5 years × 2): a find by fiscal year 10 s, $match →
// $unwind → $group 20–24 s; the same numbers as arrays of small
// sub-documents still 2–4 s plus 9–12 s for the $group. Scalar fields
// decode fast: a find of these rows takes 80–110 ms. The load average was
// 8–11 on two cores during all of these; the ratios are what matter.
// MongoDB would run the $group pipeline well, but one code path serves
// both, so the per-inspection numbers are precomputed here and summed in
// Go (checklist.YearData).
const colReportRows = "report_rows"

func init() {
	indexes[colReportRows] = []mongo.IndexModel{
		{Keys: bson.D{{Key: "fiscal_year", Value: 1}, {Key: "facility_id", Value: 1}}},
	}
}

type reportRowDoc struct {
	ID          string    `bson:"_id"` // the inspection id
	FacilityID  string    `bson:"facility_id"`
	FiscalYear  int       `bson:"fiscal_year"`
	ChecklistID string    `bson:"checklist_id"`
	Version     int       `bson:"version"`
	Date        string    `bson:"inspection_date"`
	Status      string    `bson:"status"`
	UpdatedAt   time.Time `bson:"updated_at"`
	// Results has one line per answer: key, answered, failed, na,
	// points and max points, tab-separated.
	Results string `bson:"results"`
	// Findings is the JSON of the failed answers' comments, photos and
	// review comments.
	Findings string `bson:"findings_json"`
}

type rowFinding struct {
	Key     string   `json:"k"`
	Comment string   `json:"c,omitempty"`
	Photos  []string `json:"p,omitempty"`
	Review  string   `json:"r,omitempty"`
}

func toReportRow(in *checklist.Inspection) reportRowDoc {
	var b strings.Builder
	var fs []rowFinding
	for _, k := range slices.Sorted(maps.Keys(in.Answers)) {
		o := in.Answers[k].Outcome
		b.WriteString(k)
		for _, n := range []int{bit(o.Answered), bit(o.Failed), bit(o.NA)} {
			b.WriteByte('\t')
			b.WriteString(strconv.Itoa(n))
		}
		for _, f := range []float64{o.Points, o.MaxPoints} {
			b.WriteByte('\t')
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
		b.WriteByte('\n')
		if o.Failed {
			a := in.Answers[k].Answer
			f := rowFinding{Key: k, Comment: a.Comment, Photos: append([]string{}, a.Photos...), Review: in.Review.Items[k]}
			for _, p := range in.PhotosOf(k) {
				if !slices.Contains(f.Photos, p.SHA256) {
					f.Photos = append(f.Photos, p.SHA256)
				}
			}
			fs = append(fs, f)
		}
	}
	js, _ := json.Marshal(fs)
	return reportRowDoc{ID: in.ID, FacilityID: in.FacilityID, FiscalYear: in.FiscalYear, ChecklistID: in.ChecklistID,
		Version: in.Version, Date: in.Date.String(), Status: string(in.Status), UpdatedAt: in.Updated.At,
		Results: b.String(), Findings: string(js)}
}

func (d reportRowDoc) inspection() (checklist.ReportInspection, error) {
	date, err := checklist.ParseDate(d.Date)
	return checklist.ReportInspection{ID: d.ID, FacilityID: d.FacilityID, ChecklistID: d.ChecklistID,
		Version: d.Version, Date: date, Status: checklist.Status(d.Status), UpdatedAt: d.UpdatedAt.UTC()}, err
}

func (d reportRowDoc) tallies() (map[string]checklist.Tally, error) {
	m := make(map[string]checklist.Tally, strings.Count(d.Results, "\n"))
	for line := range strings.Lines(d.Results) {
		var f [6]string
		rest, n := strings.TrimSuffix(line, "\n"), 0
		for ; n < len(f); n++ {
			var ok bool
			if f[n], rest, ok = strings.Cut(rest, "\t"); !ok {
				break
			}
		}
		if n != len(f)-1 {
			return nil, fmt.Errorf("report row %s: malformed line %q", d.ID, line)
		}
		var c [3]int
		var x [2]float64
		var err error
		for i := range c {
			if c[i], err = strconv.Atoi(f[1+i]); err != nil {
				return nil, fmt.Errorf("report row %s: %w", d.ID, err)
			}
		}
		for i := range x {
			if x[i], err = strconv.ParseFloat(f[4+i], 64); err != nil {
				return nil, fmt.Errorf("report row %s: %w", d.ID, err)
			}
		}
		m[f[0]] = checklist.Tally{FacilityID: d.FacilityID, ItemKey: f[0], Answered: c[0], Failed: c[1], NA: c[2],
			Points: x[0], MaxPoints: x[1]}
	}
	return m, nil
}

// findings decodes the row's findings; in is the row's inspection.
func (d reportRowDoc) findings(in checklist.ReportInspection) ([]checklist.Finding, error) {
	var fs []rowFinding
	if err := json.Unmarshal([]byte(d.Findings), &fs); err != nil {
		return nil, fmt.Errorf("report row %s: findings: %w", d.ID, err)
	}
	out := make([]checklist.Finding, 0, len(fs))
	for _, x := range fs {
		out = append(out, checklist.Finding{InspectionID: in.ID, FacilityID: d.FacilityID, FiscalYear: d.FiscalYear,
			Date: in.Date, Status: in.Status, ItemKey: x.Key, Comment: x.Comment, Photos: x.Photos, ReviewComment: x.Review})
	}
	return out, nil
}

// reportRow is a report row with what reports read of it decoded: the
// inspection at once, the numbers and findings on first use (only a
// facility's latest inspection of a year needs them). The owner keeps
// these in its copy of the rows, so a row is decoded once, not once per
// report: its tallies and findings are shared by every report that reads
// it, and nothing may modify them.
type reportRow struct {
	doc   reportRowDoc
	in    checklist.ReportInspection
	inErr error

	once     sync.Once
	tallies  map[string]checklist.Tally
	findings []checklist.Finding
	err      error
}

func newReportRow(doc reportRowDoc) *reportRow {
	r := &reportRow{doc: doc}
	r.in, r.inErr = doc.inspection()
	return r
}

// decoded returns the row's tallies by item key and its findings, to be
// read only.
func (r *reportRow) decoded() (map[string]checklist.Tally, []checklist.Finding, error) {
	r.once.Do(func() {
		if r.tallies, r.err = r.doc.tallies(); r.err == nil {
			r.findings, r.err = r.doc.findings(r.in)
		}
	})
	return r.tallies, r.findings, r.err
}

// putReportRow writes (or, when it no longer counts, removes) the report
// row of in. It is idempotent, so a retry or the next write repairs a
// row a crash left behind.
func (db *DB) putReportRow(ctx context.Context, in *checklist.Inspection) error {
	db.rows.rowWritten(in.ID)
	col := db.db.Collection(colReportRows)
	filter := bson.D{{Key: "_id", Value: in.ID}}
	counts := in.Status.CountsInReports()
	var row reportRowDoc
	var err error
	unlock := db.writeLock()
	if counts {
		row = toReportRow(in)
		_, err = col.ReplaceOne(ctx, filter, row, options.Replace().SetUpsert(true))
	} else {
		_, err = col.DeleteOne(ctx, filter)
	}
	unlock()
	// Writes of one inspection run under its lock (an import is its
	// only write): none comes between the database's and the cache's.
	switch {
	case err != nil:
		db.rowCache.forget()
	case counts:
		db.rowCache.put(row)
	default:
		db.rowCache.remove(in.ID)
	}
	return translate(err)
}

// latestRows keeps, of the rows given, each fiscal year's latest counted
// inspection's row per facility.
func latestRows(all []*reportRow) (map[int]map[string]*reportRow, error) {
	ins := map[int][]checklist.ReportInspection{}
	byID := make(map[string]*reportRow, len(all))
	for _, r := range all {
		if r.inErr != nil {
			return nil, r.inErr
		}
		if r.in.Status.CountsInReports() {
			ins[r.doc.FiscalYear] = append(ins[r.doc.FiscalYear], r.in)
			byID[r.in.ID] = r
		}
	}
	rows := map[int]map[string]*reportRow{}
	for fy, list := range ins {
		latest := checklist.LatestPerFacility(list)
		rows[fy] = make(map[string]*reportRow, len(latest))
		for f, in := range latest {
			rows[fy][f] = byID[in.ID]
		}
	}
	return rows, nil
}

// ReportYears reads what the reports of the fiscal years fys are computed
// from: the facilities, and each one's latest counted inspection per year
// with its answers' numbers and findings, from the report rows (see
// colReportRows) in one query. The tallies are shared with the owner's
// copy of the rows (reportRow): callers only read them.
func (db *DB) ReportYears(ctx context.Context, fys []int) (_ map[int]*checklist.YearData, err error) {
	defer wrap(&err, "report data of fiscal years %v", fys)
	if db.rows.running.Load() {
		return nil, errRebuilding()
	}
	facilities, err := db.reportFacilities(ctx)
	if err != nil {
		return nil, err
	}
	all, err := db.reportRows(ctx, fys)
	if err != nil {
		return nil, err
	}
	rows, err := latestRows(all)
	if err != nil {
		return nil, err
	}
	out := map[int]*checklist.YearData{}
	for _, fy := range fys {
		d := &checklist.YearData{FiscalYear: fy, Facilities: facilities, Latest: make(map[string]checklist.ReportInspection, len(rows[fy])),
			Tallies: make(map[string]map[string]checklist.Tally, len(rows[fy]))}
		var newest checklist.ReportInspection
		for f, row := range rows[fy] {
			tallies, findings, err := row.decoded()
			if err != nil {
				return nil, err
			}
			in := row.in
			d.Latest[f], d.Tallies[f] = in, tallies
			d.Findings = append(d.Findings, findings...)
			if in.Version > newest.Version || (in.Version == newest.Version && in.ChecklistID > newest.ChecklistID) {
				newest = in
			}
		}
		if newest.ChecklistID != "" {
			if d.Content, err = db.ChecklistContent(ctx, newest.ChecklistID, newest.Version); err != nil {
				return nil, err
			}
		}
		out[fy] = d
	}
	return out, nil
}

// InsertInspections stores many finished inspections at once, in batches
// (data loads and the demo generator; the API writes one at a time). The
// inspections must be new; their fiscal years' report versions change.
func (db *DB) InsertInspections(ctx context.Context, ins []*checklist.Inspection) (err error) {
	defer wrap(&err, "insert %d inspections", len(ins))
	const batch = 200
	years := map[int]bool{}
	for start := 0; start < len(ins); start += batch {
		docs := make([]any, 0, batch)
		var rows []any
		for _, in := range ins[start:min(start+batch, len(ins))] {
			docs = append(docs, toInspectionDoc(in))
			if in.Status.CountsInReports() {
				rows = append(rows, toReportRow(in))
			}
			years[in.FiscalYear] = true
		}
		unlock := db.writeLock()
		_, err := db.db.Collection(colInspections).InsertMany(ctx, docs)
		rowsErr := err
		if err == nil && len(rows) > 0 {
			_, rowsErr = db.db.Collection(colReportRows).InsertMany(ctx, rows)
			err = rowsErr
		}
		unlock()
		if rowsErr != nil {
			db.rowCache.forget() // some rows may have been inserted
		} else {
			for _, r := range rows {
				db.rowCache.put(r.(reportRowDoc))
			}
		}
		if err != nil {
			return translate(err)
		}
		for _, in := range ins[start:min(start+batch, len(ins))] {
			db.index.put(in)
		}
	}
	keys := make([]string, 0, len(years))
	for fy := range years {
		keys = append(keys, checklist.ReportVersionYear(fy))
	}
	return db.bumpReportVersions(ctx, keys...)
}
