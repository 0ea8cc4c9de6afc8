package checklist

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is where an inspection is in its lifecycle.
//
//	draft ──submit──▶ submitted ──approve──▶ approved (locked)
//	  │                 │   ▲                    │
//	discard          return resubmit          reopen (reason)
//	  ▼                 ▼   │                    │
//	discarded         returned ◀─────────────────┘
type Status string

// Statuses.
const (
	StatusDraft     Status = "draft"     // being filled in by the facility
	StatusSubmitted Status = "submitted" // waiting for a reviewer
	StatusReturned  Status = "returned"  // sent back with comments; editable again
	StatusApproved  Status = "approved"  // accepted; locked until reopened
	StatusDiscarded Status = "discarded" // a draft given up; kept, never shown as data
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusSubmitted, StatusReturned, StatusApproved, StatusDiscarded:
		return true
	}
	return false
}

// Editable reports whether answers and photos may change in status s.
func (s Status) Editable() bool { return s == StatusDraft || s == StatusReturned }

// Limits on what one inspection may hold, enforced before anything is
// written: the database would accept far larger documents.
const (
	MaxCommentLength     = 2000 // characters in a reviewer comment or reason
	MaxInspectionPhotos  = 300  // photos recorded on one inspection
	MaxAppliedRequests   = 16   // idempotency keys remembered inside one inspection
	MaxIdempotencyKeyLen = 128
)

// Actor is who performs a change. Facilities are the facilities an
// inspector is bound to: what Inspection.CheckAccess lets them see.
type Actor struct {
	UserID     string
	Name       string
	Role       Role
	Facilities []string
}

// Stamp records when and by whom something last changed, and at which
// revision of the inspection.
type Stamp struct {
	Revision int64
	At       time.Time
	By       string // user id
}

// AnswerRecord is one stored answer: the answer itself, its outcome
// under the pinned version (the numbers reports sum), and when it last
// changed. Stamp.Revision is what the merge rule compares against a
// save's base revision.
type AnswerRecord struct {
	Answer  Answer
	Outcome Outcome
	Stamp
}

// Photo is a photo recorded on an inspection. The bytes live in the blob
// store under SHA256; the same bytes recorded twice for one item are one
// photo.
type Photo struct {
	SHA256      string
	ItemKey     string // "" for a photo of the inspection as a whole
	ContentType string
	Size        int64
	At          time.Time
	By          string
}

// Review is the reviewer's latest word on an inspection: an overall
// comment and comments per item key.
type Review struct {
	Comment string
	Items   map[string]string
	By      string
	At      time.Time
}

// Transition is one step of the lifecycle, kept forever.
type Transition struct {
	From     Status
	To       Status
	At       time.Time
	By       string // user id
	ByName   string
	Role     Role
	Reason   string            // why: the return comment, the reopen reason
	Items    map[string]string // per-item comments of a return
	Revision int64             // the revision the transition produced
}

// AppliedRequest remembers that the write with an idempotency key
// produced a revision. It lives inside the inspection, so recording it is
// atomic with the write itself: a retry after a crash finds it, and so
// does a concurrent duplicate on another instance once its revision
// guard has failed and it reads again.
type AppliedRequest struct {
	Key string
	// Fingerprint is the digest of the request that used Key; a record
	// written before fingerprints were kept has none and matches any.
	Fingerprint string
	Revision    int64
}

// Totals sum an inspection's stored outcomes: what lists and reports
// show without reading every answer.
type Totals struct {
	Points    float64
	MaxPoints float64
	Answered  int
	Failed    int
	NA        int
}

// Percent is Points / MaxPoints as a percentage, 0 when nothing scores.
func (t Totals) Percent() float64 {
	if t.MaxPoints <= 0 {
		return 0
	}
	return 100 * t.Points / t.MaxPoints
}

// Inspection is one inspection of one facility against one published
// checklist version. It is the unit of consistency: answers, photos,
// review and history change together, and every change increments
// Revision.
type Inspection struct {
	ID          string // chosen by the tablet: a UUID
	FacilityID  string
	ChecklistID string
	Version     int // the published version it is pinned to
	Date        Date
	FiscalYear  int
	Status      Status

	Answers map[string]AnswerRecord
	// Cleared remembers items whose answer was removed, so that a stale
	// save to them conflicts instead of silently bringing them back.
	Cleared map[string]Stamp
	Photos  []Photo
	Review  Review
	History []Transition
	Totals  Totals

	Revision int64
	Created  Stamp
	Updated  Stamp
	Applied  []AppliedRequest
}

// InspectionChange describes one accepted write, for the audit trail.
type InspectionChange struct {
	Action string   // create, save, photo, submit, return, resubmit, approve, reopen, discard
	Items  []string // item keys the write touched
	From   Status
	To     Status
	Reason string
}

// Audit actions on inspections.
const (
	ActionCreate   = "create"
	ActionSave     = "save"
	ActionPhoto    = "photo"
	ActionSubmit   = "submit"
	ActionReturn   = "return"
	ActionResubmit = "resubmit"
	ActionApprove  = "approve"
	ActionReopen   = "reopen"
	ActionDiscard  = "discard"
)

// NewInspection starts a draft. id must be a UUID chosen by the client;
// date is the day of the inspection in Japan and decides the fiscal year.
// Inspectors and admins create inspections; the HTTP layer has already
// checked that the actor may work on facilityID.
func NewInspection(id, facilityID, checklistID string, version int, date Date, by Actor, now time.Time) (*Inspection, error) {
	var p Problems
	if !IsUUID(id) {
		p.Add("id", "format", "the inspection id must be a UUID chosen by the client, such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427")
	}
	if facilityID == "" {
		p.Add("facility_id", "required", "facility_id is required")
	}
	if checklistID == "" {
		p.Add("checklist_id", "required", "checklist_id is required")
	}
	if version < 1 {
		p.Add("version", "range", "version must be a published version number (1 or more)")
	}
	switch {
	case date.IsZero():
		p.Add("inspection_date", "required", "inspection_date is required")
	case date.Year < 2000:
		p.Add("inspection_date", "range", "inspection_date %s is before 2000", date)
	case date.Time().After(now.Add(48 * time.Hour)):
		p.Add("inspection_date", "range", "inspection_date %s is in the future", date)
	}
	if err := p.Err("the inspection cannot be created"); err != nil {
		return nil, err
	}
	if by.Role != RoleInspector && by.Role != RoleAdmin {
		return nil, Errorf(EForbidden, "only inspectors and admins create inspections")
	}
	now = now.UTC()
	stamp := Stamp{Revision: 1, At: now, By: by.UserID}
	return &Inspection{
		ID:          strings.ToLower(id),
		FacilityID:  facilityID,
		ChecklistID: checklistID,
		Version:     version,
		Date:        date,
		FiscalYear:  FiscalYearOfDate(date),
		Status:      StatusDraft,
		Answers:     map[string]AnswerRecord{},
		Cleared:     map[string]Stamp{},
		Revision:    1,
		Created:     stamp,
		Updated:     stamp,
	}, nil
}

// SameCreation reports whether other describes the same creation as in:
// a retried create must name the same facility, checklist version and
// date to be answered with the existing inspection.
func (in *Inspection) SameCreation(other *Inspection) bool {
	return in.ID == other.ID && in.FacilityID == other.FacilityID && in.ChecklistID == other.ChecklistID &&
		in.Version == other.Version && in.Date == other.Date
}

// AnswersEqual reports whether a and b are the same answer. Compare
// normalized answers (Item.Normalize): then equal means the same.
func AnswersEqual(a, b Answer) bool {
	return a.Item == b.Item && a.Comment == b.Comment && slices.Equal(a.Photos, b.Photos) &&
		a.Value.Kind == b.Value.Kind && a.Value.Bool == b.Value.Bool && a.Value.Str == b.Value.Str &&
		a.Value.Num == b.Value.Num && slices.Equal(a.Value.List, b.Value.List)
}

// submitAnswers returns the answers as CheckSubmit takes them.
func (in *Inspection) submitAnswers() map[string]Answer { return in.AnswerValues() }

// AnswerValues returns the answers by item key, as the checklist rules
// take them.
func (in *Inspection) AnswerValues() map[string]Answer {
	m := make(map[string]Answer, len(in.Answers))
	for k, r := range in.Answers {
		m[k] = r.Answer
	}
	return m
}

// lastChange returns the revision at which item key last changed: set,
// changed or cleared. 0 means never.
func (in *Inspection) lastChange(key string) int64 {
	rev := in.Answers[key].Revision
	if c, ok := in.Cleared[key]; ok && c.Revision > rev {
		rev = c.Revision
	}
	return rev
}

// WasApplied reports whether the write req was applied, and the revision
// it produced. Its key applied for a different request (another
// fingerprint) is refused: the client reused the key. Only the most
// recent MaxAppliedRequests keys are remembered; an older retry is applied
// again, which the merge rules make harmless (values already stored
// change nothing; an item changed since is a conflict).
func (in *Inspection) WasApplied(req Idempotency) (int64, bool, error) {
	if req.Key == "" {
		return 0, false, nil
	}
	for _, a := range in.Applied {
		if a.Key != req.Key {
			continue
		}
		if a.Fingerprint != "" && a.Fingerprint != req.Fingerprint {
			e := Errorf(EInvalid, "this Idempotency-Key was already used for a different request")
			e.Fields = []FieldError{{Field: "Idempotency-Key", Code: "idempotency_key", Message: e.Message}}
			return 0, false, e
		}
		return a.Revision, true, nil
	}
	return 0, false, nil
}

// RecordApplied remembers that req produced the current revision,
// forgetting the oldest keys beyond MaxAppliedRequests.
func (in *Inspection) RecordApplied(req Idempotency) {
	if req.Key == "" {
		return
	}
	in.Applied = append(in.Applied, AppliedRequest{Key: req.Key, Fingerprint: req.Fingerprint, Revision: in.Revision})
	if n := len(in.Applied) - MaxAppliedRequests; n > 0 {
		in.Applied = slices.Delete(in.Applied, 0, n)
	}
}

// touch starts a new revision and returns its stamp.
func (in *Inspection) touch(by Actor, now time.Time) Stamp {
	in.Revision++
	in.Updated = Stamp{Revision: in.Revision, At: now.UTC(), By: by.UserID}
	return in.Updated
}

// Findings returns the failed items' keys in the order of the content.
func (in *Inspection) Findings(c *Content) []string {
	var keys []string
	seen := map[string]bool{}
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if r, ok := in.Answers[it.Key]; ok && r.Outcome.Failed && !seen[it.Key] {
				seen[it.Key] = true
				keys = append(keys, it.Key)
			}
		}
	}
	return keys
}

// PhotosOf returns the photos recorded for item key.
func (in *Inspection) PhotosOf(key string) []Photo {
	var ps []Photo
	for _, p := range in.Photos {
		if p.ItemKey == key {
			ps = append(ps, p)
		}
	}
	return ps
}

// recomputeTotals sums the stored outcomes.
func (in *Inspection) recomputeTotals() {
	var t Totals
	for _, r := range in.Answers {
		if r.Outcome.Answered {
			t.Answered++
		}
		if r.Outcome.Failed {
			t.Failed++
		}
		if r.Outcome.NA {
			t.NA++
		}
		t.Points += r.Outcome.Points
		t.MaxPoints += r.Outcome.MaxPoints
	}
	in.Totals = t
}

// IsUUID reports whether s has the textual form of a UUID
// (8-4-4-4-12 hexadecimal digits).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}

// checkComment validates a reviewer's comment or a reason.
func checkComment(p *Problems, field, s string, required bool) {
	switch n := utf8.RuneCountInString(s); {
	case required && isBlank(s):
		p.Add(field, CodeRequired, "%s is required", field)
	case n > MaxCommentLength:
		p.Add(field, CodeTooLong, "%s has %d characters; at most %d are allowed", field, n, MaxCommentLength)
	default:
		checkString(p, field, s)
	}
}
