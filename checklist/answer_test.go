package checklist_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"tenken/checklist"
)

// testItem returns the item of testContent with key.
func testItem(t *testing.T, key string) checklist.Item {
	t.Helper()
	it, ok := testContent().Item(key)
	if !ok {
		t.Fatalf("testContent has no item %q", key)
	}
	return it
}

func ans(v checklist.Value) checklist.Answer { return checklist.Answer{Value: v} }

var (
	yes  = checklist.StringValue("yes")
	no   = checklist.StringValue("no")
	na   = checklist.StringValue("na")
	num  = checklist.NumberValue
	str  = checklist.StringValue
	list = checklist.ListValue
)

func TestValueJSON(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       checklist.Value
	}{
		{"Null", `null`, checklist.Value{}},
		{"Bool", `true`, checklist.BoolValue(true)},
		{"String", `"yes"`, yes},
		{"Integer", `4`, num(4)},
		{"Fraction", `-12.5`, num(-12.5)},
		{"List", `["en","zh"]`, list("en", "zh")},
		{"EmptyList", `[]`, list()},
		{"Japanese", `"掲示物が多い"`, str("掲示物が多い")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v checklist.Value
			if err := json.Unmarshal([]byte(tc.json), &v); err != nil {
				t.Fatalf("Unmarshal(%s) = %v", tc.json, err)
			}
			if v.Kind != tc.want.Kind || v.Bool != tc.want.Bool || v.Str != tc.want.Str || v.Num != tc.want.Num || len(v.List) != len(tc.want.List) {
				t.Fatalf("Unmarshal(%s) = %+v, want %+v", tc.json, v, tc.want)
			}
			out, err := json.Marshal(v)
			if err != nil || string(out) != tc.json {
				t.Fatalf("Marshal() = %s, %v; want %s", out, err, tc.json)
			}
		})
	}
	for _, other := range []string{`{"yes":true}`, `[1,2]`, `["a",null,3]`, `1e400`} {
		t.Run("Other"+other, func(t *testing.T) {
			var v checklist.Value
			if err := json.Unmarshal([]byte(other), &v); err != nil || v.Kind != checklist.KindOtherJSON || v.Empty() {
				t.Fatalf("Unmarshal(%s) = %+v, %v; want kind other", other, v, err)
			}
			if _, err := json.Marshal(v); err == nil {
				t.Fatal("Marshal() of an other value succeeded")
			}
		})
	}
	t.Run("ErrSyntax", func(t *testing.T) {
		var a checklist.Answer
		if err := json.Unmarshal([]byte(`{"value": tru}`), &a); err == nil {
			t.Fatal("Unmarshal() of invalid JSON succeeded")
		}
	})
	t.Run("Answer", func(t *testing.T) {
		in := `{"item":"signage.entrance","value":"no","comment":"看板が汚れている","photos":["p1"]}`
		var a checklist.Answer
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(a)
		if string(out) != in {
			t.Fatalf("round trip = %s, want %s", out, in)
		}
		var blank checklist.Answer
		if err := json.Unmarshal([]byte(`{"item":"x"}`), &blank); err != nil || !blank.Value.Empty() {
			t.Fatalf("an answer without value = %+v, %v; want an empty value", blank, err)
		}
	})
}

func TestCheckAnswer(t *testing.T) {
	photoIDs := make([]string, checklist.MaxPhotos+1)
	for i := range photoIDs {
		photoIDs[i] = "p" + strings.Repeat("0", i+1)
	}
	ok := []struct {
		name string
		item string
		a    checklist.Answer
	}{
		{"OK", "signage.entrance", ans(yes)},
		{"OKNo", "signage.entrance", checklist.Answer{Item: "signage.entrance", Value: no, Comment: "なし", Photos: []string{"ab12"}}},
		{"OKNA", "signage.entrance", ans(na)},
		{"OKBool", "signage.entrance", ans(checklist.BoolValue(false))},
		{"OKUnanswered", "signage.entrance", ans(checklist.Value{})},
		{"OKEmptyString", "signage.clarity", ans(str(""))},
		{"OKEmptyList", "signage.languages", ans(list())},
		{"OKRating", "signage.clarity", ans(num(5))},
		{"OKMulti", "signage.languages", ans(list("zh", "en"))},
		{"OKExclusiveAlone", "signage.languages", ans(list("none"))},
		{"OKNumber", "flyers.expired", ans(num(100))},
		{"OKChoice", "flyers.channel", ans(str("c"))},
		{"OKText", "flyers.note", ans(str("ラックが\n見づらい"))},
		{"OKPhoto", "flyers.photo", ans(list("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "img_2.jpg"))},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if err := testItem(t, tc.item).CheckAnswer(tc.a); err != nil {
				t.Fatalf("CheckAnswer() = %v%s", err, describe(fieldErrors(t, err)))
			}
		})
	}

	bad := []struct {
		name  string
		item  string
		a     checklist.Answer
		field string
		code  string
	}{
		{"ErrKeyMismatch", "signage.entrance", checklist.Answer{Item: "signage.exit", Value: yes}, "item", checklist.CodeKeyMismatch},
		{"ErrYesNoTypeMismatch", "signage.entrance", ans(num(1)), "value", checklist.CodeTypeMismatch},
		{"ErrOtherJSON", "signage.entrance", ans(checklist.Value{Kind: checklist.KindOtherJSON}), "value", checklist.CodeTypeMismatch},
		{"ErrYesNoBadValue", "signage.entrance", ans(str("maybe")), "value", checklist.CodeBadValue},
		{"ErrNANotAllowed", "flyers.rack", ans(na), "value", checklist.CodeNANotAllowed},
		{"ErrRatingTypeMismatch", "signage.clarity", ans(str("5")), "value", checklist.CodeTypeMismatch},
		{"ErrRatingNotInteger", "signage.clarity", ans(num(2.5)), "value", checklist.CodeNotInteger},
		{"ErrRatingTooHigh", "signage.clarity", ans(num(6)), "value", checklist.CodeOutOfRange},
		{"ErrRatingTooLow", "signage.clarity", ans(num(0)), "value", checklist.CodeOutOfRange},
		{"ErrRatingNotFinite", "signage.clarity", ans(num(math.NaN())), "value", checklist.CodeNotFinite},
		{"ErrChoiceTypeMismatch", "flyers.channel", ans(list("a")), "value", checklist.CodeTypeMismatch},
		{"ErrChoiceUnknownOption", "flyers.channel", ans(str("d")), "value", checklist.CodeUnknownOption},
		{"ErrMultiTypeMismatch", "signage.languages", ans(str("en")), "value", checklist.CodeTypeMismatch},
		{"ErrMultiUnknownOption", "signage.languages", ans(list("en", "fr")), "value[1]", checklist.CodeUnknownOption},
		{"ErrMultiDuplicate", "signage.languages", ans(list("en", "en")), "value[1]", checklist.CodeDuplicate},
		{"ErrMultiExclusive", "signage.languages", ans(list("en", "none")), "value[1]", checklist.CodeExclusiveOption},
		{"ErrNumberTypeMismatch", "flyers.expired", ans(str("3")), "value", checklist.CodeTypeMismatch},
		{"ErrNumberTooHigh", "flyers.expired", ans(num(101)), "value", checklist.CodeOutOfRange},
		{"ErrNumberNegative", "flyers.expired", ans(num(-1)), "value", checklist.CodeOutOfRange},
		{"ErrNumberNotInteger", "flyers.expired", ans(num(1.5)), "value", checklist.CodeNotInteger},
		{"ErrNumberNotFinite", "flyers.expired", ans(num(math.Inf(-1))), "value", checklist.CodeNotFinite},
		{"ErrTextTypeMismatch", "flyers.note", ans(checklist.BoolValue(true)), "value", checklist.CodeTypeMismatch},
		{"ErrTextTooLong", "flyers.note", ans(str(strings.Repeat("長", checklist.MaxTextLen+1))), "value", checklist.CodeTooLong},
		{"ErrTextBadText", "flyers.note", ans(str("bell\a")), "value", checklist.CodeBadText},
		{"ErrPhotoTypeMismatch", "flyers.photo", ans(str("p1")), "value", checklist.CodeTypeMismatch},
		{"ErrPhotoBadID", "flyers.photo", ans(list("p1", "../etc/passwd")), "value[1]", checklist.CodeBadPhotoID},
		{"ErrPhotoDuplicate", "flyers.photo", ans(list("p1", "p1")), "value[1]", checklist.CodeDuplicate},
		{"ErrPhotoTooMany", "flyers.photo", ans(list(photoIDs...)), "value", checklist.CodeTooMany},
		{"ErrCommentTooLong", "signage.entrance", checklist.Answer{Value: no, Comment: strings.Repeat("x", checklist.MaxTextLen+1)}, "comment", checklist.CodeTooLong},
		{"ErrAttachmentBadID", "signage.entrance", checklist.Answer{Value: no, Photos: []string{"a b"}}, "photos[0]", checklist.CodeBadPhotoID},
		{"ErrAttachmentsTooMany", "signage.entrance", checklist.Answer{Value: no, Photos: photoIDs}, "photos", checklist.CodeTooMany},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			fields := fieldErrors(t, testItem(t, tc.item).CheckAnswer(tc.a))
			if len(fields) != 1 || fields[0].Field != tc.field || fields[0].Code != tc.code {
				t.Fatalf("field errors:%s\nwant exactly: %s %s", describe(fields), tc.field, tc.code)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	inverted := testItem(t, "flyers.rack")
	inverted.FailRule.Answer = "yes"
	unruled := testItem(t, "signage.clarity")
	unruled.FailRule, unruled.FailedNeedsComment = nil, false
	unruled.Points = 3
	for _, tc := range []struct {
		name string
		item checklist.Item
		a    checklist.Answer
		want checklist.Outcome
	}{
		{"YesNoPass", testItem(t, "signage.entrance"), ans(yes), checklist.Outcome{Answered: true, Points: 2, MaxPoints: 2}},
		{"YesNoFail", testItem(t, "signage.entrance"), ans(no), checklist.Outcome{Answered: true, Failed: true, MaxPoints: 2}},
		{"YesNoBool", testItem(t, "signage.entrance"), ans(checklist.BoolValue(true)), checklist.Outcome{Answered: true, Points: 2, MaxPoints: 2}},
		{"YesNoNA", testItem(t, "signage.entrance"), ans(na), checklist.Outcome{Answered: true, NA: true}},
		{"YesNoInverted", inverted, ans(yes), checklist.Outcome{Answered: true, Failed: true, MaxPoints: 1}},
		{"Unanswered", testItem(t, "signage.entrance"), ans(checklist.Value{}), checklist.Outcome{}},
		{"Refused", testItem(t, "signage.entrance"), ans(str("maybe")), checklist.Outcome{}},
		{"RatingTop", testItem(t, "signage.clarity"), ans(num(5)), checklist.Outcome{Answered: true, Points: 4, MaxPoints: 4}},
		{"RatingMiddle", testItem(t, "signage.clarity"), ans(num(3)), checklist.Outcome{Answered: true, Points: 2, MaxPoints: 4}},
		{"RatingThreshold", testItem(t, "signage.clarity"), ans(num(2)), checklist.Outcome{Answered: true, Failed: true, Points: 1, MaxPoints: 4}},
		{"RatingBottom", testItem(t, "signage.clarity"), ans(num(1)), checklist.Outcome{Answered: true, Failed: true, MaxPoints: 4}},
		{"RatingWithoutRule", unruled, ans(num(1)), checklist.Outcome{Answered: true, MaxPoints: 3}},
		{"MultiPass", testItem(t, "signage.languages"), ans(list("en", "zh")), checklist.Outcome{Answered: true, Points: 1, MaxPoints: 1}},
		{"MultiFail", testItem(t, "signage.languages"), ans(list("none")), checklist.Outcome{Answered: true, Failed: true, MaxPoints: 1}},
		{"NumberPass", testItem(t, "flyers.expired"), ans(num(0)), checklist.Outcome{Answered: true, Points: 3, MaxPoints: 3}},
		{"NumberFail", testItem(t, "flyers.expired"), ans(num(2)), checklist.Outcome{Answered: true, Failed: true, MaxPoints: 3}},
		{"ChoicePass", testItem(t, "flyers.channel"), ans(str("a")), checklist.Outcome{Answered: true, Points: 1, MaxPoints: 1}},
		{"ChoiceFail", testItem(t, "flyers.channel"), ans(str("c")), checklist.Outcome{Answered: true, Failed: true, MaxPoints: 1}},
		{"Text", testItem(t, "flyers.note"), ans(str("良い")), checklist.Outcome{Answered: true}},
		{"Photo", testItem(t, "flyers.photo"), ans(list("p1")), checklist.Outcome{Answered: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.item.Evaluate(tc.a); got != tc.want {
				t.Fatalf("Evaluate() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// chainedContent is testContent with two more items: one shown when a
// rating is low, one shown when flyers.channel (itself conditional) is "a".
func chainedContent() checklist.Content {
	c := testContent()
	c.Sections[1].Items = append(c.Sections[1].Items,
		checklist.Item{Key: "flyers.low_clarity", Text: ja("改善を依頼した"), Type: checklist.TypeText,
			ShowIf: &checklist.ShowIf{Item: "signage.clarity", In: []string{"1", "2"}}},
		checklist.Item{Key: "flyers.channel_a", Text: ja("aの詳細"), Type: checklist.TypeText,
			ShowIf: &checklist.ShowIf{Item: "flyers.channel", Equals: "a"}},
	)
	return c
}

func TestVisible(t *testing.T) {
	c := chainedContent()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	always := map[string]bool{
		"signage.entrance": true, "signage.clarity": true, "signage.languages": true,
		"flyers.expired": true, "flyers.note": true, "flyers.photo": true,
	}
	for _, tc := range []struct {
		name    string
		answers map[string]checklist.Answer
		visible []string // besides the items without show-if
	}{
		{"NoAnswers", nil, nil},
		{"YesNoMatch", map[string]checklist.Answer{"signage.entrance": ans(yes)}, []string{"flyers.channel"}},
		{"YesNoBoolMatch", map[string]checklist.Answer{"signage.entrance": ans(checklist.BoolValue(true))}, []string{"flyers.channel"}},
		{"YesNoNoMatch", map[string]checklist.Answer{"signage.entrance": ans(no)}, nil},
		{"YesNoNA", map[string]checklist.Answer{"signage.entrance": ans(na)}, nil},
		{"MultiMatch", map[string]checklist.Answer{"signage.languages": ans(list("zh"))}, []string{"flyers.rack"}},
		{"MultiNoMatch", map[string]checklist.Answer{"signage.languages": ans(list("none"))}, nil},
		{"InvalidAnswerMatchesNothing", map[string]checklist.Answer{"signage.languages": ans(list("zh", "zh"))}, nil},
		{"RatingMatch", map[string]checklist.Answer{"signage.clarity": ans(num(2))}, []string{"flyers.low_clarity"}},
		{"RatingNoMatch", map[string]checklist.Answer{"signage.clarity": ans(num(3))}, nil},
		{"Chain", map[string]checklist.Answer{"signage.entrance": ans(yes), "flyers.channel": ans(str("a"))},
			[]string{"flyers.channel", "flyers.channel_a"}},
		{"ChainBroken", map[string]checklist.Answer{"signage.entrance": ans(no), "flyers.channel": ans(str("a"))}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]bool{"flyers.channel": false, "flyers.rack": false, "flyers.low_clarity": false, "flyers.channel_a": false}
			for k := range always {
				want[k] = true
			}
			for _, k := range tc.visible {
				want[k] = true
			}
			if got := c.Visible(tc.answers); !reflect.DeepEqual(got, want) {
				t.Fatalf("Visible() = %v, want %v", got, want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	c := testContent()
	t.Run("OK", func(t *testing.T) {
		s := c.Score(map[string]checklist.Answer{
			"signage.entrance":  ans(yes),          // 2 of 2
			"signage.clarity":   ans(num(2)),       // 1 of 4, failed
			"signage.languages": ans(list("none")), // 0 of 1, failed
			"flyers.expired":    ans(num(3)),       // 0 of 3, failed
			"flyers.channel":    ans(str("a")),     // 1 of 1 (shown: entrance is yes)
			"flyers.note":       ans(str("メモ")),    // not scored
			"flyers.rack":       ans(no),           // hidden (languages is none): ignored
			"no.such.item":      ans(yes),          // ignored
		})
		want := checklist.Score{
			Points: 4, MaxPoints: 11, Percent: fptr(400.0 / 11),
			Failed: []string{"signage.clarity", "signage.languages", "flyers.expired"},
			Sections: []checklist.SectionScore{
				{Key: "signage", Points: 3, MaxPoints: 7, Percent: fptr(300.0 / 7), Failed: []string{"signage.clarity", "signage.languages"}},
				{Key: "flyers", Points: 1, MaxPoints: 4, Percent: fptr(25), Failed: []string{"flyers.expired"}},
			},
		}
		if !reflect.DeepEqual(s, want) {
			got, _ := json.Marshal(s)
			w, _ := json.Marshal(want)
			t.Fatalf("Score() = %s\nwant %s", got, w)
		}
	})
	t.Run("NACountsNothing", func(t *testing.T) {
		s := c.Score(map[string]checklist.Answer{"signage.entrance": ans(na), "flyers.expired": ans(num(0))})
		if s.Points != 3 || s.MaxPoints != 3 || *s.Percent != 100 || len(s.Failed) != 0 {
			t.Fatalf("Score() = %+v, want 3 of 3, 100%%, no findings", s)
		}
	})
	t.Run("NothingAtStake", func(t *testing.T) {
		s := c.Score(nil)
		if s.MaxPoints != 0 || s.Percent != nil || s.Sections[0].Percent != nil {
			t.Fatalf("Score(nil) = %+v, want no percentages", s)
		}
		if out, _ := json.Marshal(s); !strings.Contains(string(out), `"percent":null`) || !strings.Contains(string(out), `"failed":[]`) {
			t.Fatalf("JSON = %s, want null percent and empty failed lists", out)
		}
	})
}

func TestCheckAnswers(t *testing.T) {
	c := testContent()
	for _, tc := range []struct {
		name    string
		answers map[string]checklist.Answer
		want    []string // "field code"
	}{
		{"OK", map[string]checklist.Answer{"signage.entrance": ans(no), "flyers.note": ans(str("途中"))}, nil},
		{"OKHiddenBlank", map[string]checklist.Answer{"flyers.rack": {}}, nil},
		{"ErrUnknownItem", map[string]checklist.Answer{"signage.exit": ans(yes), "a b": ans(yes)},
			[]string{`answers["a b"] unknown_item`, "answers[signage.exit] unknown_item"}},
		{"ErrHidden", map[string]checklist.Answer{"signage.languages": ans(list("none")), "flyers.rack": ans(yes)},
			[]string{"answers[flyers.rack] hidden"}},
		{"ErrHiddenComment", map[string]checklist.Answer{"flyers.rack": {Comment: "?"}},
			[]string{"answers[flyers.rack] hidden"}},
		{"ErrValues", map[string]checklist.Answer{
			"flyers.expired":   ans(num(101)),
			"signage.entrance": {Item: "x", Value: str("y")},
		}, []string{
			"answers[signage.entrance].item key_mismatch",
			"answers[signage.entrance].value bad_value",
			"answers[flyers.expired].value out_of_range",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFields(t, c.CheckAnswers(tc.answers), tc.want)
		})
	}
}

func TestCheckSubmit(t *testing.T) {
	complete := func() map[string]checklist.Answer {
		return map[string]checklist.Answer{
			"signage.entrance":  ans(yes),
			"signage.clarity":   ans(num(4)),
			"signage.languages": ans(list("en")),
			"flyers.expired":    ans(num(0)),
		}
	}
	with := func(changes map[string]checklist.Answer) map[string]checklist.Answer {
		a := complete()
		for k, v := range changes {
			a[k] = v
		}
		return a
	}
	c := testContent()
	for _, tc := range []struct {
		name    string
		answers map[string]checklist.Answer
		want    []string
	}{
		{"OK", complete(), nil},
		{"OKFailedWithEvidence", with(map[string]checklist.Answer{
			"signage.entrance": {Value: no, Comment: "看板が破損", Photos: []string{"p1"}},
			"signage.clarity":  {Value: num(1), Comment: "分かりにくい"},
			"flyers.expired":   {Value: num(4), Photos: []string{"p2"}},
		}), nil},
		{"OKNA", with(map[string]checklist.Answer{"signage.entrance": ans(na)}), nil},
		{"ErrRequired", nil, []string{
			"answers[signage.entrance].value required",
			"answers[signage.clarity].value required",
			"answers[signage.languages].value required",
			"answers[flyers.expired].value required",
		}},
		{"ErrRequiredEmptyValues", with(map[string]checklist.Answer{
			"signage.languages": ans(list()),
			"signage.clarity":   {Comment: "未確認"},
		}), []string{
			"answers[signage.clarity].value required",
			"answers[signage.languages].value required",
		}},
		{"ErrCommentAndPhotoRequired", with(map[string]checklist.Answer{"signage.entrance": ans(no)}), []string{
			"answers[signage.entrance].comment comment_required",
			"answers[signage.entrance].photos photo_required",
		}},
		{"ErrBlankComment", with(map[string]checklist.Answer{"signage.clarity": {Value: num(2), Comment: " \n"}}), []string{
			"answers[signage.clarity].comment comment_required",
		}},
		{"ErrPhotoRequired", with(map[string]checklist.Answer{"flyers.expired": {Value: num(1), Comment: "1種類"}}), []string{
			"answers[flyers.expired].photos photo_required",
		}},
		{"ErrInvalidValueNotAlsoRequired", with(map[string]checklist.Answer{"flyers.expired": ans(str("0"))}), []string{
			"answers[flyers.expired].value type_mismatch",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFields(t, c.CheckSubmit(tc.answers), tc.want)
		})
	}
	t.Run("OKHiddenRequiredItem", func(t *testing.T) {
		c := testContent()
		item(&c, 1, 1).Required = true // flyers.channel, shown only when the entrance sign is there
		a := with(map[string]checklist.Answer{"signage.entrance": {Value: no, Comment: "なし", Photos: []string{"p1"}}})
		if err := c.CheckSubmit(a); err != nil {
			t.Fatalf("CheckSubmit() = %v", err)
		}
		a["signage.entrance"] = ans(yes)
		checkFields(t, c.CheckSubmit(a), []string{"answers[flyers.channel].value required"})
	})
}

// checkFields asserts that err lists exactly want ("field code"), in order.
func checkFields(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("error = %v%s", err, describe(fieldErrors(t, err)))
		}
		return
	}
	var got []string
	for _, f := range fieldErrors(t, err) {
		got = append(got, f.Field+" "+f.Code)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("field errors:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		item string
		in   checklist.Value
		want checklist.Value
	}{
		{"BoolYes", "signage.entrance", checklist.BoolValue(true), yes},
		{"BoolNo", "signage.entrance", checklist.BoolValue(false), no},
		{"StringUnchanged", "signage.entrance", na, na},
		{"OptionOrder", "signage.languages", list("none", "zh", "en"), list("en", "zh", "none")},
		{"UnknownLast", "signage.languages", list("fr", "zh"), list("zh", "fr")},
		{"Number", "flyers.expired", num(2), num(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := testItem(t, tc.item).Normalize(ans(tc.in)).Value
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Normalize() = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("DoesNotAlias", func(t *testing.T) {
		in := list("zh", "en")
		testItem(t, "signage.languages").Normalize(ans(in))
		if in.List[0] != "zh" {
			t.Fatal("Normalize reordered the caller's list")
		}
	})
}
