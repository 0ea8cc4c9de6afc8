package checklist

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Save is one write of answers from a tablet: the revision of the copy
// the tablet edited, and the items it changed. A nil or blank answer
// (no value, comment or photo) clears the item.
type Save struct {
	BaseRevision int64
	Answers      map[string]*Answer
}

// Codes of field errors specific to saves.
const (
	CodeChangedSinceBase = "changed_since_base" // the item changed after the save's base revision
	CodePhotoNotUploaded = "photo_not_uploaded" // an answer names a photo not recorded on the inspection
	CodeBadRevision      = "bad_revision"
)

// ApplySave merges a save into the inspection under the offline rule:
//
//   - each item of the save applies if that item has not changed since
//     the save's base revision (its last change ≤ BaseRevision);
//   - if any item changed since then, to a value other than the one the
//     save sets, nothing applies: the save is refused with ERevision
//     naming those items, and the caller returns the current copy. So two
//     devices editing different items merge, the same item conflicts, and
//     no answer is overwritten unless its writer had seen it;
//   - an item set to the value it already has is no change at all, so a
//     retried save is harmless even without an idempotency key;
//   - answers are checked against the pinned version's content c: unknown
//     item keys, answer types, options and bounds, and show-if (an item
//     the merged answers hide cannot be answered; answered items the save
//     hides are cleared with it, and refused as a conflict if they changed
//     since the base revision). Photos an answer names must have been
//     uploaded to the inspection first.
//
// Accepted changes share one new revision, which becomes the stamp of
// every item they touch. A save that changes nothing keeps the revision.
// Every problem is reported at once, each naming its item.
func (in *Inspection) ApplySave(c *Content, s Save, by Actor, now time.Time) (InspectionChange, error) {
	if err := in.CanEdit(by); err != nil {
		return InspectionChange{}, err
	}
	var p Problems
	switch {
	case len(s.Answers) == 0:
		p.Add("answers", CodeRequired, "the save names no item")
	case len(s.Answers) > MaxItems:
		p.Add("answers", CodeTooMany, "the save names %d items; a checklist has at most %d", len(s.Answers), MaxItems)
	}
	if s.BaseRevision < 1 || s.BaseRevision > in.Revision {
		p.Add("base_revision", CodeBadRevision, "base_revision %d is not a revision of this inspection (1 to %d)", s.BaseRevision, in.Revision)
	}
	if err := p.Err("the save is not valid; nothing was saved"); err != nil {
		return InspectionChange{}, err
	}

	// Each answer on its own: the item exists and the answer fits it.
	keys := slices.Sorted(maps.Keys(s.Answers))
	changes := make(map[string]*Answer, len(keys)) // normalized; nil clears
	for _, k := range keys {
		path := answerPath(k)
		it, ok := c.Item(k)
		if !ok {
			p.Add(path, CodeUnknownItem, "checklist %s version %d has no item %q", in.ChecklistID, in.Version, k)
			continue
		}
		a := s.Answers[k]
		if a == nil || a.blank() {
			changes[k] = nil
			continue
		}
		it.checkAnswer(&p, path+".", *a)
		n := it.Normalize(*a)
		n.Item = ""
		in.checkPhotosUploaded(&p, path, it, n)
		changes[k] = &n
	}
	if err := p.Err("some answers are not valid; nothing was saved"); err != nil {
		return InspectionChange{}, err
	}

	// The offline rule: what changed since the base revision.
	var conflicts Problems
	for _, k := range keys {
		a := changes[k]
		cur, has := in.Answers[k]
		if (a == nil && !has) || (a != nil && has && AnswersEqual(*a, cur.Answer)) {
			delete(changes, k) // already so: nothing to apply, nothing to conflict with
			continue
		}
		if rev := in.lastChange(k); rev > s.BaseRevision {
			conflicts.Add(answerPath(k), CodeChangedSinceBase, "item %s changed at revision %d, after base revision %d", k, rev, s.BaseRevision)
		}
	}

	// The merged answers decide which items apply.
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
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		if visible[k] {
			continue
		}
		if _, changed := changes[k]; changed {
			p.Add(answerPath(k), CodeHidden, "item %s does not apply given the other answers (show-if), so it cannot be answered", k)
			continue
		}
		if rev := in.lastChange(k); rev > s.BaseRevision {
			conflicts.Add(answerPath(k), CodeChangedSinceBase, "item %s changed at revision %d, after base revision %d, and this save would hide it", k, rev, s.BaseRevision)
			continue
		}
		hidden = append(hidden, k)
	}
	if len(conflicts) > 0 {
		return InspectionChange{}, &Error{Code: ERevision, Message: fmt.Sprintf(
			"the inspection changed since revision %d; nothing was saved — merge with the current copy and save again", s.BaseRevision),
			Fields: conflicts}
	}
	if err := p.Err("some answers are not valid; nothing was saved"); err != nil {
		return InspectionChange{}, err
	}
	if len(changes) == 0 && len(hidden) == 0 {
		return InspectionChange{Action: ActionSave}, nil
	}

	stamp := in.touch(by, now)
	touched := make([]string, 0, len(changes)+len(hidden))
	for _, k := range slices.Sorted(maps.Keys(changes)) {
		a := changes[k]
		touched = append(touched, k)
		if a == nil {
			in.clear(k, stamp)
			continue
		}
		it, _ := c.Item(k)
		in.Answers[k] = AnswerRecord{Answer: *a, Outcome: it.Evaluate(*a), Stamp: stamp}
		delete(in.Cleared, k)
	}
	for _, k := range hidden {
		touched = append(touched, k)
		in.clear(k, stamp)
	}
	slices.Sort(touched)
	in.recomputeTotals()
	return InspectionChange{Action: ActionSave, Items: touched}, nil
}

// checkPhotosUploaded records every photo a (an answer to it) names that
// is not recorded on the inspection: photos are uploaded first, then
// named in answers, so a reviewer can always open them.
func (in *Inspection) checkPhotosUploaded(p *Problems, path string, it Item, a Answer) {
	check := func(field string, ids []string) {
		for i, id := range ids {
			if !in.HasPhoto(id) {
				p.Add(fmt.Sprintf("%s.%s[%d]", path, field, i), CodePhotoNotUploaded,
					"photo %s of item %s has not been uploaded to this inspection; upload it first", id, it.Key)
			}
		}
	}
	check("photos", a.Photos)
	if it.Type == TypePhoto && a.Value.Kind == KindList {
		check("value", a.Value.List)
	}
}

// clear removes item k's answer and remembers when.
func (in *Inspection) clear(k string, stamp Stamp) {
	if in.Cleared == nil {
		in.Cleared = map[string]Stamp{}
	}
	delete(in.Answers, k)
	in.Cleared[k] = stamp
}

// SaveOnCreate applies answers to a new inspection (revision 1) under the
// rules of a save, as part of its creation: a tablet that has answers
// when it first reaches the server sends one write, not two. The answers
// carry the creation's stamp, so the inspection stays at revision 1 and
// its history has one entry for the one write. It returns the items set.
func (in *Inspection) SaveOnCreate(c *Content, answers map[string]*Answer, by Actor, now time.Time) ([]string, error) {
	if in.Revision != 1 {
		return nil, fmt.Errorf("inspection %s: answers on creation need revision 1, not %d", in.ID, in.Revision)
	}
	created := in.Updated
	ch, err := in.ApplySave(c, Save{BaseRevision: 1, Answers: answers}, by, now)
	if err != nil {
		return nil, err
	}
	in.Revision, in.Updated = 1, created
	for k, r := range in.Answers {
		r.Stamp = created
		in.Answers[k] = r
	}
	return ch.Items, nil
}
