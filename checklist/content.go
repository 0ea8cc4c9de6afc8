package checklist

import (
	"math"
	"slices"
)

// Limits on checklist content. Validate refuses content beyond them; they
// keep a checklist small enough for a tablet to download and render at
// once and for one database document to hold it.
const (
	MaxSections = 50   // sections per checklist
	MaxItems    = 500  // items per checklist, all sections together
	MaxOptions  = 50   // options of one choice item
	MaxScale    = 10   // largest rating scale; the smallest is 2
	MaxTextLen  = 2000 // characters (not bytes) of any one text
	MaxKeyLen   = 64   // bytes of a section, item or option key
	MaxPoints   = 100  // points of one item
)

// Text is a text shown to users: Japanese, the primary language, and
// optionally English. Where a Text is required, Ja must hold more than
// white space; an English text never stands without the Japanese one.
type Text struct {
	Ja string `json:"ja" yaml:"ja"`
	En string `json:"en,omitempty" yaml:"en,omitempty"`
}

// IsZero reports whether both languages are empty.
func (t Text) IsZero() bool { return t.Ja == "" && t.En == "" }

// Content is what a checklist asks: the editable draft of a checklist and
// the frozen content of each published version. It is also the wire and
// file document of a checklist (JSON in the API, YAML in files).
//
// Items are identified by Key, unique across all sections and stable across
// versions: the key is what makes results comparable between facilities
// and fiscal years. Validate states every rule content must meet before it
// can be published.
type Content struct {
	Title       Text      `json:"title" yaml:"title"`
	Description Text      `json:"description,omitzero" yaml:"description,omitempty"`
	Sections    []Section `json:"sections" yaml:"sections"`
}

// Section groups items under a title, for example 案内表示 (signage).
// Its Key is unique among the sections and stable across versions.
type Section struct {
	Key   string `json:"key" yaml:"key"`
	Title Text   `json:"title" yaml:"title"`
	Items []Item `json:"items" yaml:"items"`
}

// AnswerType is the kind of answer an item asks for.
type AnswerType string

// Answer types. The value an answer carries for each is described on Value.
const (
	TypeYesNo        AnswerType = "yes_no"        // yes or no; "na" too when AllowNA
	TypeRating       AnswerType = "rating"        // an integer 1..k, k = len(Scale)
	TypeSingleChoice AnswerType = "single_choice" // one option key
	TypeMultiChoice  AnswerType = "multi_choice"  // any number of option keys
	TypeNumber       AnswerType = "number"        // a number within Number's bounds
	TypeText         AnswerType = "text"          // free text, never scored
	TypePhoto        AnswerType = "photo"         // photo ids, never scored
)

// AnswerTypes lists every answer type, in the order documentation shows them.
var AnswerTypes = []AnswerType{TypeYesNo, TypeRating, TypeSingleChoice, TypeMultiChoice, TypeNumber, TypeText, TypePhoto}

// Known reports whether t is one of the answer types.
func (t AnswerType) Known() bool { return slices.Contains(AnswerTypes, t) }

// Scored reports whether items of type t can earn points and fail.
func (t AnswerType) Scored() bool { return t.Known() && t != TypeText && t != TypePhoto }

// choice reports whether items of type t pick from Options.
func (t AnswerType) choice() bool { return t == TypeSingleChoice || t == TypeMultiChoice }

// Item is one question of the checklist.
//
// Which fields apply depends on Type: AllowNA only to yes_no, Scale only to
// rating, Options only to the two choice types, Number only to number.
//
// Scoring: an answered item that is not N/A counts Points towards the
// maximum; it earns all of them unless it fails (then none), except a
// rating, which earns Points×(r−1)/(k−1) for rating r on a 1..k scale and
// may fail as well. Text and photo items are never scored and never fail.
//
// FailRule says which answers make the item a finding. A failed answer must
// carry a comment when FailedNeedsComment and at least one photo when
// FailedNeedsPhoto (checked at submit).
//
// ShowIf, when set, makes the item apply only when an earlier item's answer
// matches; a hidden item is neither required nor accepted nor scored.
type Item struct {
	Key                string      `json:"key" yaml:"key"`
	Text               Text        `json:"text" yaml:"text"`
	Guidance           Text        `json:"guidance,omitzero" yaml:"guidance,omitempty"`
	Type               AnswerType  `json:"type" yaml:"type"`
	AllowNA            bool        `json:"allow_na,omitempty" yaml:"allow_na,omitempty"`
	Scale              []Text      `json:"scale,omitempty" yaml:"scale,omitempty"`
	Options            []Option    `json:"options,omitempty" yaml:"options,omitempty"`
	Number             *NumberSpec `json:"number,omitempty" yaml:"number,omitempty"`
	Required           bool        `json:"required,omitempty" yaml:"required,omitempty"`
	Points             float64     `json:"points,omitempty" yaml:"points,omitempty"`
	FailRule           *FailRule   `json:"fail_rule,omitempty" yaml:"fail_rule,omitempty"`
	FailedNeedsComment bool        `json:"failed_needs_comment,omitempty" yaml:"failed_needs_comment,omitempty"`
	FailedNeedsPhoto   bool        `json:"failed_needs_photo,omitempty" yaml:"failed_needs_photo,omitempty"`
	ShowIf             *ShowIf     `json:"show_if,omitempty" yaml:"show_if,omitempty"`
}

// Option is one choice of a single_choice or multi_choice item. Its Key is
// what answers carry and is stable across versions; Label is what users
// see. An Exclusive option of a multi_choice item (such as "none of these")
// cannot be chosen together with any other option.
type Option struct {
	Key       string `json:"key" yaml:"key"`
	Label     Text   `json:"label" yaml:"label"`
	Exclusive bool   `json:"exclusive,omitempty" yaml:"exclusive,omitempty"`
}

// NumberSpec describes the answer of a number item: its unit (for example
// 枚, sheets) and the bounds of an acceptable answer. Nil bounds are open.
// When Integer, answers must be whole numbers (counts).
type NumberSpec struct {
	Unit    Text     `json:"unit,omitzero" yaml:"unit,omitempty"`
	Min     *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	Max     *float64 `json:"max,omitempty" yaml:"max,omitempty"`
	Integer bool     `json:"integer,omitempty" yaml:"integer,omitempty"`
}

// FailRule says which answers make an item a finding. Exactly the part
// that fits the item's type is set:
//
//   - yes_no: Answer is the failing answer, "no" (or "yes" for a question
//     asked in the negative); N/A never fails.
//   - rating: the answer fails when it is at or below AtOrBelow (1..k−1).
//   - single_choice, multi_choice: the answer fails when it picks any
//     option in AnyOf.
//   - number: the answer fails when it lies outside [Min, Max]; a nil
//     bound is open.
type FailRule struct {
	Answer    string   `json:"answer,omitempty" yaml:"answer,omitempty"`
	AtOrBelow int      `json:"at_or_below,omitempty" yaml:"at_or_below,omitempty"`
	AnyOf     []string `json:"any_of,omitempty" yaml:"any_of,omitempty"`
	Min       *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	Max       *float64 `json:"max,omitempty" yaml:"max,omitempty"`
}

// ShowIf makes an item apply only when the answer to the earlier item Item
// equals Equals or one of In (exactly one of the two is set). Values are
// written as strings: "yes", "no" or "na" for a yes_no item, "1".."k" for
// a rating, option keys for a choice (a multi_choice answer matches when
// any chosen option is listed). An item whose target is hidden or
// unanswered is hidden too.
type ShowIf struct {
	Item   string   `json:"item" yaml:"item"`
	Equals string   `json:"equals,omitempty" yaml:"equals,omitempty"`
	In     []string `json:"in,omitempty" yaml:"in,omitempty"`
}

// values returns the values the show-if matches.
func (s ShowIf) values() []string {
	if s.Equals != "" {
		return append([]string{s.Equals}, s.In...)
	}
	return s.In
}

// Items returns every item in document order.
func (c Content) Items() []Item {
	var items []Item
	for _, s := range c.Sections {
		items = append(items, s.Items...)
	}
	return items
}

// Item returns the item with key and whether there is one. With duplicate
// keys (which Validate refuses) it returns the first.
func (c Content) Item(key string) (Item, bool) {
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if it.Key == key {
				return it, true
			}
		}
	}
	return Item{}, false
}

// option returns the option with key.
func (it Item) option(key string) (Option, bool) {
	for _, o := range it.Options {
		if o.Key == key {
			return o, true
		}
	}
	return Option{}, false
}

// Clone returns a deep copy of c that shares no memory with it, so that a
// published version cannot change when the draft it came from is edited.
// Empty slices become nil: the copy is equal to c for every purpose of this
// package (hashing, diffing, encoding) but not necessarily reflect.DeepEqual.
func (c Content) Clone() Content {
	out := c
	out.Sections = cloneSlice(c.Sections, func(s Section) Section {
		s.Items = cloneSlice(s.Items, Item.clone)
		return s
	})
	return out
}

func (it Item) clone() Item {
	it.Scale = cloneSlice(it.Scale, nil)
	it.Options = cloneSlice(it.Options, nil)
	if it.Number != nil {
		n := *it.Number
		n.Min, n.Max = clonePtr(n.Min), clonePtr(n.Max)
		it.Number = &n
	}
	if it.FailRule != nil {
		f := *it.FailRule
		f.AnyOf = cloneSlice(f.AnyOf, nil)
		f.Min, f.Max = clonePtr(f.Min), clonePtr(f.Max)
		it.FailRule = &f
	}
	if it.ShowIf != nil {
		s := *it.ShowIf
		s.In = cloneSlice(s.In, nil)
		it.ShowIf = &s
	}
	return it
}

// cloneSlice copies s, applying each (when not nil) to every element; an
// empty s gives nil.
func cloneSlice[T any](s []T, each func(T) T) []T {
	if len(s) == 0 {
		return nil
	}
	out := make([]T, len(s))
	for i, v := range s {
		if each != nil {
			v = each(v)
		}
		out[i] = v
	}
	return out
}

func clonePtr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// canonical returns the form of c that hashing and diffing compare: a deep
// copy with empty slices as nil, negative zero as zero, and non-finite
// numbers (which Validate refuses and JSON cannot carry) removed.
func (c Content) canonical() Content {
	out := c.Clone()
	for i := range out.Sections {
		for j := range out.Sections[i].Items {
			it := &out.Sections[i].Items[j]
			it.Points = canonicalFloat(it.Points)
			if it.Number != nil {
				it.Number.Min, it.Number.Max = canonicalPtr(it.Number.Min), canonicalPtr(it.Number.Max)
			}
			if it.FailRule != nil {
				it.FailRule.Min, it.FailRule.Max = canonicalPtr(it.FailRule.Min), canonicalPtr(it.FailRule.Max)
			}
		}
	}
	return out
}

func canonicalFloat(f float64) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func canonicalPtr(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return nil
	}
	v := canonicalFloat(*p)
	return &v
}
