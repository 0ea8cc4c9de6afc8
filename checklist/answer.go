package checklist

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Limits on answers.
const (
	MaxPhotos     = 10  // photo ids per answer, in the value of a photo item and in Photos alike
	MaxPhotoIDLen = 128 // bytes of a photo id
)

// Answer is an inspector's answer to one item: its value, an optional
// comment and the ids of photos attached as evidence. Item is the item's
// key; where answers are filed in a map by key, Item may be empty, and if
// set must equal the key.
type Answer struct {
	Item    string   `json:"item,omitempty"`
	Value   Value    `json:"value"`
	Comment string   `json:"comment,omitempty"`
	Photos  []string `json:"photos,omitempty"`
}

// blank reports whether a says nothing at all.
func (a Answer) blank() bool {
	return a.Value.Empty() && a.Comment == "" && len(a.Photos) == 0
}

// ValueKind is the JSON type of a Value.
type ValueKind string

// Value kinds.
const (
	KindNone   ValueKind = ""       // JSON null: no answer
	KindBool   ValueKind = "bool"   // true or false
	KindString ValueKind = "string" // a string
	KindNumber ValueKind = "number" // a number
	KindList   ValueKind = "list"   // an array of strings
	// KindOtherJSON is any other JSON value (an object, an array holding
	// non-strings). It is read so that CheckAnswer can name the field it
	// came in; no item accepts it and it cannot be written back.
	KindOtherJSON ValueKind = "other"
)

// Value is the value of an answer, written in JSON as the value itself.
// What it holds depends on the item's type:
//
//	yes_no         "yes", "no" or "na" (true and false stand for "yes" and "no")
//	rating         an integer 1..k
//	single_choice  an option key: "staff"
//	multi_choice   option keys: ["en", "zh"]
//	number         a number: 3, 12.5
//	text           a string
//	photo          photo ids: ["3f2a…"]
//
// JSON null, "" and [] are all "not answered" (see Empty). Only the field
// named by Kind is meaningful. Any other JSON value reads as KindOtherJSON.
type Value struct {
	Kind ValueKind
	Bool bool
	Str  string
	Num  float64
	List []string
}

// BoolValue returns a boolean value.
func BoolValue(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// StringValue returns a string value: a yes_no answer, an option key of a
// single_choice, or a text.
func StringValue(s string) Value { return Value{Kind: KindString, Str: s} }

// NumberValue returns a number value: a rating or a number.
func NumberValue(f float64) Value { return Value{Kind: KindNumber, Num: f} }

// ListValue returns a list value: option keys of a multi_choice or photo ids.
func ListValue(s ...string) Value { return Value{Kind: KindList, List: s} }

// Empty reports whether v is no answer: null, an empty string or an empty
// list.
func (v Value) Empty() bool {
	switch v.Kind {
	case KindNone:
		return true
	case KindString:
		return v.Str == ""
	case KindList:
		return len(v.List) == 0
	}
	return false
}

// MarshalJSON writes v as a JSON null, boolean, string, number or array.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case KindNone:
		return []byte("null"), nil
	case KindBool:
		return json.Marshal(v.Bool)
	case KindString:
		return json.Marshal(v.Str)
	case KindNumber:
		return json.Marshal(v.Num)
	case KindList:
		if v.List == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(v.List)
	}
	return nil, fmt.Errorf("checklist: a value of kind %q cannot be written as JSON", v.Kind)
}

// UnmarshalJSON reads a JSON null, boolean, string, number or array of
// strings as such, and any other JSON value as KindOtherJSON.
func (v *Value) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	var out Value
	var err error
	switch {
	case len(data) == 0:
		return errors.New("checklist: empty JSON value")
	case string(data) == "null":
	case data[0] == 't' || data[0] == 'f':
		out.Kind, err = KindBool, json.Unmarshal(data, &out.Bool)
	case data[0] == '"':
		out.Kind, err = KindString, json.Unmarshal(data, &out.Str)
	case data[0] == '-' || ('0' <= data[0] && data[0] <= '9'):
		out.Kind, err = KindNumber, json.Unmarshal(data, &out.Num)
	case data[0] == '[':
		out.Kind = KindList
		if err = json.Unmarshal(data, &out.List); err == nil && out.List == nil {
			out.List = []string{}
		}
	default:
		out.Kind = KindOtherJSON
	}
	if err != nil {
		// Syntax was checked by the decoder: the value is of another type
		// (an array of numbers, a number too large for float64).
		out = Value{Kind: KindOtherJSON}
	}
	*v = out
	return nil
}

// yesNo returns a yes_no value as "yes", "no" or whatever string it holds.
func yesNo(v Value) (string, bool) {
	switch v.Kind {
	case KindBool:
		if v.Bool {
			return "yes", true
		}
		return "no", true
	case KindString:
		return v.Str, true
	}
	return "", false
}

// ValidPhotoID reports whether id can name a photo: 1 to MaxPhotoIDLen
// characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (a hex SHA-256
// qualifies).
func ValidPhotoID(id string) bool {
	if id == "" || len(id) > MaxPhotoIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// CheckAnswer reports whether a is an acceptable answer to it, as an
// EInvalid *Error listing every problem with its field ("value",
// "value[1]", "comment", "photos[0]", "item"). An empty value is acceptable
// (the item is unanswered); whether a required item is answered is checked
// at submit (Content.CheckSubmit). Show-if is not considered here; see
// Content.CheckAnswers.
func (it Item) CheckAnswer(a Answer) error {
	var p Problems
	it.checkAnswer(&p, "", a)
	return p.Err(fmt.Sprintf("the answer to %s has problems", it.Key))
}

func (it Item) checkAnswer(p *Problems, prefix string, a Answer) {
	if a.Item != "" && a.Item != it.Key {
		p.Add(prefix+"item", CodeKeyMismatch, "the answer names item %q but is filed under %q", a.Item, it.Key)
	}
	it.checkValue(p, prefix+"value", a.Value)
	checkString(p, prefix+"comment", a.Comment)
	checkPhotoIDs(p, prefix+"photos", a.Photos)
}

func (it Item) checkValue(p *Problems, path string, v Value) {
	if v.Empty() {
		return
	}
	mismatch := func(want string) {
		p.Add(path, CodeTypeMismatch, "a %s answer is %s, not a %s", it.Type, want, kindName(v.Kind))
	}
	switch it.Type {
	case TypeYesNo:
		s, ok := yesNo(v)
		switch {
		case !ok:
			mismatch(`"yes", "no" or "na"`)
		case s == "yes" || s == "no":
		case s == "na" && !it.AllowNA:
			p.Add(path, CodeNANotAllowed, "this item cannot be answered N/A")
		case s != "na":
			p.Add(path, CodeBadValue, `answer "yes", "no" or "na", not %q`, s)
		}
	case TypeRating:
		k := len(it.Scale)
		switch {
		case v.Kind != KindNumber:
			mismatch(fmt.Sprintf("a whole number 1..%d", k))
		case math.IsNaN(v.Num) || math.IsInf(v.Num, 0):
			p.Add(path, CodeNotFinite, "the rating must be a finite number")
		case v.Num != math.Trunc(v.Num):
			p.Add(path, CodeNotInteger, "the rating must be a whole number 1..%d", k)
		case v.Num < 1 || v.Num > float64(k):
			p.Add(path, CodeOutOfRange, "the rating must be 1..%d, not %v", k, v.Num)
		}
	case TypeSingleChoice:
		switch {
		case v.Kind != KindString:
			mismatch("an option key")
		case !hasOption(it, v.Str):
			p.Add(path, CodeUnknownOption, "the item has no option %q", v.Str)
		}
	case TypeMultiChoice:
		if v.Kind != KindList {
			mismatch("a list of option keys")
			return
		}
		seen := map[string]bool{}
		for i, key := range v.List {
			ip := fmt.Sprintf("%s[%d]", path, i)
			o, ok := it.option(key)
			switch {
			case seen[key]:
				p.Add(ip, CodeDuplicate, "option %q is chosen twice", key)
			case !ok:
				p.Add(ip, CodeUnknownOption, "the item has no option %q", key)
			case o.Exclusive && len(v.List) > 1:
				p.Add(ip, CodeExclusiveOption, "option %q cannot be chosen together with others", key)
			}
			seen[key] = true
		}
	case TypeNumber:
		n := it.Number
		if n == nil {
			n = &NumberSpec{}
		}
		switch {
		case v.Kind != KindNumber:
			mismatch("a number")
		case math.IsNaN(v.Num) || math.IsInf(v.Num, 0):
			p.Add(path, CodeNotFinite, "the answer must be a finite number")
		case n.Integer && v.Num != math.Trunc(v.Num):
			p.Add(path, CodeNotInteger, "the answer must be a whole number")
		case (n.Min != nil && v.Num < *n.Min) || (n.Max != nil && v.Num > *n.Max):
			p.Add(path, CodeOutOfRange, "the answer must lie within [%s, %s], not %v", fmtBound(n.Min), fmtBound(n.Max), v.Num)
		}
	case TypeText:
		if v.Kind != KindString {
			mismatch("a string")
			return
		}
		checkString(p, path, v.Str)
	case TypePhoto:
		if v.Kind != KindList {
			mismatch("a list of photo ids")
			return
		}
		checkPhotoIDs(p, path, v.List)
	default:
		p.Add(path, CodeTypeMismatch, "item %s has the unknown type %q and takes no answer", it.Key, it.Type)
	}
}

func kindName(k ValueKind) string {
	switch k {
	case KindBool:
		return "boolean"
	case KindList:
		return "list"
	case KindOtherJSON:
		return "JSON object or list of non-strings"
	}
	return string(k)
}

func checkPhotoIDs(p *Problems, path string, ids []string) {
	if len(ids) > MaxPhotos {
		p.Add(path, CodeTooMany, "%d photos; at most %d are allowed", len(ids), MaxPhotos)
	}
	seen := map[string]bool{}
	for i, id := range ids {
		ip := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !ValidPhotoID(id):
			p.Add(ip, CodeBadPhotoID, "%q is not a photo id", id)
		case seen[id]:
			p.Add(ip, CodeDuplicate, "photo %q is attached twice", id)
		}
		seen[id] = true
	}
}

// Normalize returns a in its canonical form for it: a boolean yes_no value
// as "yes" or "no", the options of a multi_choice value in the item's
// order (unknown keys last, as given). Other answers are returned as they
// are. Normalized answers compare equal when they mean the same.
func (it Item) Normalize(a Answer) Answer {
	switch {
	case it.Type == TypeYesNo && a.Value.Kind == KindBool:
		s, _ := yesNo(a.Value)
		a.Value = StringValue(s)
	case it.Type == TypeMultiChoice && a.Value.Kind == KindList:
		rank := func(key string) int {
			for i, o := range it.Options {
				if o.Key == key {
					return i
				}
			}
			return len(it.Options)
		}
		list := slices.Clone(a.Value.List)
		sort.SliceStable(list, func(i, j int) bool { return rank(list[i]) < rank(list[j]) })
		a.Value = ListValue(list...)
	}
	return a
}

// Outcome is what one answer contributes to a score, and the numbers each
// stored answer carries for reports. An unanswered item, an N/A answer,
// and an answer CheckAnswer refuses all earn nothing and count nothing
// (MaxPoints 0); only N/A sets NA, and Answered is true for N/A and every
// acceptable non-empty value.
type Outcome struct {
	Answered  bool    `json:"answered"`
	Failed    bool    `json:"failed"`
	NA        bool    `json:"na"`
	Points    float64 `json:"points"`
	MaxPoints float64 `json:"max_points"`
}

// Evaluate scores a as an answer to it; see Item for the rules. Show-if is
// not considered here; see Content.Score.
func (it Item) Evaluate(a Answer) Outcome {
	v := a.Value
	if v.Empty() {
		return Outcome{}
	}
	var p Problems
	it.checkValue(&p, "value", v)
	if len(p) > 0 {
		return Outcome{}
	}
	f := it.FailRule
	if f == nil {
		f = &FailRule{}
	}
	o := Outcome{Answered: true, MaxPoints: it.Points}
	switch it.Type {
	case TypeYesNo:
		s, _ := yesNo(v)
		if s == "na" {
			return Outcome{Answered: true, NA: true}
		}
		o.Failed = s == f.Answer
	case TypeRating:
		r, k := v.Num, float64(len(it.Scale))
		o.Failed = f.AtOrBelow > 0 && r <= float64(f.AtOrBelow)
		if k >= 2 {
			o.Points = it.Points * (r - 1) / (k - 1)
		}
		return o
	case TypeSingleChoice:
		o.Failed = slices.Contains(f.AnyOf, v.Str)
	case TypeMultiChoice:
		o.Failed = slices.ContainsFunc(v.List, func(key string) bool { return slices.Contains(f.AnyOf, key) })
	case TypeNumber:
		o.Failed = (f.Min != nil && v.Num < *f.Min) || (f.Max != nil && v.Num > *f.Max)
	default:
		return Outcome{Answered: true}
	}
	if !o.Failed {
		o.Points = it.Points
	}
	return o
}

// Visible returns, for every item key of c, whether the item applies given
// answers (keyed by item key): an item without show-if always applies; one
// with show-if applies when its target applies and the target's answer is
// acceptable and matches (see ShowIf).
func (c Content) Visible(answers map[string]Answer) map[string]bool {
	visible := map[string]bool{}
	earlier := map[string]Item{}
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if _, dup := visible[it.Key]; dup {
				continue
			}
			visible[it.Key] = it.ShowIf == nil || showIfMatches(*it.ShowIf, earlier, visible, answers)
			earlier[it.Key] = it
		}
	}
	return visible
}

func showIfMatches(s ShowIf, earlier map[string]Item, visible map[string]bool, answers map[string]Answer) bool {
	target, ok := earlier[s.Item]
	if !ok || !visible[s.Item] {
		return false
	}
	a := answers[s.Item]
	var p Problems
	target.checkValue(&p, "value", a.Value)
	if a.Value.Empty() || len(p) > 0 {
		return false
	}
	values := s.values()
	v := a.Value
	switch target.Type {
	case TypeYesNo:
		yn, _ := yesNo(v)
		return slices.Contains(values, yn)
	case TypeRating:
		return slices.Contains(values, strconv.Itoa(int(v.Num)))
	case TypeSingleChoice:
		return slices.Contains(values, v.Str)
	case TypeMultiChoice:
		return slices.ContainsFunc(v.List, func(key string) bool { return slices.Contains(values, key) })
	}
	return false
}

// Score is the result of an inspection: points earned of the points at
// stake, in total and per section, and the keys of the failed items (the
// findings) in checklist order. Percent is 100×Points/MaxPoints, or nil
// when nothing was at stake.
type Score struct {
	Points    float64        `json:"points"`
	MaxPoints float64        `json:"max_points"`
	Percent   *float64       `json:"percent"`
	Failed    []string       `json:"failed"`
	Sections  []SectionScore `json:"sections"`
}

// SectionScore is the part of a Score from one section.
type SectionScore struct {
	Key       string   `json:"key"`
	Points    float64  `json:"points"`
	MaxPoints float64  `json:"max_points"`
	Percent   *float64 `json:"percent"`
	Failed    []string `json:"failed"`
}

// Score scores answers (keyed by item key) against c: every applicable
// item's Evaluate outcome, summed per section and in total. Answers to
// hidden and unknown items are ignored.
func (c Content) Score(answers map[string]Answer) Score {
	visible := c.Visible(answers)
	total := Score{Failed: []string{}, Sections: []SectionScore{}}
	counted := map[string]bool{}
	for _, s := range c.Sections {
		ss := SectionScore{Key: s.Key, Failed: []string{}}
		for _, it := range s.Items {
			if counted[it.Key] || !visible[it.Key] {
				continue
			}
			counted[it.Key] = true
			o := it.Evaluate(answers[it.Key])
			ss.Points += o.Points
			ss.MaxPoints += o.MaxPoints
			if o.Failed {
				ss.Failed = append(ss.Failed, it.Key)
			}
		}
		ss.Percent = percent(ss.Points, ss.MaxPoints)
		total.Points += ss.Points
		total.MaxPoints += ss.MaxPoints
		total.Failed = append(total.Failed, ss.Failed...)
		total.Sections = append(total.Sections, ss)
	}
	total.Percent = percent(total.Points, total.MaxPoints)
	return total
}

// percent is Percent for a score, nil (not 0) when nothing scores: a
// section without scored items has no percentage rather than 0 %.
func percent(points, maxPoints float64) *float64 {
	if maxPoints <= 0 {
		return nil
	}
	p := Percent(points, maxPoints)
	return &p
}

// CheckAnswers reports whether answers (keyed by item key) may be saved
// against c: every answer is to a known item, is acceptable to it
// (Item.CheckAnswer) and, unless blank, to an item that applies (Visible).
// Problems are listed in checklist order with paths such as
// "answers[flyers.expired_count].value"; answers to unknown items last.
func (c Content) CheckAnswers(answers map[string]Answer) error {
	var p Problems
	c.checkAnswers(&p, answers, false)
	return p.Err("some answers have problems; nothing was saved")
}

// CheckSubmit reports whether answers are complete enough to submit: all
// of CheckAnswers, and for every item that applies, an answer when it is
// required, a comment when its answer failed and it needs one
// (failed_needs_comment), and a photo when its answer failed and it needs
// one (failed_needs_photo).
func (c Content) CheckSubmit(answers map[string]Answer) error {
	var p Problems
	c.checkAnswers(&p, answers, true)
	return p.Err("the inspection cannot be submitted yet")
}

func (c Content) checkAnswers(p *Problems, answers map[string]Answer, submit bool) {
	visible := c.Visible(answers)
	known := map[string]bool{}
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if known[it.Key] {
				continue
			}
			known[it.Key] = true
			a, given := answers[it.Key]
			path := answerPath(it.Key)
			if !visible[it.Key] {
				if given && !a.blank() {
					p.Add(path, CodeHidden, "item %s does not apply given the other answers; remove its answer", it.Key)
				}
				continue
			}
			before := len(*p)
			if given {
				it.checkAnswer(p, path+".", a)
			}
			if !submit || len(*p) > before {
				continue
			}
			if it.Required && a.Value.Empty() {
				p.Add(path+".value", CodeRequired, "item %s must be answered", it.Key)
				continue
			}
			if o := it.Evaluate(a); o.Failed {
				if it.FailedNeedsComment && strings.TrimSpace(a.Comment) == "" {
					p.Add(path+".comment", CodeCommentRequired, "item %s failed: say what was found in a comment", it.Key)
				}
				if it.FailedNeedsPhoto && len(a.Photos) == 0 {
					p.Add(path+".photos", CodePhotoRequired, "item %s failed: attach a photo", it.Key)
				}
			}
		}
	}
	var unknown []string
	for key := range answers {
		if !known[key] {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	for _, key := range unknown {
		p.Add(answerPath(key), CodeUnknownItem, "the checklist has no item %q", key)
	}
}

// answerPath is the field path of the answer to key.
func answerPath(key string) string {
	if ValidKey(key) {
		return "answers[" + key + "]"
	}
	return "answers[" + strconv.Quote(key) + "]"
}
