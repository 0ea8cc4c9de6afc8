package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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

// ReportVersionFacilities is the version key of the facility list.
const ReportVersionFacilities = "facilities"

// ReportVersionKey is the version key of fiscal year fy.
func ReportVersionKey(fy int) string { return "fy:" + strconv.Itoa(fy) }

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
type reportVersions struct {
	mu     sync.Mutex
	tokens map[string]string
	readAt time.Time
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// bumpReportVersions gives keys fresh tokens. It runs after the data
// changed, so a reader that saw the old token computed from data at
// least as old as the change, and is invalidated by the new one.
func (db *DB) bumpReportVersions(ctx context.Context, keys ...string) {
	now := db.now()
	for _, k := range keys {
		tok := newToken()
		_, err := db.db.Collection(colReportVersions).UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "token", Value: tok}, {Key: "updated_at", Value: now}}}},
			options.UpdateOne().SetUpsert(true))
		db.reportVers.mu.Lock()
		if err != nil {
			// The database may or may not hold the new token: read it
			// again next time.
			db.reportVers.readAt = time.Time{}
		} else if db.reportVers.tokens != nil {
			db.reportVers.tokens[k] = tok
		}
		db.reportVers.mu.Unlock()
	}
}

// ReportVersions returns every data version by key (ReportVersionKey,
// ReportVersionFacilities): one read of a tiny collection, at most once
// per ReportVersionTTL.
func (db *DB) ReportVersions(ctx context.Context) (map[string]string, error) {
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
	rv.tokens, rv.readAt = m, started
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	rv.mu.Unlock()
	return out, nil
}

// ReportYears lists the fiscal years that have inspections, oldest first.
func ReportYearsOf(versions map[string]string) []int {
	var ys []int
	for k := range versions {
		if s, ok := strings.CutPrefix(k, "fy:"); ok {
			if y, err := strconv.Atoi(s); err == nil {
				ys = append(ys, y)
			}
		}
	}
	for i := 1; i < len(ys); i++ {
		for j := i; j > 0 && ys[j] < ys[j-1]; j-- {
			ys[j], ys[j-1] = ys[j-1], ys[j]
		}
	}
	return ys
}

// reportStatusFilter selects the inspections that count in reports.
func reportStatusFilter() bson.E {
	ss := make(bson.A, 0, len(checklist.ReportStatuses))
	for _, s := range checklist.ReportStatuses {
		ss = append(ss, string(s))
	}
	return bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: ss}}}
}

type reportInspectionDoc struct {
	ID          string    `bson:"_id"`
	FacilityID  string    `bson:"facility_id"`
	ChecklistID string    `bson:"checklist_id"`
	Version     int       `bson:"version"`
	Date        string    `bson:"inspection_date"`
	Status      string    `bson:"status"`
	UpdatedAt   time.Time `bson:"updated_at"`
}

// latestInspections returns each facility's latest counted inspection of
// fiscal year fy (optionally of one facility).
func (db *DB) latestInspections(ctx context.Context, fy int, facilityID string) (map[string]checklist.ReportInspection, error) {
	filter := bson.D{{Key: "fiscal_year", Value: fy}, reportStatusFilter()}
	if facilityID != "" {
		filter = append(filter, bson.E{Key: "facility_id", Value: facilityID})
	}
	var docs []reportInspectionDoc
	opts := options.Find().SetProjection(bson.D{{Key: "facility_id", Value: 1}, {Key: "checklist_id", Value: 1},
		{Key: "version", Value: 1}, {Key: "inspection_date", Value: 1}, {Key: "status", Value: 1}, {Key: "updated_at", Value: 1}})
	if err := db.findAll(ctx, colInspections, filter, opts, &docs); err != nil {
		return nil, err
	}
	ins := make([]checklist.ReportInspection, 0, len(docs))
	for _, d := range docs {
		date, err := checklist.ParseDate(d.Date)
		if err != nil {
			return nil, err
		}
		ins = append(ins, checklist.ReportInspection{ID: d.ID, FacilityID: d.FacilityID, ChecklistID: d.ChecklistID,
			Version: d.Version, Date: date, Status: checklist.Status(d.Status), UpdatedAt: d.UpdatedAt.UTC()})
	}
	return checklist.LatestPerFacility(ins), nil
}

// tallyDoc is one row of the report aggregation.
type tallyDoc struct {
	ID struct {
		I         string  `bson:"i"`
		K         string  `bson:"k"`
		Answered  float64 `bson:"a"`
		Failed    float64 `bson:"f"`
		NA        float64 `bson:"n"`
		MaxPoints float64 `bson:"m"`
	} `bson:"_id"`
	Points float64 `bson:"points"`
}

// matchIDs is the $match stage selecting inspections by id.
func matchIDs(latest map[string]checklist.ReportInspection) bson.D {
	ids := make(bson.A, 0, len(latest))
	for _, in := range latest {
		ids = append(ids, in.ID)
	}
	return bson.D{{Key: "$match", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}}}
}

// ReportYear reads what the reports of fiscal year fy are computed from.
// The sums are computed in the database with the portable stages only:
//
//	$match {_id: {$in: latest}} → $unwind answers → $group {inspection, item} with $sum
//
// and everything else (rates, percentages) in Go. Two behaviours of the
// embedded server (FerretDB 1.24) shape the pipeline; both are pinned by
// TestEmbeddedAggregationQuirks:
//
//   - $unwind keeps only _id and the unwound array of each document, so
//     the group key is the inspection's _id (one per facility is
//     selected), not its facility_id;
//   - a $group computes only its first accumulator (the others come out
//     0), so the group has one $sum, of points, and carries the 0/1
//     numbers answered, failed, na and max_points in its key. An
//     inspection answers an item once, so the key stays unique and
//     nothing is lost; MongoDB gives the same result.
func (db *DB) ReportYear(ctx context.Context, fy int) (_ *checklist.YearData, err error) {
	defer wrap(&err, "report data of fiscal year %d", fy)
	var fdocs []facilityDoc
	if err := db.findAll(ctx, colFacilities, bson.D{}, options.Find().SetSort(bson.D{{Key: "code", Value: 1}}), &fdocs); err != nil {
		return nil, err
	}
	latest, err := db.latestInspections(ctx, fy, "")
	if err != nil {
		return nil, err
	}
	d := &checklist.YearData{FiscalYear: fy, Latest: latest, Tallies: map[string]map[string]checklist.Tally{}}
	for _, f := range fdocs {
		d.Facilities = append(d.Facilities, f.facility())
	}
	if len(latest) == 0 {
		return d, nil
	}
	facilityOf := map[string]string{}
	var newest checklist.ReportInspection
	for _, in := range latest {
		facilityOf[in.ID] = in.FacilityID
		if in.Version > newest.Version || (in.Version == newest.Version && in.ChecklistID > newest.ChecklistID) {
			newest = in
		}
	}
	pipeline := bson.A{
		matchIDs(latest),
		bson.D{{Key: "$unwind", Value: "$answers"}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "i", Value: "$_id"}, {Key: "k", Value: "$answers.key"},
				{Key: "a", Value: "$answers.answered"}, {Key: "f", Value: "$answers.failed"},
				{Key: "n", Value: "$answers.na"}, {Key: "m", Value: "$answers.max_points"}}},
			{Key: "points", Value: bson.D{{Key: "$sum", Value: "$answers.points"}}},
		}}},
	}
	cur, err := db.db.Collection(colInspections).Aggregate(ctx, pipeline)
	if err != nil {
		return nil, translate(err)
	}
	var rows []tallyDoc
	if err := cur.All(ctx, &rows); err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		f, ok := facilityOf[r.ID.I]
		if !ok {
			continue
		}
		m := d.Tallies[f]
		if m == nil {
			m = map[string]checklist.Tally{}
			d.Tallies[f] = m
		}
		t := m[r.ID.K]
		t.Add(checklist.Tally{Answered: int(r.ID.Answered), Failed: int(r.ID.Failed),
			NA: int(r.ID.NA), Points: r.Points, MaxPoints: r.ID.MaxPoints})
		t.FacilityID, t.ItemKey = f, r.ID.K
		m[r.ID.K] = t
	}
	if d.Content, err = db.ChecklistContent(ctx, newest.ChecklistID, newest.Version); err != nil {
		return nil, err
	}
	return d, nil
}

type findingDoc struct {
	ID     string `bson:"_id"`
	Answer struct {
		Key   string   `bson:"key"`
		Value valueDoc `bson:"answer"`
	} `bson:"answers"`
}

type findingContextDoc struct {
	ID     string     `bson:"_id"`
	Photos []photoDoc `bson:"photos"`
	Review reviewDoc  `bson:"review"`
}

// Findings returns the failed answers of each facility's latest counted
// inspection of fiscal year fy, of one facility when facilityID is set,
// of the items itemKeys when not nil, in no particular order. Photos are
// those the answer names and those uploaded for its item.
func (db *DB) Findings(ctx context.Context, fy int, facilityID string, itemKeys []string) (_ []checklist.Finding, err error) {
	defer wrap(&err, "findings of fiscal year %d", fy)
	latest, err := db.latestInspections(ctx, fy, facilityID)
	if err != nil || len(latest) == 0 {
		return nil, err
	}
	byID := map[string]checklist.ReportInspection{}
	for _, in := range latest {
		byID[in.ID] = in
	}
	after := bson.D{{Key: "answers.failed", Value: 1}}
	if itemKeys != nil {
		after = append(after, bson.E{Key: "answers.key", Value: bson.D{{Key: "$in", Value: itemKeys}}})
	}
	pipeline := bson.A{
		matchIDs(latest),
		bson.D{{Key: "$unwind", Value: "$answers"}},
		bson.D{{Key: "$match", Value: after}},
		bson.D{{Key: "$project", Value: bson.D{{Key: "answers.key", Value: 1}, {Key: "answers.answer", Value: 1}}}},
	}
	cur, err := db.db.Collection(colInspections).Aggregate(ctx, pipeline)
	if err != nil {
		return nil, translate(err)
	}
	var docs []findingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(err)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	// Photos and review comments live beside the answers; $unwind on the
	// embedded server drops them, so they are read for the inspections
	// with findings.
	withFindings := bson.A{}
	seen := map[string]bool{}
	for _, d := range docs {
		if !seen[d.ID] {
			seen[d.ID] = true
			withFindings = append(withFindings, d.ID)
		}
	}
	var ctxDocs []findingContextDoc
	if err := db.findAll(ctx, colInspections, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: withFindings}}}},
		options.Find().SetProjection(bson.D{{Key: "photos", Value: 1}, {Key: "review", Value: 1}}), &ctxDocs); err != nil {
		return nil, err
	}
	extra := map[string]findingContextDoc{}
	for _, c := range ctxDocs {
		extra[c.ID] = c
	}
	out := make([]checklist.Finding, 0, len(docs))
	for _, d := range docs {
		in := byID[d.ID]
		f := checklist.Finding{InspectionID: d.ID, FacilityID: in.FacilityID, FiscalYear: fy, Date: in.Date,
			Status: in.Status, ItemKey: d.Answer.Key, Comment: d.Answer.Value.Comment,
			Photos: append([]string{}, d.Answer.Value.Photos...)}
		c := extra[d.ID]
		for _, p := range c.Photos {
			if p.ItemKey == d.Answer.Key && !slices.Contains(f.Photos, p.SHA256) {
				f.Photos = append(f.Photos, p.SHA256)
			}
		}
		for _, rc := range c.Review.Items {
			if rc.Key == d.Answer.Key {
				f.ReviewComment = rc.Comment
			}
		}
		out = append(out, f)
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
		for _, in := range ins[start:min(start+batch, len(ins))] {
			docs = append(docs, toInspectionDoc(in))
			years[in.FiscalYear] = true
		}
		if _, err := db.db.Collection(colInspections).InsertMany(ctx, docs); err != nil {
			return translate(err)
		}
	}
	keys := make([]string, 0, len(years))
	for fy := range years {
		keys = append(keys, ReportVersionKey(fy))
	}
	db.bumpReportVersions(ctx, keys...)
	return nil
}
