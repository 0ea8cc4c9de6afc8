package checklistfile_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

func TestDefault(t *testing.T) {
	c := checklistfile.Default()

	t.Run("Valid", func(t *testing.T) {
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate() = %v", err)
		}
	})
	t.Run("Size", func(t *testing.T) {
		if n := len(c.Sections); n < 8 {
			t.Errorf("%d sections, want at least 8", n)
		}
		if n := len(c.Items()); n < 50 {
			t.Errorf("%d items, want at least 50", n)
		}
	})
	t.Run("CoversTheBureausTopics", func(t *testing.T) {
		var keys []string
		for _, s := range c.Sections {
			keys = append(keys, s.Key)
		}
		for _, want := range []string{"signage", "flyers", "counter", "cleanliness", "accessibility", "multilingual", "safety", "information", "feedback"} {
			if !slices.Contains(keys, want) {
				t.Errorf("no section %q", want)
			}
		}
		// Item 5 of the bureau's reform: flyers and posters sorted by field
		// and by period, out-of-date ones removed, racks and boards laid out.
		for _, want := range []string{"flyers.sorted_by_field", "flyers.sorted_by_period", "flyers.expired_count", "flyers.removal_routine", "flyers.rack_layout", "flyers.notice_board", "flyers.stocked"} {
			if _, ok := c.Item(want); !ok {
				t.Errorf("no item %q", want)
			}
		}
	})
	t.Run("Bilingual", func(t *testing.T) {
		check := func(where string, tx checklist.Text) {
			if strings.TrimSpace(tx.Ja) == "" || strings.TrimSpace(tx.En) == "" {
				t.Errorf("%s: %+v lacks a language", where, tx)
			}
		}
		check("title", c.Title)
		check("description", c.Description)
		for _, s := range c.Sections {
			check(s.Key, s.Title)
			for _, it := range s.Items {
				check(it.Key, it.Text)
				if !it.Guidance.IsZero() {
					check(it.Key+" guidance", it.Guidance)
				}
				for _, l := range it.Scale {
					check(it.Key+" scale", l)
				}
				for _, o := range it.Options {
					check(it.Key+" option "+o.Key, o.Label)
				}
				if it.Number != nil {
					check(it.Key+" unit", it.Number.Unit)
				}
			}
		}
	})
	t.Run("UsesEveryAnswerType", func(t *testing.T) {
		count := map[checklist.AnswerType]int{}
		for _, it := range c.Items() {
			count[it.Type]++
		}
		for _, typ := range checklist.AnswerTypes {
			if count[typ] == 0 {
				t.Errorf("no %s item", typ)
			}
		}
		if count[checklist.TypeYesNo] < len(c.Items())/2 {
			t.Errorf("%d yes_no items of %d; the checklist should be mostly yes/no", count[checklist.TypeYesNo], len(c.Items()))
		}
	})
	t.Run("Rules", func(t *testing.T) {
		var showIf, na, photos int
		for _, it := range c.Items() {
			if it.ShowIf != nil {
				showIf++
			}
			if it.AllowNA {
				na++
			}
			if it.FailedNeedsPhoto {
				photos++
			}
			if it.Type == checklist.TypeRating && (len(it.Scale) != 5 || it.FailRule == nil || it.FailRule.AtOrBelow != 2) {
				t.Errorf("%s: ratings are 1..5 and fail at 2 or below", it.Key)
			}
		}
		if showIf < 3 || na < 5 || photos < 10 {
			t.Errorf("%d show-if items, %d with N/A, %d needing photos; want more of each", showIf, na, photos)
		}
		expired, _ := c.Item("flyers.expired_count")
		if expired.Type != checklist.TypeNumber || expired.FailRule == nil || *expired.FailRule.Min != 0 || *expired.FailRule.Max != 0 {
			t.Errorf("flyers.expired_count = %+v, want a number failing outside 0..0", expired)
		}
	})
	t.Run("Scores", func(t *testing.T) {
		// Every item answered at its best: full marks, no findings.
		answers := map[string]checklist.Answer{}
		for _, it := range c.Items() {
			answers[it.Key] = checklist.Answer{Value: bestAnswer(it)}
		}
		s := c.Score(answers)
		if s.Percent == nil || *s.Percent != 100 || len(s.Failed) != 0 {
			t.Fatalf("Score() = %+v, want 100%% and no findings", s)
		}
	})
	t.Run("FreshCopies", func(t *testing.T) {
		a := checklistfile.Default()
		a.Sections[0].Items[0].Text.Ja = "変更"
		a.Sections[0].Items = nil
		if !checklistfile.Default().Equal(c) {
			t.Fatal("changing one copy of the default changed the next")
		}
	})
	t.Run("DefaultYAML", func(t *testing.T) {
		got, err := checklistfile.Decode(bytes.NewReader(checklistfile.DefaultYAML()))
		if err != nil || !got.Equal(c) {
			t.Fatalf("decoding DefaultYAML() = %v", err)
		}
	})
}

// bestAnswer returns an answer to it that passes and earns all its points.
func bestAnswer(it checklist.Item) checklist.Value {
	switch it.Type {
	case checklist.TypeYesNo:
		return checklist.StringValue("yes")
	case checklist.TypeRating:
		return checklist.NumberValue(float64(len(it.Scale)))
	case checklist.TypeSingleChoice:
		return checklist.StringValue(it.Options[0].Key)
	case checklist.TypeMultiChoice:
		return checklist.ListValue(it.Options[0].Key)
	case checklist.TypeNumber:
		return checklist.NumberValue(0)
	case checklist.TypeText:
		return checklist.StringValue("特になし")
	}
	return checklist.ListValue("photo-1")
}
