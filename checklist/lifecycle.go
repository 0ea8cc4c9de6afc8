package checklist

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// rule is one lifecycle transition: which statuses it leaves, where it
// goes, and which roles may take it.
type rule struct {
	action string
	from   []Status
	to     Status
	roles  []Role
}

// rules is the whole lifecycle. Facility staff fill and submit; bureau
// staff review; admins may do either. Anything not listed is refused.
var rules = map[string]rule{
	ActionSubmit:   {ActionSubmit, []Status{StatusDraft}, StatusSubmitted, []Role{RoleInspector, RoleAdmin}},
	ActionReturn:   {ActionReturn, []Status{StatusSubmitted}, StatusReturned, []Role{RoleReviewer, RoleAdmin}},
	ActionResubmit: {ActionResubmit, []Status{StatusReturned}, StatusSubmitted, []Role{RoleInspector, RoleAdmin}},
	ActionApprove:  {ActionApprove, []Status{StatusSubmitted}, StatusApproved, []Role{RoleReviewer, RoleAdmin}},
	ActionReopen:   {ActionReopen, []Status{StatusApproved}, StatusReturned, []Role{RoleReviewer, RoleAdmin}},
	ActionDiscard:  {ActionDiscard, []Status{StatusDraft}, StatusDiscarded, []Role{RoleInspector, RoleAdmin}},
}

// editRoles may change answers and photos, in editable statuses only.
var editRoles = []Role{RoleInspector, RoleAdmin}

// CanTransition reports whether by may take action from the inspection's
// current status, and why not.
func (in *Inspection) CanTransition(action string, by Actor) error {
	r, ok := rules[action]
	if !ok {
		return Errorf(EBadRequest, "unknown action %q", action)
	}
	if !slices.Contains(r.roles, by.Role) {
		return Errorf(EForbidden, "%s cannot %s an inspection", withArticle(roleName(by.Role)), action)
	}
	if !slices.Contains(r.from, in.Status) {
		return stateError(in, EConflict, fmt.Sprintf("only %s inspection can be %s", withArticle(joinStatuses(r.from)), pastTense(action)))
	}
	return nil
}

// CanEdit reports whether by may change answers or photos now. An
// inspection that is no longer editable (submitted, approved, discarded)
// is ENotEditable, so that a tablet's late offline save can tell why.
func (in *Inspection) CanEdit(by Actor) error {
	if !slices.Contains(editRoles, by.Role) {
		return Errorf(EForbidden, "%s cannot change the answers of an inspection", withArticle(roleName(by.Role)))
	}
	if !in.Status.Editable() {
		return stateError(in, ENotEditable, "only a draft or returned inspection can be changed")
	}
	return nil
}

// stateError refuses a write in the wrong status with code, naming the
// status. An approved inspection is locked: that is said in so many words.
func stateError(in *Inspection, code Code, rule string) error {
	if in.Status == StatusApproved {
		return Errorf(code, "the inspection is approved and locked; a reviewer must reopen it first (%s)", rule)
	}
	return Errorf(code, "the inspection is %s: %s", in.Status, rule)
}

// withArticle puts "a" or "an" before a word: "an inspector", "a reviewer".
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// transition moves the inspection along rule action, recording who, when
// and why, and starts a new revision.
func (in *Inspection) transition(action string, by Actor, now time.Time, reason string, items map[string]string) InspectionChange {
	r := rules[action]
	from := in.Status
	stamp := in.touch(by, now)
	in.Status = r.to
	in.History = append(in.History, Transition{
		From: from, To: r.to, At: stamp.At, By: by.UserID, ByName: by.Name, Role: by.Role,
		Reason: reason, Items: items, Revision: stamp.Revision,
	})
	return InspectionChange{Action: action, From: from, To: r.to, Reason: reason, Items: slices.Sorted(maps.Keys(items))}
}

// Submit sends a draft for review. Every required visible item must be
// answered, with the comments and photos its failed answers need (c is
// the pinned version's content).
func (in *Inspection) Submit(c *Content, by Actor, now time.Time) (InspectionChange, error) {
	return in.submit(ActionSubmit, c, by, now)
}

// Resubmit sends a returned inspection for review again, under the same
// checks as Submit.
func (in *Inspection) Resubmit(c *Content, by Actor, now time.Time) (InspectionChange, error) {
	return in.submit(ActionResubmit, c, by, now)
}

func (in *Inspection) submit(action string, c *Content, by Actor, now time.Time) (InspectionChange, error) {
	if err := in.CanTransition(action, by); err != nil {
		return InspectionChange{}, err
	}
	if err := in.CheckComplete(c); err != nil {
		return InspectionChange{}, err
	}
	return in.transition(action, by, now, "", nil), nil
}

// CheckComplete reports, item by item, what keeps the inspection from
// being submitted.
func (in *Inspection) CheckComplete(c *Content) error {
	return c.CheckSubmit(in.submitAnswers())
}

// Return sends a submitted inspection back to the facility with an
// overall comment and comments per item; at least one must be given, and
// item comments must name items of the pinned version.
func (in *Inspection) Return(c *Content, comment string, items map[string]string, by Actor, now time.Time) (InspectionChange, error) {
	if err := in.CanTransition(ActionReturn, by); err != nil {
		return InspectionChange{}, err
	}
	var p Problems
	checkComment(&p, "comment", comment, false)
	for _, k := range slices.Sorted(maps.Keys(items)) {
		field := "item_comments[" + k + "]"
		if _, ok := c.Item(k); !ok {
			p.Add(field, CodeUnknownItem, "checklist %s version %d has no item %q", in.ChecklistID, in.Version, k)
			continue
		}
		checkComment(&p, field, items[k], true)
	}
	if len(p) == 0 && isBlank(comment) && len(items) == 0 {
		p.Add("comment", CodeRequired, "a returned inspection needs a comment, overall or on an item, saying what to correct")
	}
	if err := p.Err("the inspection cannot be returned"); err != nil {
		return InspectionChange{}, err
	}
	if len(items) == 0 {
		items = nil
	}
	ch := in.transition(ActionReturn, by, now, comment, items)
	in.Review = Review{Comment: comment, Items: items, By: by.UserID, At: in.Updated.At}
	return ch, nil
}

// Approve accepts a submitted inspection. It is then locked: no answer,
// photo or status changes until a reviewer reopens it.
func (in *Inspection) Approve(by Actor, now time.Time) (InspectionChange, error) {
	if err := in.CanTransition(ActionApprove, by); err != nil {
		return InspectionChange{}, err
	}
	return in.transition(ActionApprove, by, now, "", nil), nil
}

// Reopen unlocks an approved inspection and returns it to the facility;
// the reason is required and becomes the reviewer's comment.
func (in *Inspection) Reopen(reason string, by Actor, now time.Time) (InspectionChange, error) {
	if err := in.CanTransition(ActionReopen, by); err != nil {
		return InspectionChange{}, err
	}
	var p Problems
	checkComment(&p, "reason", reason, true)
	if err := p.Err("the inspection cannot be reopened"); err != nil {
		return InspectionChange{}, err
	}
	ch := in.transition(ActionReopen, by, now, reason, nil)
	in.Review = Review{Comment: reason, By: by.UserID, At: in.Updated.At}
	return ch, nil
}

// Discard gives up a draft. It stays stored with status discarded (a
// soft delete) and leaves lists and reports.
func (in *Inspection) Discard(reason string, by Actor, now time.Time) (InspectionChange, error) {
	if err := in.CanTransition(ActionDiscard, by); err != nil {
		return InspectionChange{}, err
	}
	var p Problems
	checkComment(&p, "reason", reason, false)
	if err := p.Err("the inspection cannot be discarded"); err != nil {
		return InspectionChange{}, err
	}
	return in.transition(ActionDiscard, by, now, reason, nil), nil
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' && r != '　' {
			return false
		}
	}
	return true
}

func roleName(r Role) string {
	if r == "" {
		return "user without a role"
	}
	return string(r)
}

func joinStatuses(ss []Status) string {
	s := string(ss[0])
	for _, x := range ss[1:] {
		s += " or " + string(x)
	}
	return s
}

func pastTense(action string) string {
	switch action {
	case ActionSubmit:
		return "submitted"
	case ActionResubmit:
		return "resubmitted"
	case ActionReturn:
		return "returned"
	case ActionApprove:
		return "approved"
	case ActionReopen:
		return "reopened"
	case ActionDiscard:
		return "discarded"
	}
	return action + "ed"
}
