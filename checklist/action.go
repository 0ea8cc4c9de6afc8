package checklist

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The improvement cycle (PDCA). A finding becomes an improvement action
// for the facility; the facility reports progress in September (interim)
// and December (final); a later inspection that passes the item verifies
// the action, one that fails it again flags it; reviewers mark actions
// worth copying as good practices, which every facility can read.

// ActionStatus is where an improvement action stands.
//
//	planned ──▶ in_progress ──▶ done ──▶ verified
//	   └────────────┴─────────────┴──▶ dropped
type ActionStatus string

// Action statuses.
const (
	ActionPlanned    ActionStatus = "planned"
	ActionInProgress ActionStatus = "in_progress"
	ActionDone       ActionStatus = "done"
	ActionVerified   ActionStatus = "verified"
	ActionDropped    ActionStatus = "dropped"
)

// actionMoves lists the statuses each status may move to by hand.
// Verified is normally reached by a passing inspection; reviewers may
// also set it.
var actionMoves = map[ActionStatus][]ActionStatus{
	ActionPlanned:    {ActionInProgress, ActionDone, ActionDropped},
	ActionInProgress: {ActionPlanned, ActionDone, ActionDropped},
	ActionDone:       {ActionInProgress, ActionVerified, ActionDropped},
	ActionVerified:   {},
	ActionDropped:    {ActionPlanned},
}

// Valid reports whether s is a known status.
func (s ActionStatus) Valid() bool { _, ok := actionMoves[s]; return ok }

// Open reports whether an action in status s still waits for its result.
func (s ActionStatus) Open() bool {
	return s == ActionPlanned || s == ActionInProgress || s == ActionDone
}

// Progress report kinds: the bureau's interim report in September and
// final report in December.
const (
	ProgressInterim = "interim"
	ProgressFinal   = "final"
)

// ProgressReport is a facility's report on an action.
type ProgressReport struct {
	Date Date   // the date of the report
	Text string // what was done
	By   string // user id
	At   time.Time
}

// Action is one improvement action of one facility about one item.
type Action struct {
	ID                 string
	FacilityID         string
	ItemKey            string
	Title              string
	Owner              string // who carries it out (a name or a post)
	TargetFiscalYear   int
	Due                Date
	Status             ActionStatus
	SourceInspectionID string // the inspection whose finding it answers; may be empty

	Interim *ProgressReport
	Final   *ProgressReport

	// Flagged is set when a later inspection failed the item again.
	Flagged             bool
	FlaggedInspectionID string
	// VerifiedInspectionID is the inspection that passed the item.
	VerifiedInspectionID string

	GoodPractice     bool
	GoodPracticeNote string
	GoodPracticeBy   string
	GoodPracticeAt   time.Time

	Revision  int64
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Limits on actions.
const (
	MaxActionTitle = 200
	MaxActionOwner = 100
	MaxActionText  = 4000
)

// NewAction returns a planned action after checking its fields. Reviewers
// and admins create actions.
func NewAction(a Action, by Actor, now time.Time) (Action, error) {
	if by.Role != RoleReviewer && by.Role != RoleAdmin {
		return Action{}, Errorf(EForbidden, "only reviewers and admins create improvement actions")
	}
	a.Title, a.Owner = strings.TrimSpace(a.Title), strings.TrimSpace(a.Owner)
	var p Problems
	if a.FacilityID == "" {
		p.Add("facility_id", CodeRequired, "facility_id is required")
	}
	if a.ItemKey == "" {
		p.Add("item_key", CodeRequired, "item_key is required: the checklist item the action improves")
	}
	checkActionFields(&p, a)
	if err := p.Err("the action is not valid"); err != nil {
		return Action{}, err
	}
	now = now.UTC()
	a.Status, a.Revision = ActionPlanned, 1
	a.CreatedAt, a.UpdatedAt, a.CreatedBy, a.UpdatedBy = now, now, by.UserID, by.UserID
	a.Interim, a.Final, a.Flagged, a.GoodPractice = nil, nil, false, false
	return a, nil
}

func checkActionFields(p *Problems, a Action) {
	checkActionText(p, "title", a.Title, MaxActionTitle, true)
	checkActionText(p, "owner", a.Owner, MaxActionOwner, false)
	if !ValidFiscalYear(a.TargetFiscalYear) {
		p.Add("target_fiscal_year", "range", "target_fiscal_year must be a fiscal year such as 2027")
	}
	if !a.Due.IsZero() && a.TargetFiscalYear != 0 && FiscalYearOfDate(a.Due) > a.TargetFiscalYear {
		p.Add("due_date", "range", "due_date %s is after the target fiscal year %d", a.Due, a.TargetFiscalYear)
	}
}

func checkActionText(p *Problems, field, s string, maxLen int, required bool) {
	switch n := utf8.RuneCountInString(s); {
	case required && strings.TrimSpace(s) == "":
		p.Add(field, CodeRequired, "%s is required", field)
	case n > maxLen:
		p.Add(field, CodeTooLong, "%s has %d characters; at most %d are allowed", field, n, maxLen)
	default:
		checkString(p, field, s)
	}
}

// ActionChange is an edit of an action; nil fields stay as they are.
type ActionChange struct {
	Title            *string
	Owner            *string
	TargetFiscalYear *int
	Due              *Date
	Status           *ActionStatus
}

// canWork reports whether by may work on actions at all: inspectors only
// on their facility's (the HTTP layer checks which facility).
func canWork(by Actor) bool {
	return by.Role == RoleInspector || by.Role == RoleReviewer || by.Role == RoleAdmin
}

// Apply edits a. Inspectors may only move the status between planned,
// in progress and done; reviewers and admins may change everything.
func (a *Action) Apply(ch ActionChange, by Actor, now time.Time) error {
	if !canWork(by) {
		return Errorf(EForbidden, "not allowed")
	}
	reviewer := by.Role == RoleReviewer || by.Role == RoleAdmin
	var p Problems
	next := *a
	if ch.Title != nil || ch.Owner != nil || ch.TargetFiscalYear != nil || ch.Due != nil {
		if !reviewer {
			return Errorf(EForbidden, "facility staff report progress; reviewers change the plan of an action")
		}
	}
	if ch.Title != nil {
		next.Title = strings.TrimSpace(*ch.Title)
	}
	if ch.Owner != nil {
		next.Owner = strings.TrimSpace(*ch.Owner)
	}
	if ch.TargetFiscalYear != nil {
		next.TargetFiscalYear = *ch.TargetFiscalYear
	}
	if ch.Due != nil {
		next.Due = *ch.Due
	}
	if ch.Status != nil && *ch.Status != a.Status {
		to := *ch.Status
		switch {
		case !to.Valid():
			p.Add("status", "enum", "status must be planned, in_progress, done, verified or dropped")
		case !reviewer && (to == ActionVerified || to == ActionDropped || a.Status == ActionDropped):
			return Errorf(EForbidden, "only reviewers verify, drop or revive an action")
		case !slices.Contains(actionMoves[a.Status], to):
			return &Error{Code: EConflict, Message: "an action that is " + string(a.Status) + " cannot become " + string(to)}
		}
		next.Status = to
	}
	checkActionFields(&p, next)
	if err := p.Err("the change is not valid"); err != nil {
		return err
	}
	next.touch(by, now)
	*a = next
	return nil
}

func (a *Action) touch(by Actor, now time.Time) {
	a.Revision++
	a.UpdatedAt, a.UpdatedBy = now.UTC(), by.UserID
}

// Report records the interim or final progress report, replacing an
// earlier one of the same kind. A report moves a planned action to in
// progress.
func (a *Action) Report(kind string, date Date, text string, by Actor, now time.Time) error {
	if !canWork(by) {
		return Errorf(EForbidden, "not allowed")
	}
	var p Problems
	if kind != ProgressInterim && kind != ProgressFinal {
		p.Add("kind", "enum", "kind must be interim (September) or final (December)")
	}
	if date.IsZero() {
		p.Add("date", CodeRequired, "date is required")
	}
	checkActionText(&p, "text", text, MaxActionText, true)
	if err := p.Err("the progress report is not valid"); err != nil {
		return err
	}
	if a.Status == ActionDropped || a.Status == ActionVerified {
		return &Error{Code: EConflict, Message: "an action that is " + string(a.Status) + " takes no progress report"}
	}
	r := &ProgressReport{Date: date, Text: strings.TrimSpace(text), By: by.UserID, At: now.UTC()}
	if kind == ProgressInterim {
		a.Interim = r
	} else {
		a.Final = r
	}
	if a.Status == ActionPlanned {
		a.Status = ActionInProgress
	}
	a.touch(by, now)
	return nil
}

// MarkGoodPractice marks (or unmarks) the action as a good practice for
// other facilities to learn from. Reviewers and admins decide.
func (a *Action) MarkGoodPractice(good bool, note string, by Actor, now time.Time) error {
	if by.Role != RoleReviewer && by.Role != RoleAdmin {
		return Errorf(EForbidden, "only reviewers mark good practices")
	}
	var p Problems
	checkActionText(&p, "note", note, MaxActionText, false)
	if err := p.Err("the good practice is not valid"); err != nil {
		return err
	}
	a.GoodPractice, a.GoodPracticeNote = good, strings.TrimSpace(note)
	a.GoodPracticeBy, a.GoodPracticeAt = by.UserID, now.UTC()
	if !good {
		a.GoodPracticeNote, a.GoodPracticeBy, a.GoodPracticeAt = "", "", time.Time{}
	}
	a.touch(by, now)
	return nil
}

// CheckAgainst applies a later counted inspection of the action's
// facility: passing the item verifies an open action, failing it flags
// the action. It reports whether the action changed. Inspections dated
// before the action was created, and the action's own source, say
// nothing about it; neither do N/A or unanswered items.
func (a *Action) CheckAgainst(in *Inspection, now time.Time) bool {
	if in.FacilityID != a.FacilityID || !in.Status.CountsInReports() || in.ID == a.SourceInspectionID ||
		!a.Status.Open() || in.Date.Time().Before(DateOf(a.CreatedAt).Time()) {
		return false
	}
	r, ok := in.Answers[a.ItemKey]
	if !ok {
		return false
	}
	system := Actor{UserID: "system"}
	switch {
	case r.Outcome.Failed:
		if a.Flagged && a.FlaggedInspectionID == in.ID {
			return false
		}
		a.Flagged, a.FlaggedInspectionID = true, in.ID
	case r.Outcome.Answered && !r.Outcome.NA:
		a.Status, a.VerifiedInspectionID = ActionVerified, in.ID
		a.Flagged, a.FlaggedInspectionID = false, ""
	default:
		return false
	}
	a.touch(system, now)
	return true
}

// ActionQuery selects actions; empty fields select everything. A nil
// FacilityIDs means every facility.
type ActionQuery struct {
	FacilityIDs      []string
	ItemKey          string
	Status           ActionStatus
	TargetFiscalYear int
	GoodPractice     bool // only good practices
	OpenOnly         bool
	// Limit > 0 asks for one page of at most Limit actions in id order
	// (creation order), after the action with id After. Limit 0 lists
	// every match by facility, year and creation, for internal use.
	Limit int
	After string
}
