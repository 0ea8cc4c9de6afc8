package checklist

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field error codes of checklist content (Content.Validate) and of answers
// (Item.CheckAnswer, Content.CheckAnswers, Content.CheckSubmit). They are
// stable: clients branch on them.
const (
	// Shared by content and answers.
	CodeRequired      = "required"       // a required value is missing or blank
	CodeTooLong       = "too_long"       // a text or key is longer than its limit
	CodeTooMany       = "too_many"       // more sections, items, options or photos than the limit
	CodeBadText       = "bad_text"       // a text is not UTF-8 or holds control characters
	CodeNotFinite     = "not_finite"     // a number is NaN or infinite
	CodeNotInteger    = "not_integer"    // a whole number was expected
	CodeUnknownOption = "unknown_option" // an option key the item does not have
	CodeDuplicate     = "duplicate_value"
	CodeBadValue      = "bad_value" // a value outside the fixed set the field accepts

	// Content only.
	CodeBadKey               = "bad_key"       // a key breaks the key pattern
	CodeDuplicateKey         = "duplicate_key" // a section or item key is used twice
	CodeEmptySection         = "empty_section"
	CodeUnknownType          = "unknown_type"
	CodeNotForType           = "not_for_type" // a setting the item's type does not use
	CodeRatingScale          = "rating_scale" // a rating scale outside 2..MaxScale
	CodeNoOptions            = "no_options"
	CodeTooFewOptions        = "too_few_options"
	CodeDuplicateOption      = "duplicate_option"
	CodeMinGreaterThanMax    = "min_gt_max"
	CodeNegativePoints       = "negative_points"
	CodeTooLarge             = "too_large"
	CodePointsNotScored      = "points_not_scored"        // points on a text or photo item
	CodePointsWithoutRule    = "points_without_fail_rule" // points that every answer would earn
	CodeFailRuleEmpty        = "fail_rule_empty"
	CodeFailRuleTypeMismatch = "fail_rule_type_mismatch"
	CodeThresholdOutOfRange  = "threshold_out_of_range"
	CodeFailRuleAlways       = "fail_rule_always" // every possible answer fails
	CodeFailRuleNever        = "fail_rule_never"  // no possible answer fails
	CodeNoFailRule           = "no_fail_rule"     // failed_needs_* on an item that cannot fail
	CodePhotoRuleOnPhoto     = "photo_rule_on_photo"
	CodeShowIfUnknown        = "show_if_unknown"
	CodeShowIfForward        = "show_if_forward"
	CodeShowIfSelf           = "show_if_self"
	CodeShowIfValue          = "show_if_value"
	CodeShowIfTargetType     = "show_if_target_type"

	// Answers only.
	CodeTypeMismatch    = "type_mismatch"    // the value's JSON type does not fit the item type
	CodeNANotAllowed    = "na_not_allowed"   // "na" to an item without AllowNA
	CodeOutOfRange      = "out_of_range"     // a rating or number outside its bounds
	CodeExclusiveOption = "exclusive_option" // an exclusive option chosen with others
	CodeBadPhotoID      = "bad_photo_id"
	CodeKeyMismatch     = "key_mismatch" // Answer.Item differs from the key it is filed under
	CodeUnknownItem     = "unknown_item"
	CodeHidden          = "hidden" // an answer to an item its show-if hides
	CodeCommentRequired = "comment_required"
	CodePhotoRequired   = "photo_required"
)

// ValidKey reports whether key is a valid section, item or option key: 1 to
// MaxKeyLen characters of a-z, 0-9, '_', '.', '-', beginning and ending
// with a letter or digit, for example "flyers.sorted_by_field".
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '_' || c == '.' || c == '-':
			if i == 0 || i == len(key)-1 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Validate reports whether c may be published. It returns nil or an
// EInvalid *Error listing every problem at once, each with the path of its
// field (such as "sections[2].items[5].fail_rule.at_or_below") and one of
// the Code* constants. The rules:
//
//   - title.ja is required; every text is valid UTF-8 without control
//     characters other than tab and newline, at most MaxTextLen characters,
//     and has Japanese wherever it has English;
//   - 1..MaxSections sections, each with a unique key, a title and at least
//     one item; at most MaxItems items in all;
//   - item keys are unique across all sections; keys follow ValidKey;
//   - every item has text.ja and a known type, and only the settings its
//     type uses (see Item); rating scales have 2..MaxScale labelled steps;
//     choices have 2..MaxOptions options with unique keys and labels;
//     number bounds are finite, ordered, and whole when Integer;
//   - points are finite, 0..MaxPoints, only on scored types, and on every
//     type but rating only with a fail rule (else every answer earns them);
//   - a fail rule fits the type, names only existing options, and neither
//     always nor never fails; failed_needs_comment and failed_needs_photo
//     need an item that can fail, and a photo item cannot need a photo;
//   - show_if names an earlier yes_no, rating or choice item and only values
//     that item can take.
func (c Content) Validate() error {
	var p Problems
	validateContent(c, &p)
	return p.Err("the checklist has problems; nothing was saved")
}

// ValidateDraft reports whether c may be saved as a draft: only the limits
// on sizes (CodeTooMany, CodeTooLong) apply, because a draft is work in
// progress that Validate checks in full before it is published.
func (c Content) ValidateDraft() error {
	var all, limits Problems
	validateContent(c, &all)
	for _, f := range all {
		if f.Code == CodeTooMany || f.Code == CodeTooLong {
			limits = append(limits, f)
		}
	}
	return limits.Err("the draft is too large; nothing was saved")
}

// itemRef locates an item in document order.
type itemRef struct {
	pos  int // position among all items
	item Item
}

func validateContent(c Content, p *Problems) {
	checkText(p, "title", c.Title, true)
	checkText(p, "description", c.Description, false)

	// First pass: the position of every item key, for duplicate and
	// show-if checks (the first occurrence of a key wins).
	refs := map[string]itemRef{}
	total := 0
	for _, s := range c.Sections {
		for _, it := range s.Items {
			if _, dup := refs[it.Key]; !dup && it.Key != "" {
				refs[it.Key] = itemRef{pos: total, item: it}
			}
			total++
		}
	}

	switch n := len(c.Sections); {
	case n == 0:
		p.Add("sections", CodeRequired, "a checklist needs at least one section")
	case n > MaxSections:
		p.Add("sections", CodeTooMany, "%d sections; at most %d are allowed", n, MaxSections)
	}
	if total > MaxItems {
		p.Add("sections", CodeTooMany, "%d items; at most %d are allowed", total, MaxItems)
	}

	sectionKeys := map[string]int{}
	itemKeys := map[string]string{}
	pos := 0
	for i, s := range c.Sections {
		sp := fmt.Sprintf("sections[%d]", i)
		if checkKey(p, sp+".key", s.Key) {
			if first, dup := sectionKeys[s.Key]; dup {
				p.Add(sp+".key", CodeDuplicateKey, "section key %q is already used by sections[%d]", s.Key, first)
			} else {
				sectionKeys[s.Key] = i
			}
		}
		checkText(p, sp+".title", s.Title, true)
		if len(s.Items) == 0 {
			p.Add(sp+".items", CodeEmptySection, "a section needs at least one item")
		}
		for j, it := range s.Items {
			ip := fmt.Sprintf("%s.items[%d]", sp, j)
			if checkKey(p, ip+".key", it.Key) {
				if first, dup := itemKeys[it.Key]; dup {
					p.Add(ip+".key", CodeDuplicateKey, "item key %q is already used by %s", it.Key, first)
				} else {
					itemKeys[it.Key] = ip
				}
			}
			validateItem(p, ip, it, pos, refs)
			pos++
		}
	}
}

func validateItem(p *Problems, path string, it Item, pos int, refs map[string]itemRef) {
	checkText(p, path+".text", it.Text, true)
	checkText(p, path+".guidance", it.Guidance, false)

	typeOK := false
	switch {
	case it.Type == "":
		p.Add(path+".type", CodeRequired, "type is required: one of %s", typeList())
	case !it.Type.Known():
		p.Add(path+".type", CodeUnknownType, "unknown type %q: use one of %s", it.Type, typeList())
	default:
		typeOK = true
	}

	// Settings that only some types use.
	if typeOK {
		if it.AllowNA && it.Type != TypeYesNo {
			p.Add(path+".allow_na", CodeNotForType, "allow_na applies to yes_no items only, not %s", it.Type)
		}
		if len(it.Scale) > 0 && it.Type != TypeRating {
			p.Add(path+".scale", CodeNotForType, "scale applies to rating items only, not %s", it.Type)
		}
		if len(it.Options) > 0 && !it.Type.choice() {
			p.Add(path+".options", CodeNotForType, "options apply to single_choice and multi_choice items only, not %s", it.Type)
		}
		if it.Number != nil && it.Type != TypeNumber {
			p.Add(path+".number", CodeNotForType, "number applies to number items only, not %s", it.Type)
		}
	}

	switch it.Type {
	case TypeRating:
		if k := len(it.Scale); k < 2 || k > MaxScale {
			p.Add(path+".scale", CodeRatingScale, "a rating needs 2 to %d labelled steps, not %d", MaxScale, k)
		}
		for i, label := range it.Scale {
			checkText(p, fmt.Sprintf("%s.scale[%d]", path, i), label, true)
		}
	case TypeSingleChoice, TypeMultiChoice:
		validateOptions(p, path, it)
	case TypeNumber:
		if it.Number != nil {
			n := it.Number
			checkText(p, path+".number.unit", n.Unit, false)
			checkBounds(p, path+".number", n.Min, n.Max, n.Integer)
		}
	}

	validatePoints(p, path, it, typeOK)
	validateFailRule(p, path, it, typeOK)

	// Rules about failed answers need an item that can fail.
	canFail := it.Type.Scored() && it.FailRule != nil
	switch {
	case it.FailedNeedsPhoto && it.Type == TypePhoto:
		p.Add(path+".failed_needs_photo", CodePhotoRuleOnPhoto, "a photo item never fails, so it cannot need a photo when failed")
	case it.FailedNeedsPhoto && typeOK && !canFail:
		p.Add(path+".failed_needs_photo", CodeNoFailRule, "failed_needs_photo needs a fail_rule: without one the item never fails")
	}
	if it.FailedNeedsComment && typeOK && !canFail {
		p.Add(path+".failed_needs_comment", CodeNoFailRule, "failed_needs_comment needs a fail_rule: without one the item never fails")
	}

	if it.ShowIf != nil {
		validateShowIf(p, path+".show_if", it, pos, refs)
	}
}

func validateOptions(p *Problems, path string, it Item) {
	switch n := len(it.Options); {
	case n == 0:
		p.Add(path+".options", CodeNoOptions, "a %s item needs options", it.Type)
	case n == 1:
		p.Add(path+".options", CodeTooFewOptions, "a %s item needs at least 2 options", it.Type)
	case n > MaxOptions:
		p.Add(path+".options", CodeTooMany, "%d options; at most %d are allowed", n, MaxOptions)
	}
	seen := map[string]int{}
	for i, o := range it.Options {
		op := fmt.Sprintf("%s.options[%d]", path, i)
		if checkKey(p, op+".key", o.Key) {
			if first, dup := seen[o.Key]; dup {
				p.Add(op+".key", CodeDuplicateOption, "option key %q is already used by options[%d]", o.Key, first)
			} else {
				seen[o.Key] = i
			}
		}
		checkText(p, op+".label", o.Label, true)
		if o.Exclusive && it.Type != TypeMultiChoice {
			p.Add(op+".exclusive", CodeNotForType, "exclusive applies to options of multi_choice items only")
		}
	}
}

// checkBounds checks a [min, max] pair of a number spec or a fail rule.
func checkBounds(p *Problems, path string, lo, hi *float64, integer bool) {
	ok := true
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min", lo}, {"max", hi}} {
		if b.v == nil {
			continue
		}
		switch {
		case math.IsNaN(*b.v) || math.IsInf(*b.v, 0):
			p.Add(path+"."+b.name, CodeNotFinite, "%s must be a finite number", b.name)
			ok = false
		case integer && *b.v != math.Trunc(*b.v):
			p.Add(path+"."+b.name, CodeNotInteger, "%s must be a whole number: answers are whole numbers", b.name)
		}
	}
	if ok && lo != nil && hi != nil && *lo > *hi {
		p.Add(path+".min", CodeMinGreaterThanMax, "min %v is greater than max %v", *lo, *hi)
	}
}

func validatePoints(p *Problems, path string, it Item, typeOK bool) {
	pts := it.Points
	switch {
	case math.IsNaN(pts) || math.IsInf(pts, 0):
		p.Add(path+".points", CodeNotFinite, "points must be a finite number")
	case pts < 0:
		p.Add(path+".points", CodeNegativePoints, "points cannot be negative")
	case pts > MaxPoints:
		p.Add(path+".points", CodeTooLarge, "at most %d points per item", MaxPoints)
	case pts > 0 && typeOK && !it.Type.Scored():
		p.Add(path+".points", CodePointsNotScored, "%s items are not scored: remove points", it.Type)
	case pts > 0 && typeOK && it.Type != TypeRating && it.FailRule == nil:
		p.Add(path+".points", CodePointsWithoutRule, "points need a fail_rule: without one every answer would earn them")
	}
}

// failRuleFields names the fail rule part each scored type uses.
var failRuleFields = map[AnswerType]string{
	TypeYesNo:        "answer",
	TypeRating:       "at_or_below",
	TypeSingleChoice: "any_of",
	TypeMultiChoice:  "any_of",
	TypeNumber:       "min and max",
}

func validateFailRule(p *Problems, path string, it Item, typeOK bool) {
	f := it.FailRule
	if f == nil || !typeOK {
		return
	}
	fp := path + ".fail_rule"
	if !it.Type.Scored() {
		p.Add(fp, CodeFailRuleTypeMismatch, "%s items never fail: remove fail_rule", it.Type)
		return
	}
	set := map[string]bool{
		"answer":      f.Answer != "",
		"at_or_below": f.AtOrBelow != 0,
		"any_of":      len(f.AnyOf) > 0,
		"min":         f.Min != nil,
		"max":         f.Max != nil,
	}
	fits := map[string]bool{
		"answer":      it.Type == TypeYesNo,
		"at_or_below": it.Type == TypeRating,
		"any_of":      it.Type.choice(),
		"min":         it.Type == TypeNumber,
		"max":         it.Type == TypeNumber,
	}
	fitting, misfits := 0, 0
	for _, name := range []string{"answer", "at_or_below", "any_of", "min", "max"} {
		switch {
		case set[name] && fits[name]:
			fitting++
		case set[name]:
			misfits++
			p.Add(fp+"."+name, CodeFailRuleTypeMismatch, "%s does not apply to %s items; they use %s", name, it.Type, failRuleFields[it.Type])
		}
	}
	if fitting == 0 {
		if misfits == 0 {
			p.Add(fp, CodeFailRuleEmpty, "fail_rule says nothing: %s items use %s", it.Type, failRuleFields[it.Type])
		}
		return
	}

	switch it.Type {
	case TypeYesNo:
		if f.Answer != "yes" && f.Answer != "no" {
			p.Add(fp+".answer", CodeBadValue, "answer must be \"no\" or \"yes\", not %q (N/A never fails)", f.Answer)
		}
	case TypeRating:
		k := len(it.Scale)
		if f.AtOrBelow < 1 || (k >= 2 && f.AtOrBelow >= k) {
			p.Add(fp+".at_or_below", CodeThresholdOutOfRange, "at_or_below must be 1..%d for a 1..%d scale, not %d", max(k-1, 1), k, f.AtOrBelow)
		}
	case TypeSingleChoice, TypeMultiChoice:
		seen := map[string]bool{}
		for i, key := range f.AnyOf {
			vp := fmt.Sprintf("%s.any_of[%d]", fp, i)
			switch {
			case seen[key]:
				p.Add(vp, CodeDuplicate, "option %q is listed twice", key)
			case !hasOption(it, key):
				p.Add(vp, CodeUnknownOption, "the item has no option %q", key)
			}
			seen[key] = true
		}
		if distinct := distinctOptions(it); len(distinct) >= 2 && allIn(distinct, seen) {
			p.Add(fp+".any_of", CodeFailRuleAlways, "any_of lists every option, so every answer would fail")
		}
	case TypeNumber:
		before := len(*p)
		checkBounds(p, fp, f.Min, f.Max, false)
		if len(*p) > before {
			return
		}
		var lo, hi *float64 // accepted answers
		if it.Number != nil && boundsOK(it.Number.Min, it.Number.Max) {
			lo, hi = it.Number.Min, it.Number.Max
		}
		switch {
		case (f.Max != nil && lo != nil && *lo > *f.Max) || (f.Min != nil && hi != nil && *hi < *f.Min):
			p.Add(fp, CodeFailRuleAlways, "every acceptable answer lies outside [%s, %s], so every answer would fail", fmtBound(f.Min), fmtBound(f.Max))
		case (f.Min == nil || (lo != nil && *f.Min <= *lo)) && (f.Max == nil || (hi != nil && *f.Max >= *hi)):
			p.Add(fp, CodeFailRuleNever, "every acceptable answer lies inside [%s, %s], so no answer would fail", fmtBound(f.Min), fmtBound(f.Max))
		}
	}
}

func hasOption(it Item, key string) bool {
	_, ok := it.option(key)
	return ok
}

func distinctOptions(it Item) []string {
	var keys []string
	for _, o := range it.Options {
		if o.Key != "" && !slices.Contains(keys, o.Key) {
			keys = append(keys, o.Key)
		}
	}
	return keys
}

func allIn(keys []string, set map[string]bool) bool {
	for _, k := range keys {
		if !set[k] {
			return false
		}
	}
	return true
}

func boundsOK(lo, hi *float64) bool {
	finite := func(v *float64) bool { return v == nil || !(math.IsNaN(*v) || math.IsInf(*v, 0)) }
	return finite(lo) && finite(hi) && (lo == nil || hi == nil || *lo <= *hi)
}

func fmtBound(v *float64) string {
	if v == nil {
		return "open"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func validateShowIf(p *Problems, sp string, it Item, pos int, refs map[string]itemRef) {
	s := it.ShowIf
	var target Item
	found := false
	switch ref, ok := refs[s.Item]; {
	case s.Item == "":
		p.Add(sp+".item", CodeRequired, "show_if needs the key of an earlier item")
	case s.Item == it.Key:
		p.Add(sp+".item", CodeShowIfSelf, "an item cannot depend on its own answer")
	case !ok:
		p.Add(sp+".item", CodeShowIfUnknown, "there is no item %q", s.Item)
	default:
		target, found = ref.item, true
		if ref.pos > pos {
			p.Add(sp+".item", CodeShowIfForward, "item %q comes later; show_if may only name an earlier item", s.Item)
		}
		switch target.Type {
		case TypeYesNo, TypeRating, TypeSingleChoice, TypeMultiChoice:
		default:
			p.Add(sp+".item", CodeShowIfTargetType, "item %q is of type %q; show_if needs a yes_no, rating or choice item", s.Item, target.Type)
			found = false
		}
	}

	switch {
	case s.Equals == "" && len(s.In) == 0:
		p.Add(sp, CodeShowIfValue, "show_if needs equals or in")
		return
	case s.Equals != "" && len(s.In) > 0:
		p.Add(sp, CodeShowIfValue, "show_if takes equals or in, not both")
	}
	check := func(vp, v string) {
		if found && !showIfValueOK(target, v) {
			p.Add(vp, CodeShowIfValue, "item %q cannot be answered %q; use %s", target.Key, v, showIfValues(target))
		}
	}
	if s.Equals != "" {
		check(sp+".equals", s.Equals)
	}
	seen := map[string]bool{}
	for i, v := range s.In {
		vp := fmt.Sprintf("%s.in[%d]", sp, i)
		if seen[v] {
			p.Add(vp, CodeDuplicate, "value %q is listed twice", v)
			continue
		}
		seen[v] = true
		check(vp, v)
	}
}

// showIfValueOK reports whether target can be answered v, as written in a
// show-if.
func showIfValueOK(target Item, v string) bool {
	switch target.Type {
	case TypeYesNo:
		return v == "yes" || v == "no" || (v == "na" && target.AllowNA)
	case TypeRating:
		r, err := strconv.Atoi(v)
		return err == nil && strconv.Itoa(r) == v && r >= 1 && r <= len(target.Scale)
	case TypeSingleChoice, TypeMultiChoice:
		return v != "" && hasOption(target, v)
	}
	return false
}

func showIfValues(target Item) string {
	switch target.Type {
	case TypeYesNo:
		if target.AllowNA {
			return `"yes", "no" or "na"`
		}
		return `"yes" or "no"`
	case TypeRating:
		return fmt.Sprintf(`"1" to "%d"`, len(target.Scale))
	}
	return "its option keys: " + strings.Join(distinctOptions(target), ", ")
}

// checkKey records problems with a key and reports whether it is valid.
func checkKey(p *Problems, path, key string) bool {
	switch {
	case key == "":
		p.Add(path, CodeRequired, "key is required")
	case len(key) > MaxKeyLen:
		p.Add(path, CodeTooLong, "key is %d characters long; at most %d are allowed", len(key), MaxKeyLen)
	case !ValidKey(key):
		p.Add(path, CodeBadKey, "key %q must be lower-case letters, digits, '_', '.' and '-', beginning and ending with a letter or digit", key)
	default:
		return true
	}
	return false
}

// checkText records problems with a Text at path.
func checkText(p *Problems, path string, t Text, required bool) {
	switch {
	case strings.TrimSpace(t.Ja) == "" && required:
		p.Add(path+".ja", CodeRequired, "Japanese text is required")
	case strings.TrimSpace(t.Ja) == "" && strings.TrimSpace(t.En) != "":
		p.Add(path+".ja", CodeRequired, "Japanese text is required where English is given")
	}
	checkString(p, path+".ja", t.Ja)
	checkString(p, path+".en", t.En)
}

// checkString records problems with the characters and length of s.
func checkString(p *Problems, path, s string) {
	if !utf8.ValidString(s) {
		p.Add(path, CodeBadText, "text is not valid UTF-8")
		return
	}
	if i := strings.IndexFunc(s, badRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		p.Add(path, CodeBadText, "text holds the control character %U at byte %d; only tab and newline are allowed", r, i)
	}
	if n := utf8.RuneCountInString(s); n > MaxTextLen {
		p.Add(path, CodeTooLong, "text is %d characters long; at most %d are allowed", n, MaxTextLen)
	}
}

// badRune reports control characters other than tab and newline. Carriage
// returns are refused too: line ends are "\n" so that texts compare equal
// however they were typed.
func badRune(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n'
}

func typeList() string {
	names := make([]string, len(AnswerTypes))
	for i, t := range AnswerTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
