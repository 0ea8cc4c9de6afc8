package checklist

import (
	"fmt"
	"time"
)

// Save is one write of answers from a tablet: the revision of the copy
// the tablet edited, and the items it changed. A nil answer clears the
// item.
type Save struct {
	BaseRevision int64
	Answers      map[string]*Answer
}

// MaxSaveItems bounds the items one save may name.
const MaxSaveItems = 1000

// ApplySave merges a save into the inspection under the offline rule:
//
//   - each item of the save applies if that item has not changed since
//     the save's base revision (its last change ≤ BaseRevision);
//   - if any item changed since then, to a value other than the one the
//     save sets, nothing applies: the save is refused with ERevision and
//     the caller returns the current copy, so two devices editing
//     different items merge, the same item conflicts, and no answer is
//     overwritten without its writer having seen it;
//   - an item set to the value it already has is no change at all, so a
//     retried save is harmless even without an idempotency key;
//   - answers are checked against the pinned version c: unknown item
//     keys, answer types, options and bounds, and show-if (an item the
//     merged answers hide cannot be answered; answered items the save
//     hides are cleared, and refused as a conflict if they changed since
//     the base revision).
//
// Accepted changes share one new revision, which becomes the stamp of
// every item they touch. A save that changes nothing keeps the revision.
func (in *Inspection) ApplySave(c *Content, s Save, by Actor, now time.Time) (Change, error) {
	if err := in.CanEdit(by); err != nil {
		return Change{}, err
	}
	var p Problems
	switch {
	case len(s.Answers) == 0:
		p.Add("answers", "required", "the save names no item")
	case len(s.Answers) > MaxSaveItems:
		p.Add("answers", "length", "the save names %d items; at most %d are allowed", len(s.Answers), MaxSaveItems)
	}
	if s.BaseRevision < 1 || s.BaseRevision > in.Revision {
		p.Add("base_revision", "range", "base_revision %d is not a revision of this inspection (1 to %d)", s.BaseRevision, in.Revision)
	}
	if err := p.Err("the save is not valid"); err != nil {
		return Change{}, err
	}

	// Each answer on its own: the item exists and the answer fits it.
	keys := sortedKeys(s.Answers)
	for _, k := range keys {
		field := "answers." + k
		it := c.Item(k)
		if it == nil {
			p.Add(field, "unknown_item", "item %q is not in checklist %s version %d", k, in.ChecklistID, in.Version)
			continue
		}
		if a := s.Answers[k]; a != nil {
			if err := it.CheckAnswer(*a); err != nil {
				addAnswerError(&p, field, err)
			}
		}
	}
	if err := p.Err("some answers are not valid"); err != nil {
		return Change{}, err
	}

	// The offline rule: what changed since the base revision.
	var conflicts Problems
	changes := make(map[string]*Answer, len(keys))
	for _, k := range keys {
		a := s.Answers[k]
		cur, has := in.Answers[k]
		same := (a == nil && !has) || (a != nil && has && AnswersEqual(*a, cur.Answer))
		if same {
			continue // already so: nothing to apply, nothing to conflict with
		}
		if rev := in.lastChange(k); rev > s.BaseRevision {
			conflicts.Add("answers."+k, "changed", "item %q changed at revision %d, after base revision %d", k, rev, s.BaseRevision)
			continue
		}
		changes[k] = a
	}

	// The merged answers decide which items show.
	merged := in.AnswerValues()
	for k, a := range changes {
		if a == nil {
			delete(merged, k)
		} else {
			merged[k] = *a
		}
	}
	visible := c.Visible(merged)
	var hidden []string // answered items the merge hides: cleared with the save
	for _, k := range sortedKeys(merged) {
		if visible[k] {
			continue
		}
		if _, changed := changes[k]; changed {
			p.Add("answers."+k, "hidden", "item %q does not apply given the other answers (show-if), so it cannot be answered", k)
			continue
		}
		if rev := in.lastChange(k); rev > s.BaseRevision {
			conflicts.Add("answers."+k, "changed", "item %q changed at revision %d, after base revision %d, and this save would hide it", k, rev, s.BaseRevision)
			continue
		}
		hidden = append(hidden, k)
	}
	if len(conflicts) > 0 {
		return Change{}, &Error{Code: ERevision, Message: fmt.Sprintf(
			"the inspection changed since revision %d; nothing was saved — merge with the current copy and save again", s.BaseRevision),
			Fields: conflicts}
	}
	if err := p.Err("some answers are not valid"); err != nil {
		return Change{}, err
	}
	if len(changes) == 0 && len(hidden) == 0 {
		return Change{Action: ActionSave}, nil
	}

	stamp := in.touch(by, now)
	touched := make([]string, 0, len(changes)+len(hidden))
	for _, k := range sortedKeys(changes) {
		a := changes[k]
		touched = append(touched, k)
		if a == nil {
			in.clear(k, stamp)
			continue
		}
		in.Answers[k] = AnswerRecord{Answer: *a, Outcome: c.Item(k).Evaluate(*a), Stamp: stamp}
		delete(in.Cleared, k)
	}
	for _, k := range hidden {
		touched = append(touched, k)
		in.clear(k, stamp)
	}
	in.recomputeTotals()
	return Change{Action: ActionSave, Items: touched}, nil
}

// clear removes item k's answer and remembers when.
func (in *Inspection) clear(k string, stamp Stamp) {
	if in.Cleared == nil {
		in.Cleared = map[string]Stamp{}
	}
	delete(in.Answers, k)
	in.Cleared[k] = stamp
}

// addAnswerError records an answer-check error under field, keeping the
// details of a checklist error's own field list.
func addAnswerError(p *Problems, field string, err error) {
	e, ok := err.(*Error)
	if !ok {
		p.Add(field, "invalid", "%v", err)
		return
	}
	if len(e.Fields) == 0 {
		p.Add(field, e.Code, "%s", e.Message)
		return
	}
	for _, f := range e.Fields {
		name := field
		if f.Field != "" && f.Field != field {
			name = field + "." + f.Field
		}
		p.Add(name, f.Code, "%s", f.Message)
	}
}
