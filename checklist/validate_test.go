package checklist_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"tenken/checklist"
)

func fptr(f float64) *float64 { return &f }

func ja(s string) checklist.Text { return checklist.Text{Ja: s} }

func scale(k int) []checklist.Text {
	labels := make([]checklist.Text, k)
	for i := range labels {
		labels[i] = checklist.Text{Ja: fmt.Sprintf("段階%d", i+1), En: fmt.Sprintf("step %d", i+1)}
	}
	return labels
}

func options(keys ...string) []checklist.Option {
	opts := make([]checklist.Option, len(keys))
	for i, k := range keys {
		opts[i] = checklist.Option{Key: k, Label: ja("選択肢 " + k)}
	}
	return opts
}

// testContent returns a small valid content that uses every answer type,
// both kinds of show-if value and every kind of fail rule. Tests mutate it
// to make one mistake at a time. Its layout:
//
//	sections[0] signage
//	  items[0] signage.entrance   yes_no, N/A, fails on no, needs comment and photo
//	  items[1] signage.clarity    rating 1..5, fails at or below 2, needs comment
//	  items[2] signage.languages  multi_choice en, zh, none (exclusive), fails on none
//	sections[1] flyers
//	  items[0] flyers.expired     number 0..100 whole, fails outside 0..0, needs photo
//	  items[1] flyers.channel     single_choice a, b, c, fails on c; shown if signage.entrance is yes
//	  items[2] flyers.note        text
//	  items[3] flyers.photo       photo
//	  items[4] flyers.rack        yes_no, fails on no; shown if signage.languages has en or zh
func testContent() checklist.Content {
	langs := options("en", "zh", "none")
	langs[2].Exclusive = true
	return checklist.Content{
		Title:       checklist.Text{Ja: "サービス品質点検", En: "Service quality inspection"},
		Description: ja("テスト用"),
		Sections: []checklist.Section{
			{Key: "signage", Title: checklist.Text{Ja: "案内表示", En: "Signage"}, Items: []checklist.Item{
				{
					Key: "signage.entrance", Text: checklist.Text{Ja: "入口に案内表示がある", En: "There is a sign at the entrance"},
					Guidance: ja("外から確認する"), Type: checklist.TypeYesNo, AllowNA: true, Required: true, Points: 2,
					FailRule: &checklist.FailRule{Answer: "no"}, FailedNeedsComment: true, FailedNeedsPhoto: true,
				},
				{
					Key: "signage.clarity", Text: ja("案内の分かりやすさ"), Type: checklist.TypeRating, Scale: scale(5),
					Required: true, Points: 4, FailRule: &checklist.FailRule{AtOrBelow: 2}, FailedNeedsComment: true,
				},
				{
					Key: "signage.languages", Text: ja("併記している言語"), Type: checklist.TypeMultiChoice, Options: langs,
					Required: true, Points: 1, FailRule: &checklist.FailRule{AnyOf: []string{"none"}},
				},
			}},
			{Key: "flyers", Title: ja("チラシ"), Items: []checklist.Item{
				{
					Key: "flyers.expired", Text: ja("期限切れのチラシの種類数"), Type: checklist.TypeNumber,
					Number:   &checklist.NumberSpec{Unit: checklist.Text{Ja: "種類", En: "kinds"}, Min: fptr(0), Max: fptr(100), Integer: true},
					Required: true, Points: 3, FailRule: &checklist.FailRule{Min: fptr(0), Max: fptr(0)}, FailedNeedsPhoto: true,
				},
				{
					Key: "flyers.channel", Text: ja("配布方法"), Type: checklist.TypeSingleChoice, Options: options("a", "b", "c"),
					Points: 1, FailRule: &checklist.FailRule{AnyOf: []string{"c"}},
					ShowIf: &checklist.ShowIf{Item: "signage.entrance", Equals: "yes"},
				},
				{Key: "flyers.note", Text: ja("気付いた点"), Type: checklist.TypeText},
				{Key: "flyers.photo", Text: ja("ラックの写真"), Type: checklist.TypePhoto},
				{
					Key: "flyers.rack", Text: ja("外国語のチラシがある"), Type: checklist.TypeYesNo, Points: 1,
					FailRule: &checklist.FailRule{Answer: "no"},
					ShowIf:   &checklist.ShowIf{Item: "signage.languages", In: []string{"en", "zh"}},
				},
			}},
		},
	}
}

// item returns a pointer to sections[s].items[i] of c for mutation.
func item(c *checklist.Content, s, i int) *checklist.Item { return &c.Sections[s].Items[i] }

// fieldErrors returns the field errors of an EInvalid error, failing the
// test for any other error.
func fieldErrors(t *testing.T, err error) []checklist.FieldError {
	t.Helper()
	if err == nil {
		t.Fatal("error = nil, want an invalid error")
	}
	var e *checklist.Error
	if !errors.As(err, &e) || e.Code != checklist.EInvalid {
		t.Fatalf("error = %v, want an *Error with code %s", err, checklist.EInvalid)
	}
	return e.Fields
}

func describe(fields []checklist.FieldError) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "\n\t%s %s: %s", f.Field, f.Code, f.Message)
	}
	return b.String()
}

func TestTestContentIsValid(t *testing.T) {
	if err := testContent().Validate(); err != nil {
		t.Fatalf("Validate() = %v%s", err, describe(fieldErrors(t, err)))
	}
}

// validationCases holds one authoring mistake per case and the only field
// error it must produce.
var validationCases = []struct {
	name   string
	mutate func(c *checklist.Content)
	field  string
	code   string
}{
	{"ErrTitleRequired", func(c *checklist.Content) { c.Title = checklist.Text{} },
		"title.ja", checklist.CodeRequired},
	{"ErrEnglishWithoutJapanese", func(c *checklist.Content) { c.Description = checklist.Text{En: "For tests"} },
		"description.ja", checklist.CodeRequired},
	{"ErrNoSections", func(c *checklist.Content) { c.Sections = nil },
		"sections", checklist.CodeRequired},
	{"ErrTooManySections", func(c *checklist.Content) {
		for i := len(c.Sections); i <= checklist.MaxSections; i++ {
			c.Sections = append(c.Sections, checklist.Section{Key: fmt.Sprintf("s%d", i), Title: ja("節"), Items: []checklist.Item{
				{Key: fmt.Sprintf("s%d.q", i), Text: ja("質問"), Type: checklist.TypeText},
			}})
		}
	}, "sections", checklist.CodeTooMany},
	{"ErrTooManyItems", func(c *checklist.Content) {
		for i := len(c.Items()); i <= checklist.MaxItems; i++ {
			c.Sections[1].Items = append(c.Sections[1].Items, checklist.Item{Key: fmt.Sprintf("q%d", i), Text: ja("質問"), Type: checklist.TypeText})
		}
	}, "sections", checklist.CodeTooMany},
	{"ErrSectionKeyRequired", func(c *checklist.Content) { c.Sections[1].Key = "" },
		"sections[1].key", checklist.CodeRequired},
	{"ErrSectionKeyDuplicate", func(c *checklist.Content) { c.Sections[1].Key = "signage" },
		"sections[1].key", checklist.CodeDuplicateKey},
	{"ErrSectionBadKey", func(c *checklist.Content) { c.Sections[1].Key = "Flyers" },
		"sections[1].key", checklist.CodeBadKey},
	{"ErrSectionTitleRequired", func(c *checklist.Content) { c.Sections[0].Title.Ja = "" },
		"sections[0].title.ja", checklist.CodeRequired},
	{"ErrEmptySection", func(c *checklist.Content) { c.Sections[1].Items = nil },
		"sections[1].items", checklist.CodeEmptySection},
	{"ErrItemKeyRequired", func(c *checklist.Content) { item(c, 1, 2).Key = "" },
		"sections[1].items[2].key", checklist.CodeRequired},
	{"ErrBadKey", func(c *checklist.Content) { item(c, 0, 1).Key = "signage clarity" },
		"sections[0].items[1].key", checklist.CodeBadKey},
	{"ErrBadKeyEdge", func(c *checklist.Content) { item(c, 0, 1).Key = "signage.clarity." },
		"sections[0].items[1].key", checklist.CodeBadKey},
	{"ErrKeyTooLong", func(c *checklist.Content) { item(c, 0, 1).Key = strings.Repeat("k", checklist.MaxKeyLen+1) },
		"sections[0].items[1].key", checklist.CodeTooLong},
	{"ErrDuplicateKey", func(c *checklist.Content) { item(c, 1, 2).Key = "signage.clarity" },
		"sections[1].items[2].key", checklist.CodeDuplicateKey},
	{"ErrTextRequired", func(c *checklist.Content) { item(c, 0, 0).Text = checklist.Text{Ja: " \n ", En: "Sign"} },
		"sections[0].items[0].text.ja", checklist.CodeRequired},
	{"ErrGuidanceEnglishOnly", func(c *checklist.Content) { item(c, 0, 0).Guidance = checklist.Text{En: "Look from outside"} },
		"sections[0].items[0].guidance.ja", checklist.CodeRequired},
	{"ErrTextTooLong", func(c *checklist.Content) { item(c, 0, 0).Text.Ja = strings.Repeat("あ", checklist.MaxTextLen+1) },
		"sections[0].items[0].text.ja", checklist.CodeTooLong},
	{"ErrTextControlCharacter", func(c *checklist.Content) { item(c, 0, 0).Text.En = "Sign\x00" },
		"sections[0].items[0].text.en", checklist.CodeBadText},
	{"ErrTextCarriageReturn", func(c *checklist.Content) { item(c, 0, 0).Guidance.Ja = "一行目\r\n二行目" },
		"sections[0].items[0].guidance.ja", checklist.CodeBadText},
	{"ErrTextNotUTF8", func(c *checklist.Content) { c.Title.Ja = "\xff点検" },
		"title.ja", checklist.CodeBadText},
	{"ErrTypeRequired", func(c *checklist.Content) { item(c, 1, 2).Type = "" },
		"sections[1].items[2].type", checklist.CodeRequired},
	{"ErrUnknownType", func(c *checklist.Content) { item(c, 1, 2).Type = "checkbox" },
		"sections[1].items[2].type", checklist.CodeUnknownType},
	{"ErrAllowNANotForType", func(c *checklist.Content) { item(c, 0, 1).AllowNA = true },
		"sections[0].items[1].allow_na", checklist.CodeNotForType},
	{"ErrOptionsNotForType", func(c *checklist.Content) { item(c, 0, 0).Options = options("x", "y") },
		"sections[0].items[0].options", checklist.CodeNotForType},
	{"ErrScaleNotForType", func(c *checklist.Content) { item(c, 1, 0).Scale = scale(3) },
		"sections[1].items[0].scale", checklist.CodeNotForType},
	{"ErrNumberNotForType", func(c *checklist.Content) { item(c, 1, 2).Number = &checklist.NumberSpec{} },
		"sections[1].items[2].number", checklist.CodeNotForType},
	{"ErrExclusiveNotForType", func(c *checklist.Content) { item(c, 1, 1).Options[0].Exclusive = true },
		"sections[1].items[1].options[0].exclusive", checklist.CodeNotForType},
	{"ErrRatingScaleTooShort", func(c *checklist.Content) { item(c, 0, 1).Scale = scale(1) },
		"sections[0].items[1].scale", checklist.CodeRatingScale},
	{"ErrRatingScaleTooLong", func(c *checklist.Content) { item(c, 0, 1).Scale = scale(checklist.MaxScale + 1) },
		"sections[0].items[1].scale", checklist.CodeRatingScale},
	{"ErrScaleLabelRequired", func(c *checklist.Content) { item(c, 0, 1).Scale[2] = checklist.Text{} },
		"sections[0].items[1].scale[2].ja", checklist.CodeRequired},
	{"ErrNoOptions", func(c *checklist.Content) {
		it := item(c, 1, 1)
		it.Options, it.FailRule, it.Points = nil, nil, 0
	}, "sections[1].items[1].options", checklist.CodeNoOptions},
	{"ErrTooFewOptions", func(c *checklist.Content) { item(c, 1, 1).Options = options("c") },
		"sections[1].items[1].options", checklist.CodeTooFewOptions},
	{"ErrTooManyOptions", func(c *checklist.Content) {
		it := item(c, 1, 1)
		for i := len(it.Options); i <= checklist.MaxOptions; i++ {
			it.Options = append(it.Options, options(fmt.Sprintf("o%d", i))...)
		}
	}, "sections[1].items[1].options", checklist.CodeTooMany},
	{"ErrDuplicateOption", func(c *checklist.Content) { item(c, 1, 1).Options[1].Key = "a" },
		"sections[1].items[1].options[1].key", checklist.CodeDuplicateOption},
	{"ErrOptionBadKey", func(c *checklist.Content) { item(c, 1, 1).Options[1].Key = "B" },
		"sections[1].items[1].options[1].key", checklist.CodeBadKey},
	{"ErrOptionLabelRequired", func(c *checklist.Content) { item(c, 1, 1).Options[1].Label = checklist.Text{} },
		"sections[1].items[1].options[1].label.ja", checklist.CodeRequired},
	{"ErrNumberMinGreaterThanMax", func(c *checklist.Content) { item(c, 1, 0).Number.Min = fptr(200) },
		"sections[1].items[0].number.min", checklist.CodeMinGreaterThanMax},
	{"ErrNumberNotFinite", func(c *checklist.Content) { item(c, 1, 0).Number.Max = fptr(math.Inf(1)) },
		"sections[1].items[0].number.max", checklist.CodeNotFinite},
	{"ErrNumberBoundNotInteger", func(c *checklist.Content) { item(c, 1, 0).Number.Max = fptr(99.5) },
		"sections[1].items[0].number.max", checklist.CodeNotInteger},
	{"ErrNegativePoints", func(c *checklist.Content) { item(c, 0, 0).Points = -1 },
		"sections[0].items[0].points", checklist.CodeNegativePoints},
	{"ErrPointsNotFinite", func(c *checklist.Content) { item(c, 0, 0).Points = math.NaN() },
		"sections[0].items[0].points", checklist.CodeNotFinite},
	{"ErrPointsTooLarge", func(c *checklist.Content) { item(c, 0, 0).Points = checklist.MaxPoints + 1 },
		"sections[0].items[0].points", checklist.CodeTooLarge},
	{"ErrPointsNotScored", func(c *checklist.Content) { item(c, 1, 2).Points = 1 },
		"sections[1].items[2].points", checklist.CodePointsNotScored},
	{"ErrPointsWithoutFailRule", func(c *checklist.Content) { item(c, 1, 4).FailRule = nil },
		"sections[1].items[4].points", checklist.CodePointsWithoutRule},
	{"ErrFailRuleOnText", func(c *checklist.Content) { item(c, 1, 2).FailRule = &checklist.FailRule{Answer: "no"} },
		"sections[1].items[2].fail_rule", checklist.CodeFailRuleTypeMismatch},
	{"ErrFailRuleTypeMismatch", func(c *checklist.Content) { item(c, 1, 4).FailRule = &checklist.FailRule{AtOrBelow: 2} },
		"sections[1].items[4].fail_rule.at_or_below", checklist.CodeFailRuleTypeMismatch},
	{"ErrFailRuleExtraField", func(c *checklist.Content) { item(c, 1, 0).FailRule.AnyOf = []string{"x"} },
		"sections[1].items[0].fail_rule.any_of", checklist.CodeFailRuleTypeMismatch},
	{"ErrFailRuleEmpty", func(c *checklist.Content) { item(c, 1, 4).FailRule = &checklist.FailRule{} },
		"sections[1].items[4].fail_rule", checklist.CodeFailRuleEmpty},
	{"ErrFailRuleAnswer", func(c *checklist.Content) { item(c, 1, 4).FailRule.Answer = "na" },
		"sections[1].items[4].fail_rule.answer", checklist.CodeBadValue},
	{"ErrThresholdTooHigh", func(c *checklist.Content) { item(c, 0, 1).FailRule.AtOrBelow = 5 },
		"sections[0].items[1].fail_rule.at_or_below", checklist.CodeThresholdOutOfRange},
	{"ErrThresholdNegative", func(c *checklist.Content) { item(c, 0, 1).FailRule.AtOrBelow = -1 },
		"sections[0].items[1].fail_rule.at_or_below", checklist.CodeThresholdOutOfRange},
	{"ErrFailRuleUnknownOption", func(c *checklist.Content) { item(c, 0, 2).FailRule.AnyOf = []string{"fr"} },
		"sections[0].items[2].fail_rule.any_of[0]", checklist.CodeUnknownOption},
	{"ErrFailRuleDuplicateOption", func(c *checklist.Content) { item(c, 0, 2).FailRule.AnyOf = []string{"none", "none"} },
		"sections[0].items[2].fail_rule.any_of[1]", checklist.CodeDuplicate},
	{"ErrFailRuleAlwaysChoice", func(c *checklist.Content) { item(c, 0, 2).FailRule.AnyOf = []string{"zh", "none", "en"} },
		"sections[0].items[2].fail_rule.any_of", checklist.CodeFailRuleAlways},
	{"ErrFailRuleAlwaysNumber", func(c *checklist.Content) { item(c, 1, 0).FailRule = &checklist.FailRule{Min: fptr(200)} },
		"sections[1].items[0].fail_rule", checklist.CodeFailRuleAlways},
	{"ErrFailRuleNeverNumber", func(c *checklist.Content) { item(c, 1, 0).FailRule = &checklist.FailRule{Max: fptr(100)} },
		"sections[1].items[0].fail_rule", checklist.CodeFailRuleNever},
	{"ErrFailRuleMinGreaterThanMax", func(c *checklist.Content) { item(c, 1, 0).FailRule = &checklist.FailRule{Min: fptr(5), Max: fptr(1)} },
		"sections[1].items[0].fail_rule.min", checklist.CodeMinGreaterThanMax},
	{"ErrFailRuleNotFinite", func(c *checklist.Content) { item(c, 1, 0).FailRule.Max = fptr(math.NaN()) },
		"sections[1].items[0].fail_rule.max", checklist.CodeNotFinite},
	{"ErrNeedsCommentWithoutFailRule", func(c *checklist.Content) { item(c, 1, 2).FailedNeedsComment = true },
		"sections[1].items[2].failed_needs_comment", checklist.CodeNoFailRule},
	{"ErrNeedsPhotoWithoutFailRule", func(c *checklist.Content) {
		it := item(c, 0, 1)
		it.FailRule, it.FailedNeedsComment, it.FailedNeedsPhoto = nil, false, true
	}, "sections[0].items[1].failed_needs_photo", checklist.CodeNoFailRule},
	{"ErrPhotoRuleOnPhoto", func(c *checklist.Content) { item(c, 1, 3).FailedNeedsPhoto = true },
		"sections[1].items[3].failed_needs_photo", checklist.CodePhotoRuleOnPhoto},
	{"ErrShowIfItemRequired", func(c *checklist.Content) { item(c, 1, 1).ShowIf.Item = "" },
		"sections[1].items[1].show_if.item", checklist.CodeRequired},
	{"ErrShowIfUnknown", func(c *checklist.Content) { item(c, 1, 1).ShowIf.Item = "signage.exit" },
		"sections[1].items[1].show_if.item", checklist.CodeShowIfUnknown},
	{"ErrShowIfForward", func(c *checklist.Content) {
		item(c, 0, 1).ShowIf = &checklist.ShowIf{Item: "flyers.rack", Equals: "yes"}
	}, "sections[0].items[1].show_if.item", checklist.CodeShowIfForward},
	{"ErrShowIfSelf", func(c *checklist.Content) { item(c, 1, 1).ShowIf.Item = "flyers.channel" },
		"sections[1].items[1].show_if.item", checklist.CodeShowIfSelf},
	{"ErrShowIfTargetType", func(c *checklist.Content) {
		item(c, 1, 1).ShowIf = &checklist.ShowIf{Item: "flyers.expired", Equals: "0"}
	}, "sections[1].items[1].show_if.item", checklist.CodeShowIfTargetType},
	{"ErrShowIfNoValue", func(c *checklist.Content) { item(c, 1, 1).ShowIf.Equals = "" },
		"sections[1].items[1].show_if", checklist.CodeShowIfValue},
	{"ErrShowIfEqualsAndIn", func(c *checklist.Content) { item(c, 1, 1).ShowIf.In = []string{"no"} },
		"sections[1].items[1].show_if", checklist.CodeShowIfValue},
	{"ErrShowIfYesNoValue", func(c *checklist.Content) { item(c, 1, 1).ShowIf.Equals = "true" },
		"sections[1].items[1].show_if.equals", checklist.CodeShowIfValue},
	{"ErrShowIfNAWithoutAllowNA", func(c *checklist.Content) {
		item(c, 0, 0).AllowNA = false
		item(c, 1, 1).ShowIf.Equals = "na"
	}, "sections[1].items[1].show_if.equals", checklist.CodeShowIfValue},
	{"ErrShowIfRatingValue", func(c *checklist.Content) {
		item(c, 1, 1).ShowIf = &checklist.ShowIf{Item: "signage.clarity", In: []string{"1", "6"}}
	}, "sections[1].items[1].show_if.in[1]", checklist.CodeShowIfValue},
	{"ErrShowIfOptionValue", func(c *checklist.Content) { item(c, 1, 4).ShowIf.In = []string{"en", "ko"} },
		"sections[1].items[4].show_if.in[1]", checklist.CodeShowIfValue},
	{"ErrShowIfDuplicateValue", func(c *checklist.Content) { item(c, 1, 4).ShowIf.In = []string{"en", "en"} },
		"sections[1].items[4].show_if.in[1]", checklist.CodeDuplicate},
}

func TestValidate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		if err := testContent().Validate(); err != nil {
			t.Fatalf("Validate() = %v%s", err, describe(fieldErrors(t, err)))
		}
	})
	for _, tc := range validationCases {
		t.Run(tc.name, func(t *testing.T) {
			c := testContent()
			tc.mutate(&c)
			fields := fieldErrors(t, c.Validate())
			if len(fields) != 1 || fields[0].Field != tc.field || fields[0].Code != tc.code {
				t.Fatalf("field errors:%s\nwant exactly: %s %s", describe(fields), tc.field, tc.code)
			}
			if fields[0].Message == "" {
				t.Error("the field error has no message")
			}
		})
	}
}

// TestValidateCoversEveryContentCode checks that the table above exercises
// every content code, and that there are at least 25 of them.
func TestValidateCoversEveryContentCode(t *testing.T) {
	contentCodes := []string{
		checklist.CodeRequired, checklist.CodeTooLong, checklist.CodeTooMany, checklist.CodeBadText,
		checklist.CodeNotFinite, checklist.CodeNotInteger, checklist.CodeUnknownOption, checklist.CodeDuplicate,
		checklist.CodeBadValue, checklist.CodeBadKey, checklist.CodeDuplicateKey, checklist.CodeEmptySection,
		checklist.CodeUnknownType, checklist.CodeNotForType, checklist.CodeRatingScale, checklist.CodeNoOptions,
		checklist.CodeTooFewOptions, checklist.CodeDuplicateOption, checklist.CodeMinGreaterThanMax,
		checklist.CodeNegativePoints, checklist.CodeTooLarge, checklist.CodePointsNotScored,
		checklist.CodePointsWithoutRule, checklist.CodeFailRuleEmpty, checklist.CodeFailRuleTypeMismatch,
		checklist.CodeThresholdOutOfRange, checklist.CodeFailRuleAlways, checklist.CodeFailRuleNever,
		checklist.CodeNoFailRule, checklist.CodePhotoRuleOnPhoto, checklist.CodeShowIfUnknown,
		checklist.CodeShowIfForward, checklist.CodeShowIfSelf, checklist.CodeShowIfValue, checklist.CodeShowIfTargetType,
	}
	covered := map[string]bool{}
	for _, tc := range validationCases {
		covered[tc.code] = true
	}
	for _, code := range contentCodes {
		if !covered[code] {
			t.Errorf("no validation case for code %s", code)
		}
	}
	if len(covered) < 25 {
		t.Errorf("%d distinct codes covered, want at least 25", len(covered))
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := testContent()
	c.Title.Ja = ""
	item(&c, 0, 0).Key = "signage.clarity"                                              // items[1] now repeats it, and flyers.channel's show_if now names nothing
	item(&c, 0, 1).FailRule.AtOrBelow = 9                                               // out of range
	item(&c, 0, 2).Options[1].Key = "en"                                                // duplicate option
	item(&c, 1, 0).Number.Min = fptr(500)                                               // min > max
	item(&c, 1, 2).Type = "essay"                                                       // unknown type
	item(&c, 1, 3).FailedNeedsPhoto = true                                              // photo rule on photo
	item(&c, 1, 4).ShowIf = &checklist.ShowIf{Item: "flyers.rack", In: []string{"yes"}} // self
	c.Sections = append(c.Sections, checklist.Section{Key: "empty", Title: ja("空")})

	want := []string{
		"title.ja required",
		"sections[0].items[1].key duplicate_key", // the later of the two
		"sections[0].items[1].fail_rule.at_or_below threshold_out_of_range",
		"sections[0].items[2].options[1].key duplicate_option",
		"sections[1].items[0].number.min min_gt_max",
		"sections[1].items[1].show_if.item show_if_unknown",
		"sections[1].items[2].type unknown_type",
		"sections[1].items[3].failed_needs_photo photo_rule_on_photo",
		"sections[1].items[4].show_if.item show_if_self",
		"sections[2].items empty_section",
	}
	var got []string
	for _, f := range fieldErrors(t, c.Validate()) {
		got = append(got, f.Field+" "+f.Code)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("field errors:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestValidateDraft(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// An unfinished draft may be saved.
		c := testContent()
		c.Title = checklist.Text{}
		item(&c, 1, 1).Options = nil
		if err := c.ValidateDraft(); err != nil {
			t.Fatalf("ValidateDraft() = %v", err)
		}
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		c := testContent()
		c.Title = checklist.Text{}
		item(&c, 0, 0).Guidance.Ja = strings.Repeat("x", checklist.MaxTextLen+1)
		fields := fieldErrors(t, c.ValidateDraft())
		if len(fields) != 1 || fields[0].Field != "sections[0].items[0].guidance.ja" || fields[0].Code != checklist.CodeTooLong {
			t.Fatalf("field errors:%s", describe(fields))
		}
	})
}

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{
		"flyers.sorted_by_field": true,
		"a":                      true,
		"0-9":                    true,
		"":                       false,
		"Flyers":                 false,
		"_a":                     false,
		"a-":                     false,
		"a b":                    false,
		"案内":                     false,
		strings.Repeat("a", 64):  true,
		strings.Repeat("a", 65):  false,
	} {
		if got := checklist.ValidKey(key); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", key, got, want)
		}
	}
}
