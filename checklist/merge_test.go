package checklist_test

import (
	"strings"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklisttest"
)

// inspectionContent is the shared test checklist (checklisttest), with
// every kind of rule an inspection meets.
func inspectionContent(t *testing.T) *checklist.Content {
	t.Helper()
	c := checklisttest.Content(1)
	if err := c.Validate(); err != nil {
		t.Fatalf("test content: %v", err)
	}
	return &c
}

func answer(v checklist.Value) *checklist.Answer { return &checklist.Answer{Value: v} }

func draft(t *testing.T) *checklist.Inspection {
	t.Helper()
	in, err := checklist.NewInspection(testID, "fac-1", "cl-1", 1, checklist.Date{Year: 2026, Month: 5, Day: 12}, inspector, t0)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// mustSave applies a save that must succeed.
func mustSave(t *testing.T, in *checklist.Inspection, c *checklist.Content, base int64, answers map[string]*checklist.Answer) {
	t.Helper()
	if _, err := in.ApplySave(c, checklist.Save{BaseRevision: base, Answers: answers}, inspector, t0); err != nil {
		t.Fatalf("save: %v", err)
	}
}

// fieldCodes returns "path:code" of every field error of err.
func fieldCodes(err error) []string {
	e, ok := err.(*checklist.Error)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}

func TestApplySave(t *testing.T) {
	c := inspectionContent(t)
	yes, no := checklist.StringValue("yes"), checklist.StringValue("no")

	t.Run("OK", func(t *testing.T) {
		in := draft(t)
		ch, err := in.ApplySave(c, checklist.Save{BaseRevision: 1, Answers: map[string]*checklist.Answer{
			"signage.entrance": {Value: checklist.BoolValue(false), Comment: "案内板が汚れている"},
			"signage.clarity":  answer(checklist.NumberValue(4)),
			"flyers.rack":      answer(yes),
		}}, inspector, t0)
		if err != nil {
			t.Fatal(err)
		}
		if in.Revision != 2 || len(ch.Items) != 3 {
			t.Fatalf("revision %d, change %+v", in.Revision, ch)
		}
		e := in.Answers["signage.entrance"]
		if e.Answer.Value.Str != "no" || !e.Outcome.Failed || e.Outcome.MaxPoints != 2 || e.Outcome.Points != 0 || e.Revision != 2 || e.By != inspector.UserID {
			t.Fatalf("stored answer = %+v; want normalized to \"no\", failed, 0 of 2 points at revision 2", e)
		}
		if in.Totals.Failed != 1 || in.Totals.Answered != 3 || in.Totals.Points != 4 || in.Totals.MaxPoints != 7 {
			t.Fatalf("totals = %+v", in.Totals)
		}
		if f := in.Findings(c); len(f) != 1 || f[0] != "signage.entrance" {
			t.Fatalf("findings = %v", f)
		}
	})

	t.Run("DifferentItemsFromTwoDevicesMerge", func(t *testing.T) {
		in := draft(t)
		mustSave(t, in, c, 1, map[string]*checklist.Answer{"signage.entrance": answer(yes)})
		// The second device edited revision 1 too, another item.
		mustSave(t, in, c, 1, map[string]*checklist.Answer{"flyers.rack": answer(yes)})
		if in.Revision != 3 || len(in.Answers) != 2 {
			t.Fatalf("revision %d, %d answers; want 3 and 2", in.Revision, len(in.Answers))
		}
	})

	t.Run("ErrRevisionOnTheSameItem", func(t *testing.T) {
		in := draft(t)
		mustSave(t, in, c, 1, map[string]*checklist.Answer{"signage.entrance": answer(yes)})
		_, err := in.ApplySave(c, checklist.Save{BaseRevision: 1, Answers: map[string]*checklist.Answer{
			"signage.entrance": answer(no),
			"flyers.rack":      answer(yes), // fine on its own, but the save is all or nothing
		}}, inspector, t0)
		if checklist.ErrorCode(err) != checklist.ERevision {
			t.Fatalf("err = %v, want a revision conflict", err)
		}
		if got := fieldCodes(err); len(got) != 1 || got[0] != "answers[signage.entrance]:changed_since_base" {
			t.Fatalf("fields = %v, want the conflicting item named", got)
		}
		if in.Revision != 2 || in.Answers["signage.entrance"].Answer.Value.Str != "yes" || len(in.Answers) != 1 {
			t.Fatalf("a refused save changed the inspection")
		}
	})

	t.Run("SameValueIsNoConflict", func(t *testing.T) {
		in := draft(t)
		save := map[string]*checklist.Answer{"signage.entrance": answer(yes)}
		mustSave(t, in, c, 1, save)
		mustSave(t, in, c, 1, save) // a retry of the same save
		if in.Revision != 2 {
			t.Fatalf("revision %d after a retried save, want 2", in.Revision)
		}
	})

	t.Run("ErrRevisionOnAClearedItem", func(t *testing.T) {
		in := draft(t)
		mustSave(t, in, c, 1, map[string]*checklist.Answer{"notes.n01": answer(checklist.StringValue("a"))})
		mustSave(t, in, c, 2, map[string]*checklist.Answer{"notes.n01": nil})
		_, err := in.ApplySave(c, checklist.Save{BaseRevision: 2, Answers: map[string]*checklist.Answer{
			"notes.n01": answer(checklist.StringValue("b"))}}, inspector, t0)
		if checklist.ErrorCode(err) != checklist.ERevision {
			t.Fatalf("a stale save to a cleared item: %v, want a conflict", err)
		}
	})

	t.Run("ShowIf", func(t *testing.T) {
		in := draft(t)
		mustSave(t, in, c, 1, map[string]*checklist.Answer{"flyers.rack": answer(yes), "flyers.expired_count": answer(checklist.NumberValue(3))})
		// Saying there is no rack hides the count, which is cleared.
		mustSave(t, in, c, 2, map[string]*checklist.Answer{"flyers.rack": answer(no)})
		if _, ok := in.Answers["flyers.expired_count"]; ok {
			t.Fatalf("the hidden count was kept")
		}
		_, err := in.ApplySave(c, checklist.Save{BaseRevision: 3, Answers: map[string]*checklist.Answer{
			"flyers.expired_count": answer(checklist.NumberValue(1))}}, inspector, t0)
		if got := fieldCodes(err); len(got) != 1 || got[0] != "answers[flyers.expired_count]:hidden" {
			t.Fatalf("answering a hidden item: %v, want it named as hidden", err)
		}
		// A device that set the count after another hid it conflicts.
		in = draft(t)
		mustSave(t, in, c, 1, map[string]*checklist.Answer{"flyers.rack": answer(yes)})
		mustSave(t, in, c, 2, map[string]*checklist.Answer{"flyers.expired_count": answer(checklist.NumberValue(3))})
		_, err = in.ApplySave(c, checklist.Save{BaseRevision: 2, Answers: map[string]*checklist.Answer{"flyers.rack": answer(no)}}, inspector, t0)
		if got := fieldCodes(err); checklist.ErrorCode(err) != checklist.ERevision || len(got) != 1 || got[0] != "answers[flyers.expired_count]:changed_since_base" {
			t.Fatalf("hiding an item changed since base: %v, want a conflict naming it", err)
		}
	})

	bad := []struct {
		name    string
		base    int64
		answers map[string]*checklist.Answer
		want    []string
	}{
		{"ErrUnknownItem", 1, map[string]*checklist.Answer{"signage.nope": answer(yes)}, []string{"answers[signage.nope]:unknown_item"}},
		{"ErrWrongType", 1, map[string]*checklist.Answer{"signage.clarity": answer(yes)}, []string{"answers[signage.clarity].value:type_mismatch"}},
		{"ErrOptionNotInList", 1, map[string]*checklist.Answer{"flyers.layout": answer(checklist.StringValue("color"))}, []string{"answers[flyers.layout].value:unknown_option"}},
		{"ErrMultiOptionNotInList", 1, map[string]*checklist.Answer{"flyers.languages": answer(checklist.ListValue("ja", "fr"))}, []string{"answers[flyers.languages].value[1]:unknown_option"}},
		{"ErrRatingOutOfRange", 1, map[string]*checklist.Answer{"signage.clarity": answer(checklist.NumberValue(6))}, []string{"answers[signage.clarity].value:out_of_range"}},
		{"ErrNAnotAllowed", 1, map[string]*checklist.Answer{"signage.entrance": answer(checklist.StringValue("na"))}, []string{"answers[signage.entrance].value:na_not_allowed"}},
		{"ErrPhotoNotUploaded", 1, map[string]*checklist.Answer{"signage.entrance": {Value: checklist.StringValue("no"), Photos: []string{strings.Repeat("a", 64)}}}, []string{"answers[signage.entrance].photos[0]:photo_not_uploaded"}},
		{"ErrEveryProblemAtOnce", 1, map[string]*checklist.Answer{
			"signage.clarity": answer(checklist.NumberValue(0)),
			"flyers.layout":   answer(checklist.NumberValue(1)),
			"x":               answer(yes),
		}, []string{"answers[flyers.layout].value:type_mismatch", "answers[signage.clarity].value:out_of_range", "answers[x]:unknown_item"}},
		{"ErrBaseRevisionFromTheFuture", 7, map[string]*checklist.Answer{"signage.entrance": answer(yes)}, []string{"base_revision:bad_revision"}},
		{"ErrNoBaseRevision", 0, map[string]*checklist.Answer{"signage.entrance": answer(yes)}, []string{"base_revision:bad_revision"}},
		{"ErrEmpty", 1, map[string]*checklist.Answer{}, []string{"answers:required"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			in := draft(t)
			_, err := in.ApplySave(c, checklist.Save{BaseRevision: tt.base, Answers: tt.answers}, inspector, t0)
			if checklist.ErrorCode(err) != checklist.EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			if got := fieldCodes(err); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("fields = %v, want %v", got, tt.want)
			}
			if in.Revision != 1 || len(in.Answers) != 0 {
				t.Fatalf("a refused save changed the inspection")
			}
		})
	}

	t.Run("ErrNotEditable", func(t *testing.T) {
		in := inStatus(t, &checklist.Content{}, checklist.StatusApproved)
		_, err := in.ApplySave(c, checklist.Save{BaseRevision: in.Revision, Answers: map[string]*checklist.Answer{"flyers.rack": answer(yes)}}, inspector, t0)
		if checklist.ErrorCode(err) != checklist.ENotEditable {
			t.Fatalf("save to approved: %v, want not_editable", err)
		}
		in = draft(t)
		_, err = in.ApplySave(c, checklist.Save{BaseRevision: 1, Answers: map[string]*checklist.Answer{"flyers.rack": answer(yes)}}, reviewer, t0)
		if checklist.ErrorCode(err) != checklist.EForbidden {
			t.Fatalf("save by a reviewer: %v, want forbidden", err)
		}
	})
}

func TestSubmitChecks(t *testing.T) {
	c := inspectionContent(t)
	yes := checklist.StringValue("yes")
	sha := strings.Repeat("b", 64)

	in := draft(t)
	_, err := in.Submit(c, inspector, t0)
	if got := fieldCodes(err); strings.Join(got, " ") != "answers[signage.entrance].value:required answers[flyers.rack].value:required" {
		t.Fatalf("submit with nothing answered: %v", got)
	}
	mustSave(t, in, c, 1, map[string]*checklist.Answer{
		"signage.entrance":     answer(checklist.StringValue("no")),
		"flyers.rack":          answer(yes),
		"flyers.expired_count": answer(checklist.NumberValue(4)),
	})
	_, err = in.Submit(c, inspector, t0)
	want := "answers[signage.entrance].comment:comment_required answers[signage.entrance].photos:photo_required answers[flyers.expired_count].comment:comment_required"
	if got := fieldCodes(err); strings.Join(got, " ") != want {
		t.Fatalf("submit with failed answers lacking evidence: %v, want %s", got, want)
	}
	if in.Status != checklist.StatusDraft {
		t.Fatalf("a refused submit moved the status to %s", in.Status)
	}
	if _, _, err := in.AddPhoto(c, checklist.Photo{SHA256: sha, ItemKey: "signage.entrance", ContentType: checklist.TypePNG}, inspector, t0); err != nil {
		t.Fatal(err)
	}
	mustSave(t, in, c, in.Revision, map[string]*checklist.Answer{
		"signage.entrance":     {Value: checklist.StringValue("no"), Comment: "入口の案内板が色あせている", Photos: []string{sha}},
		"flyers.expired_count": {Value: checklist.NumberValue(4), Comment: "3月のイベントのチラシ"},
	})
	if _, err := in.Submit(c, inspector, t0); err != nil {
		t.Fatalf("complete submit: %v", err)
	}
}

func TestAddPhoto(t *testing.T) {
	c := inspectionContent(t)
	in := draft(t)
	sha := strings.Repeat("c", 64)
	p := checklist.Photo{SHA256: sha, ItemKey: "signage.entrance", ContentType: checklist.TypeJPEG, Size: 100}
	if _, added, err := in.AddPhoto(c, p, inspector, t0); err != nil || !added {
		t.Fatalf("first upload: added %v, %v", added, err)
	}
	if _, added, err := in.AddPhoto(c, p, inspector, t0); err != nil || added || in.Revision != 2 {
		t.Fatalf("same bytes again: added %v, revision %d, %v; want a no-op", added, in.Revision, err)
	}
	p.ItemKey = "nope"
	if _, _, err := in.AddPhoto(c, p, inspector, t0); checklist.ErrorCode(err) != checklist.EInvalid {
		t.Fatalf("unknown item: %v", err)
	}
}
