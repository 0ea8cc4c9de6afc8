package checklist_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
)

var tokyo = time.FixedZone("Asia/Tokyo", 9*60*60)

func TestPublish(t *testing.T) {
	at := time.Date(2026, 4, 1, 9, 0, 0, 0, tokyo)
	draft := checklist.Checklist{ID: "default", Title: ja("統一チェックリスト"), Draft: testContent(), LatestVersion: 2}

	t.Run("OK", func(t *testing.T) {
		c := draft
		c.Draft = testContent()
		v, err := c.Publish(at, "u-admin")
		if err != nil {
			t.Fatalf("Publish() = %v", err)
		}
		if v.ChecklistID != "default" || v.Number != 3 || v.PublishedBy != "u-admin" || v.Retired {
			t.Errorf("version = %+v, want checklist default, number 3, by u-admin, not retired", v)
		}
		if !v.PublishedAt.Equal(at) || v.PublishedAt.Location() != time.UTC {
			t.Errorf("PublishedAt = %v, want %v in UTC", v.PublishedAt, at)
		}
		if v.ContentHash != checklist.ContentHash(testContent()) {
			t.Errorf("ContentHash = %s, want the hash of the draft", v.ContentHash)
		}
		if err := v.Verify(); err != nil {
			t.Errorf("Verify() = %v", err)
		}
		if v.ETag() != `"`+v.ContentHash+`"` {
			t.Errorf("ETag() = %s", v.ETag())
		}

		// Editing the draft afterwards must not reach the published version.
		item(&c.Draft, 0, 0).Text.Ja = "変更"
		item(&c.Draft, 0, 1).Scale[0].Ja = "変更"
		item(&c.Draft, 1, 0).Number.Min = fptr(-1)
		item(&c.Draft, 0, 2).FailRule.AnyOf[0] = "en"
		item(&c.Draft, 1, 4).ShowIf.In[0] = "zh"
		if err := v.Verify(); err != nil {
			t.Errorf("after editing the draft, Verify() = %v", err)
		}
		if !v.Content.Equal(testContent()) {
			t.Error("after editing the draft, the version's content changed")
		}
	})
	t.Run("ErrInvalidDraft", func(t *testing.T) {
		c := draft
		c.Draft = testContent()
		item(&c.Draft, 1, 1).ShowIf.Item = "nowhere"
		_, err := c.Publish(at, "u-admin")
		fields := fieldErrors(t, err)
		if len(fields) != 1 || fields[0].Field != "sections[1].items[1].show_if.item" {
			t.Fatalf("field errors:%s", describe(fields))
		}
	})
	t.Run("ErrMissingPublisher", func(t *testing.T) {
		c := draft
		c.ID = ""
		_, err := c.Publish(time.Time{}, "")
		var got []string
		for _, f := range fieldErrors(t, err) {
			got = append(got, f.Field)
		}
		if want := []string{"checklist_id", "published_at", "published_by"}; !slices.Equal(got, want) {
			t.Fatalf("fields = %v, want %v", got, want)
		}
	})
	t.Run("ErrNumber", func(t *testing.T) {
		_, err := checklist.Publish("default", testContent(), 0, at, "u-admin")
		checkFields(t, err, []string{"number out_of_range"})
	})
	t.Run("OKFunction", func(t *testing.T) {
		v, err := checklist.Publish("default", testContent(), 7, at, "u-admin")
		if err != nil || v.Number != 7 || v.ChecklistID != "default" || v.Verify() != nil {
			t.Fatalf("Publish() = %+v, %v", v, err)
		}
	})
}

func TestChecklistValidate(t *testing.T) {
	ok := checklist.Checklist{ID: "0b6f3c1e-9a52-4d43-8f0e-2d7c9b1a4e55", Title: ja("統一チェックリスト"), Draft: testContent()}
	t.Run("OK", func(t *testing.T) {
		if err := ok.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKUnfinishedDraft", func(t *testing.T) {
		c := ok
		c.Draft = checklist.Content{}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrEverything", func(t *testing.T) {
		c := checklist.Checklist{ID: "Default List", Draft: testContent()}
		c.Draft.Title.Ja = strings.Repeat("長", checklist.MaxTextLen+1)
		checkFields(t, c.Validate(), []string{"id bad_key", "title.ja required", "draft.title.ja too_long"})
	})
}

func TestRetire(t *testing.T) {
	v, err := checklist.Checklist{ID: "default", Draft: testContent()}.Publish(time.Now(), "u-admin")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 31, 17, 0, 0, 0, tokyo)
	t.Run("OK", func(t *testing.T) {
		r, err := v.Retire(at, "u-admin2")
		if err != nil {
			t.Fatalf("Retire() = %v", err)
		}
		if !r.Retired || !r.RetiredAt.Equal(at) || r.RetiredBy != "u-admin2" {
			t.Errorf("retired version = %+v", r)
		}
		if r.ContentHash != v.ContentHash || r.Verify() != nil {
			t.Error("retiring changed the content")
		}
	})
	t.Run("ErrAlreadyRetired", func(t *testing.T) {
		r, _ := v.Retire(at, "u-admin2")
		_, err := r.Retire(at.Add(time.Hour), "u-admin2")
		if code := checklist.ErrorCode(err); code != checklist.EConflict {
			t.Fatalf("second Retire() = %v, want code %s", err, checklist.EConflict)
		}
	})
}

func TestVerify(t *testing.T) {
	v, err := checklist.Checklist{ID: "default", Draft: testContent()}.Publish(time.Now(), "u-admin")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		if err := v.Verify(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		v := v
		v.Content = v.Content.Clone()
		item(&v.Content, 0, 0).Points = 3
		if code := checklist.ErrorCode(v.Verify()); code != checklist.EInternal {
			t.Fatalf("Verify() code = %q, want %s", code, checklist.EInternal)
		}
	})
	t.Run("ImmutableVersionError", func(t *testing.T) {
		if code := checklist.ErrorCode(checklist.ImmutableVersionError(3)); code != checklist.EConflict {
			t.Fatalf("code = %q, want %s", code, checklist.EConflict)
		}
	})
}

func TestContentHash(t *testing.T) {
	base := checklist.ContentHash(testContent())
	if len(base) != 64 {
		t.Fatalf("hash %q is not 64 hex digits", base)
	}
	t.Run("Stable", func(t *testing.T) {
		if again := checklist.ContentHash(testContent()); again != base {
			t.Fatalf("hash changed between calls: %s, %s", base, again)
		}
	})
	t.Run("SameAfterJSONRoundTrip", func(t *testing.T) {
		data, err := json.Marshal(testContent())
		if err != nil {
			t.Fatal(err)
		}
		var c checklist.Content
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		if got := checklist.ContentHash(c); got != base {
			t.Fatalf("hash after a JSON round trip = %s, want %s", got, base)
		}
	})
	t.Run("EmptyListsEqualAbsent", func(t *testing.T) {
		c := testContent()
		item(&c, 1, 2).Options = []checklist.Option{}
		item(&c, 1, 2).Scale = []checklist.Text{}
		if got := checklist.ContentHash(c); got != base {
			t.Fatal("an empty list hashes differently from an absent one")
		}
	})
	t.Run("NegativeZero", func(t *testing.T) {
		c := testContent()
		negZero := -1 / posInf()
		item(&c, 1, 0).Number.Min = &negZero
		if got := checklist.ContentHash(c); got != base {
			t.Fatal("-0 hashes differently from 0")
		}
	})
	changes := []struct {
		name   string
		mutate func(c *checklist.Content)
	}{
		{"Title", func(c *checklist.Content) { c.Title.En = "Other" }},
		{"ItemText", func(c *checklist.Content) { item(c, 0, 0).Text.Ja += "。" }},
		{"Required", func(c *checklist.Content) { item(c, 0, 0).Required = false }},
		{"Points", func(c *checklist.Content) { item(c, 0, 0).Points = 2.5 }},
		{"FailRule", func(c *checklist.Content) { item(c, 0, 1).FailRule.AtOrBelow = 1 }},
		{"ItemOrder", func(c *checklist.Content) {
			c.Sections[1].Items[2], c.Sections[1].Items[3] = c.Sections[1].Items[3], c.Sections[1].Items[2]
		}},
	}
	for _, tc := range changes {
		t.Run("Differs"+tc.name, func(t *testing.T) {
			c := testContent()
			tc.mutate(&c)
			if checklist.ContentHash(c) == base {
				t.Fatal("a change left the hash as it was")
			}
			if c.Equal(testContent()) {
				t.Fatal("Equal() = true after a change")
			}
		})
	}
}

func posInf() float64 { return 1 / zero }

var zero = 0.0

func TestDiff(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *checklist.Content)
		want   checklist.VersionDiff
	}{
		{"OK", func(c *checklist.Content) {}, checklist.VersionDiff{}},
		{"Title", func(c *checklist.Content) { c.Title.Ja = "新しい題名"; c.Description = checklist.Text{} },
			checklist.VersionDiff{Properties: []string{"title", "description"}}},
		{"ItemAdded", func(c *checklist.Content) {
			c.Sections[0].Items = slices.Insert(c.Sections[0].Items, 1, checklist.Item{Key: "signage.new", Text: ja("新"), Type: checklist.TypeText})
		}, checklist.VersionDiff{Items: checklist.KeyDiff{Added: []string{"signage.new"}}}},
		{"ItemRemoved", func(c *checklist.Content) { c.Sections[1].Items = slices.Delete(c.Sections[1].Items, 4, 5) },
			checklist.VersionDiff{Items: checklist.KeyDiff{Removed: []string{"flyers.rack"}}}},
		{"ItemChanged", func(c *checklist.Content) {
			item(c, 0, 1).Text.En = "Clarity"
			item(c, 0, 1).Points = 5
			item(c, 0, 1).FailedNeedsPhoto = true
			item(c, 1, 1).ShowIf = nil
		}, checklist.VersionDiff{Items: checklist.KeyDiff{Changed: []checklist.Change{
			{Key: "signage.clarity", Properties: []string{"text", "points", "failed_needs_photo"}},
			{Key: "flyers.channel", Properties: []string{"show_if"}},
		}}}},
		{"ItemMovedToAnotherSection", func(c *checklist.Content) {
			moved := c.Sections[1].Items[2]
			c.Sections[1].Items = slices.Delete(c.Sections[1].Items, 2, 3)
			c.Sections[0].Items = append(c.Sections[0].Items, moved)
		}, checklist.VersionDiff{Items: checklist.KeyDiff{
			Changed:   []checklist.Change{{Key: "flyers.note", Properties: []string{"section"}}},
			Reordered: true, // it now comes before flyers.expired
		}}},
		{"ItemReorderedInSection", func(c *checklist.Content) {
			c.Sections[1].Items[2], c.Sections[1].Items[3] = c.Sections[1].Items[3], c.Sections[1].Items[2]
		}, checklist.VersionDiff{Items: checklist.KeyDiff{Reordered: true}}},
		{"SectionRetitledAndAdded", func(c *checklist.Content) {
			c.Sections[1].Title.En = "Flyers"
			c.Sections = append(c.Sections, checklist.Section{Key: "safety", Title: ja("安全"), Items: []checklist.Item{
				{Key: "safety.exits", Text: ja("非常口"), Type: checklist.TypeText},
			}})
		}, checklist.VersionDiff{
			Sections: checklist.KeyDiff{Added: []string{"safety"}, Changed: []checklist.Change{{Key: "flyers", Properties: []string{"title"}}}},
			Items:    checklist.KeyDiff{Added: []string{"safety.exits"}},
		}},
		{"SectionsSwapped", func(c *checklist.Content) { c.Sections[0], c.Sections[1] = c.Sections[1], c.Sections[0] },
			checklist.VersionDiff{Sections: checklist.KeyDiff{Reordered: true}, Items: checklist.KeyDiff{Reordered: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := testContent()
			tc.mutate(&b)
			got := checklist.Diff(testContent(), b)
			want := normalizeDiff(tc.want)
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Fatalf("Diff() =\n%s\nwant\n%s", gotJSON, wantJSON)
			}
			if got.Empty() != (tc.name == "OK") {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
}

// normalizeDiff fills the empty lists Diff returns, so that tables can
// leave them out.
func normalizeDiff(d checklist.VersionDiff) checklist.VersionDiff {
	if d.Properties == nil {
		d.Properties = []string{}
	}
	for _, k := range []*checklist.KeyDiff{&d.Sections, &d.Items} {
		if k.Added == nil {
			k.Added = []string{}
		}
		if k.Removed == nil {
			k.Removed = []string{}
		}
		if k.Changed == nil {
			k.Changed = []checklist.Change{}
		}
	}
	return d
}
