package checklistfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

// small is a valid file. Its lines, for the error tests:
//
//	 7  - key: flyers.sorted
//	11    points: 2
//	12    fail_rule: {answer: "no"}
//	13  - key: flyers.expired
const small = `format: tenken-checklist/1
title: {ja: 点検, en: Inspection}
sections:
  - key: flyers
    title: {ja: チラシ}
    items:
      - key: flyers.sorted
        text: {ja: 分野別に配架されている}
        type: yes_no
        required: true
        points: 2
        fail_rule: {answer: "no"}
      - key: flyers.expired
        text: {ja: 期限切れの種類数}
        type: number
        number: {min: 0, integer: true}
        fail_rule: {max: 0}
        points: 1
`

func decodeString(s string) (checklist.Content, error) {
	return checklistfile.Decode(strings.NewReader(s))
}

func TestDecode(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c, err := decodeString(small)
		if err != nil {
			t.Fatalf("Decode() = %v", err)
		}
		it, _ := c.Item("flyers.expired")
		if c.Title.En != "Inspection" || it.Number == nil || *it.Number.Min != 0 || !it.Number.Integer || *it.FailRule.Max != 0 {
			t.Fatalf("Decode() = %+v", c)
		}
	})
	t.Run("OKWithoutFormat", func(t *testing.T) {
		if _, err := decodeString(strings.TrimPrefix(small, "format: tenken-checklist/1\n")); err != nil {
			t.Fatalf("Decode() = %v", err)
		}
	})
	t.Run("OKNullsAndAliases", func(t *testing.T) {
		s := strings.Replace(small, "title: {ja: チラシ}", "title: &t {ja: チラシ}\n    description:", 1)
		s = strings.Replace(s, "text: {ja: 期限切れの種類数}", "text: *t\n        guidance: ~", 1)
		s = strings.Replace(s, "    description:\n", "", 1)
		c, err := decodeString(s)
		if err != nil {
			t.Fatalf("Decode() = %v", err)
		}
		if it, _ := c.Item("flyers.expired"); it.Text.Ja != "チラシ" {
			t.Fatalf("alias gave %+v", it.Text)
		}
	})

	for _, tc := range []struct {
		name    string
		file    string
		code    checklist.Code
		message string   // part of the error message
		fields  []string // "field code line" of every field error, in order
	}{
		{"ErrEmpty", "", checklist.EBadRequest, "empty", nil},
		{"ErrOnlyComments", "# nothing here\n", checklist.EBadRequest, "empty", nil},
		{"ErrSyntax", small + "  - [unclosed\n", checklist.EBadRequest, "line 18", nil},
		{"ErrTabs", "title:\n\tja: x\n", checklist.EBadRequest, "not valid YAML", nil},
		{"ErrTwoDocuments", small + "---\ntitle: {ja: 二つ目}\n", checklist.EBadRequest, "more than one", nil},
		{"ErrNotAMapping", "- a\n- b\n", checklist.EBadRequest, "not a checklist",
			[]string{" type line 1"}},
		{"ErrUnknownField", strings.Replace(small, "fail_rule: {answer", "fial_rule: {answer", 1), checklist.EBadRequest, "unknown",
			[]string{`sections[0].items[0].fial_rule unknown line 12: unknown field "fial_rule" (did you mean "fail_rule"?)`}},
		{"ErrUnknownTopLevelField", "version: 3\n" + small, checklist.EBadRequest, "",
			[]string{"version unknown line 1"}},
		{"ErrWrongTypeNumber", strings.Replace(small, "points: 2", "points: many", 1), checklist.EBadRequest, "",
			[]string{`sections[0].items[0].points type line 11: sections[0].items[0].points must be a number, not "many"`}},
		{"ErrWrongTypeBool", strings.Replace(small, "required: true", "required: maybe", 1), checklist.EBadRequest, "",
			[]string{"sections[0].items[0].required type line 10"}},
		{"ErrWrongTypeOldBool", strings.Replace(small, "required: true", "required: yes", 1), checklist.EBadRequest, "",
			[]string{"sections[0].items[0].required type line 10: sections[0].items[0].required must be true or false"}},
		{"ErrWrongTypeInteger", strings.Replace(small, "fail_rule: {answer: \"no\"}", "fail_rule: {at_or_below: 2.5}", 1), checklist.EBadRequest, "",
			[]string{"sections[0].items[0].fail_rule.at_or_below type line 12"}},
		{"ErrWrongTypeText", strings.Replace(small, "text: {ja: 分野別に配架されている}", "text: 分野別に配架されている", 1), checklist.EBadRequest, "",
			[]string{"sections[0].items[0].text type line 8"}},
		{"ErrWrongTypeList", strings.Replace(small, "title: {ja: チラシ}", "title: [チラシ]", 1), checklist.EBadRequest, "",
			[]string{"sections[0].title type line 5"}},
		{"ErrDuplicateField", strings.Replace(small, "points: 2\n", "points: 2\n        points: 3\n", 1), checklist.EBadRequest, "",
			[]string{"sections[0].items[0].points duplicate line 12"}},
		{"ErrEveryShapeProblem", strings.Replace(strings.Replace(small, "points: 2", "pionts: 2", 1), "integer: true", "integer: 1.5", 1), checklist.EBadRequest, "",
			[]string{"sections[0].items[0].pionts unknown line 11", "sections[0].items[1].number.integer type line 16"}},
		{"ErrFormat", strings.Replace(small, "tenken-checklist/1", "tenken-checklist/9", 1), checklist.EBadRequest, "format",
			[]string{"format bad_value line 1"}},
		{"ErrInvalid", strings.Replace(small, "type: yes_no", "type: yesno", 1), checklist.EInvalid, "",
			[]string{"sections[0].items[0].type unknown_type line 9"}},
		{"ErrInvalidMissingField", strings.Replace(small, "        text: {ja: 分野別に配架されている}\n", "", 1), checklist.EInvalid, "",
			[]string{"sections[0].items[0].text.ja required line 7"}},
		{"ErrInvalidEveryProblem", strings.Replace(strings.Replace(small, "points: 2", "points: -2", 1), "fail_rule: {max: 0}", "fail_rule: {max: -1}", 1), checklist.EInvalid, "",
			[]string{"sections[0].items[0].points negative_points line 11", "sections[0].items[1].fail_rule fail_rule_always line 17"}},
		{"ErrTooLarge", strings.Repeat("#", checklistfile.MaxFileSize+1), checklist.ETooLarge, "larger", nil},
		{"ErrAliasBomb", aliasBomb(), checklist.EBadRequest, "more than", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeString(tc.file)
			var e *checklist.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("Decode() = %v, want an error with code %s", err, tc.code)
			}
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			if len(e.Fields) != len(tc.fields) {
				t.Fatalf("field errors:%s\nwant %q", describe(e.Fields), tc.fields)
			}
			for i, want := range tc.fields {
				f := e.Fields[i]
				// want is "field code line N[: message]": the message must
				// begin with "line N".
				field, rest, _ := strings.Cut(want, " ")
				code, msg, _ := strings.Cut(rest, " ")
				if f.Field != field || f.Code != code || !strings.HasPrefix(f.Message, msg) {
					t.Errorf("field error %d = %s %s %q, want %s %s %q...", i, f.Field, f.Code, f.Message, field, code, msg)
				}
			}
		})
	}
}

// aliasBomb is a small file whose aliases expand to a billion values.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("title: {ja: 爆弾}\nsections:\n  - &s {key: s, title: {ja: s}, items: [&i {key: i, text: {ja: i}, type: rating, scale: [&t {ja: t}")
	b.WriteString(strings.Repeat(", *t", 999))
	b.WriteString("]}")
	b.WriteString(strings.Repeat(", *i", 999))
	b.WriteString("]}\n")
	b.WriteString(strings.Repeat("  - *s\n", 999))
	return b.String()
}

func describe(fields []checklist.FieldError) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "\n\t%s %s %q", f.Field, f.Code, f.Message)
	}
	return b.String()
}

func TestDecodeDraft(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Unfinished: no title, an item without text.
		s := strings.Replace(small, "title: {ja: 点検, en: Inspection}\n", "", 1)
		s = strings.Replace(s, "        text: {ja: 期限切れの種類数}\n", "", 1)
		if _, err := checklistfile.DecodeDraft(strings.NewReader(s)); err != nil {
			t.Fatalf("DecodeDraft() = %v", err)
		}
	})
	t.Run("ErrUnknownField", func(t *testing.T) {
		_, err := checklistfile.DecodeDraft(strings.NewReader("titel: {ja: x}\n"))
		if checklist.ErrorCode(err) != checklist.EBadRequest {
			t.Fatalf("DecodeDraft() = %v, want %s", err, checklist.EBadRequest)
		}
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		s := strings.Replace(small, "{ja: 点検,", "{ja: "+strings.Repeat("長", checklist.MaxTextLen+1)+",", 1)
		_, err := checklistfile.DecodeDraft(strings.NewReader(s))
		var e *checklist.Error
		if !errors.As(err, &e) || e.Code != checklist.EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "title.ja" || !strings.HasPrefix(e.Fields[0].Message, "line 2: ") {
			t.Fatalf("DecodeDraft() = %v", err)
		}
	})
}

// roundTrip encodes c, decodes it, and checks that the content is equal and
// that encoding it again gives the same bytes.
func roundTrip(t *testing.T, c checklist.Content) {
	t.Helper()
	var first bytes.Buffer
	if err := checklistfile.Encode(&first, c); err != nil {
		t.Fatalf("Encode() = %v", err)
	}
	got, err := checklistfile.Decode(bytes.NewReader(first.Bytes()))
	if err != nil {
		var e *checklist.Error
		errors.As(err, &e)
		t.Fatalf("Decode(Encode(c)) = %v%s\nfile:\n%s", err, describe(e.Fields), first.Bytes())
	}
	if !got.Equal(c) {
		t.Fatalf("Decode(Encode(c)) differs from c\nfile:\n%s", first.Bytes())
	}
	if checklist.ContentHash(got) != checklist.ContentHash(c) {
		t.Fatal("the content hash changed")
	}
	var second bytes.Buffer
	if err := checklistfile.Encode(&second, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("encoding twice gave different files:\n%s\n---\n%s", first.Bytes(), second.Bytes())
	}
}

func TestRoundTrip(t *testing.T) {
	t.Run("Default", func(t *testing.T) { roundTrip(t, checklistfile.Default()) })
	t.Run("Edge", func(t *testing.T) {
		c := checklistfile.Default()
		for i, s := range trickyStrings {
			it := &c.Sections[i%len(c.Sections)].Items[0]
			if strings.TrimSpace(s) != "" {
				it.Text.Ja = s
			}
			it.Text.En = s
			it.Guidance = checklist.Text{Ja: "参考" + s, En: s + s}
		}
		c.Description.Ja = strings.Repeat("長い説明。", checklist.MaxTextLen/5)
		expired := &c.Sections[1].Items[3]
		expired.Number.Min, expired.Number.Max, expired.Number.Integer = ptr(-0.5), ptr(1e21), false
		expired.FailRule.Min, expired.FailRule.Max = ptr(1e-7), ptr(0.1)
		expired.Points = 0.25
		if err := c.Validate(); err != nil {
			t.Fatalf("the edge content is invalid: %v", err)
		}
		roundTrip(t, c)
	})
	t.Run("Generated", func(t *testing.T) {
		for seed := range uint64(100) {
			c := generate(rand.New(rand.NewPCG(seed, 42)))
			if err := c.Validate(); err != nil {
				var e *checklist.Error
				errors.As(err, &e)
				t.Fatalf("seed %d: generated content is invalid: %v%s", seed, err, describe(e.Fields))
			}
			roundTrip(t, c)
		}
	})
}

func ptr(f float64) *float64 { return &f }

// trickyStrings are texts that YAML might misread if written carelessly.
var trickyStrings = []string{
	"no", "yes", "~", "null", "true", "1", "1.0", "-1", "0x1F", "1e3", ".inf", "-", "- item", "a: b", "a:b",
	"#x", "x #y", "'", `"`, "''", `\`, "%", "@", "`", "!", "&a", "*a", "|", ">", "[", "]", "{", "}", ",",
	"?", "---", "...", " ", "  lead", "trail ", "\t", "\n", "a\nb", "a\n\nb", "a \nb", "a\n b", "\n\nlead",
	"trail\n", "trail\n\n", "日本語", "全角　空白", "😀", "\u00a0", "\u2028", "\u2029", "\ufeff", "\u200b", "é",
	"<script>", "&amp;", "tab\tinside", "a\tb\n\tc",
}

// generate returns valid content shaped by r: every answer type and rule,
// show-ifs, tricky texts, keys and numbers.
func generate(r *rand.Rand) checklist.Content {
	text := func(required bool) checklist.Text {
		var t checklist.Text
		if required || r.IntN(3) == 0 {
			t.Ja = randomString(r)
			if strings.TrimSpace(t.Ja) == "" {
				t.Ja = "点検" + t.Ja
			}
		}
		if t.Ja != "" && r.IntN(2) == 0 {
			t.En = randomString(r)
		}
		return t
	}
	keys := []string{"no", "yes", "null", "true", "false", "on", "off", "1", "1.0", "0x1f", "1e3", "0o7", "y", "n", "a-b", "a.b", "a_b", "inf", "nan"}
	numbers := []float64{0, math.Copysign(0, -1), 0.1, 1e-7, 3, -5.5, 123456789.125, 1e9, -1e9}
	points := []float64{0.5, 1, 2, 3.25, 100}

	c := checklist.Content{Title: text(true), Description: text(false)}
	var earlier []checklist.Item
	for s := range 1 + r.IntN(4) {
		sec := checklist.Section{Key: "s" + strconv.Itoa(s), Title: text(true)}
		for i := range 1 + r.IntN(6) {
			it := checklist.Item{
				Key:      fmt.Sprintf("s%d.%s", s, keys[(i+s)%len(keys)]),
				Text:     text(true),
				Guidance: text(false),
				Type:     checklist.AnswerTypes[r.IntN(len(checklist.AnswerTypes))],
				Required: r.IntN(2) == 0,
			}
			rule := r.IntN(3) > 0
			switch it.Type {
			case checklist.TypeYesNo:
				it.AllowNA = r.IntN(2) == 0
				if rule {
					it.FailRule = &checklist.FailRule{Answer: []string{"no", "yes"}[r.IntN(2)]}
				}
			case checklist.TypeRating:
				for range 2 + r.IntN(checklist.MaxScale-1) {
					it.Scale = append(it.Scale, text(true))
				}
				if rule {
					it.FailRule = &checklist.FailRule{AtOrBelow: 1 + r.IntN(len(it.Scale)-1)}
				} else if r.IntN(2) == 0 {
					it.Points = points[r.IntN(len(points))]
				}
			case checklist.TypeSingleChoice, checklist.TypeMultiChoice:
				n := 2 + r.IntN(5)
				for _, k := range r.Perm(len(keys))[:n] {
					it.Options = append(it.Options, checklist.Option{Key: keys[k], Label: text(true)})
				}
				if it.Type == checklist.TypeMultiChoice && r.IntN(2) == 0 {
					it.Options[n-1].Exclusive = true
				}
				if rule {
					it.FailRule = &checklist.FailRule{AnyOf: []string{it.Options[r.IntN(n)].Key}}
				}
			case checklist.TypeNumber:
				spec := &checklist.NumberSpec{Unit: text(false)}
				if r.IntN(2) == 0 {
					spec.Min = ptr(numbers[r.IntN(len(numbers))])
				}
				if r.IntN(2) == 0 {
					spec.Max = ptr(numbers[r.IntN(len(numbers))])
				}
				if spec.Min != nil && spec.Max != nil {
					if *spec.Min > *spec.Max {
						spec.Min, spec.Max = spec.Max, spec.Min
					}
					if *spec.Min == *spec.Max {
						spec.Max = nil
					}
				}
				whole := func(p *float64) bool { return p == nil || *p == math.Trunc(*p) }
				spec.Integer = whole(spec.Min) && whole(spec.Max) && r.IntN(2) == 0
				if r.IntN(4) > 0 {
					it.Number = spec
				}
				if rule {
					switch {
					case spec.Min != nil && spec.Max != nil && it.Number != nil:
						it.FailRule = &checklist.FailRule{Min: ptr(*spec.Min + (*spec.Max-*spec.Min)/2)}
					case spec.Min != nil && it.Number != nil:
						it.FailRule = &checklist.FailRule{Max: ptr(*spec.Min + 1)}
					case spec.Max != nil && it.Number != nil:
						it.FailRule = &checklist.FailRule{Min: ptr(*spec.Max - 1)}
					default:
						it.FailRule = &checklist.FailRule{Max: ptr(0)}
					}
				}
			}
			if it.FailRule != nil {
				it.Points = points[r.IntN(len(points))]
				it.FailedNeedsComment = r.IntN(2) == 0
				it.FailedNeedsPhoto = r.IntN(2) == 0
			}
			if targets := showIfTargets(earlier); len(targets) > 0 && r.IntN(3) == 0 {
				target := targets[r.IntN(len(targets))]
				values := targetValues(target)
				if r.IntN(2) == 0 {
					it.ShowIf = &checklist.ShowIf{Item: target.Key, Equals: values[r.IntN(len(values))]}
				} else {
					r.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
					it.ShowIf = &checklist.ShowIf{Item: target.Key, In: values[:1+r.IntN(len(values))]}
				}
			}
			sec.Items = append(sec.Items, it)
			earlier = append(earlier, it)
		}
		c.Sections = append(c.Sections, sec)
	}
	return c
}

func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(3) {
		if r.IntN(3) == 0 {
			// A random rune from ASCII, Japanese, or beyond the BMP.
			ranges := [][2]rune{{0x20, 0x7e}, {0x3041, 0x3096}, {0x4e00, 0x9fff}, {0x1f300, 0x1f5ff}}
			rg := ranges[r.IntN(len(ranges))]
			b.WriteRune(rg[0] + rune(r.IntN(int(rg[1]-rg[0]+1))))
			continue
		}
		b.WriteString(trickyStrings[r.IntN(len(trickyStrings))])
	}
	return b.String()
}

func showIfTargets(items []checklist.Item) []checklist.Item {
	var out []checklist.Item
	for _, it := range items {
		switch it.Type {
		case checklist.TypeYesNo, checklist.TypeRating, checklist.TypeSingleChoice, checklist.TypeMultiChoice:
			out = append(out, it)
		}
	}
	return out
}

func targetValues(it checklist.Item) []string {
	switch it.Type {
	case checklist.TypeYesNo:
		if it.AllowNA {
			return []string{"yes", "no", "na"}
		}
		return []string{"yes", "no"}
	case checklist.TypeRating:
		var v []string
		for i := range it.Scale {
			v = append(v, strconv.Itoa(i+1))
		}
		return v
	}
	var v []string
	for _, o := range it.Options {
		v = append(v, o.Key)
	}
	return slices.Clone(v)
}

func FuzzDecode(f *testing.F) {
	f.Add(checklistfile.DefaultYAML())
	f.Add([]byte(small))
	var exported bytes.Buffer
	if err := checklistfile.Encode(&exported, generate(rand.New(rand.NewPCG(1, 2)))); err != nil {
		f.Fatal(err)
	}
	f.Add(exported.Bytes())
	for _, s := range []string{
		"",
		"title: {ja: x}\n",
		"- a\n",
		strings.Replace(small, "fail_rule", "fial_rule", 1),
		strings.Replace(small, "points: 2", "points: .nan", 1),
		strings.Replace(small, "type: yes_no", "type: rating\n        scale: [{ja: a}, {ja: b}]", 1),
		"title: &a {ja: x}\nsections: [{key: s, title: *a, items: [{key: i, text: *a, type: text, <<: *a}]}]\n",
		"sections: [{key: s, title: {ja: s}, items: [{key: a, text: {ja: a}, type: yes_no}, {key: b, text: {ja: b}, type: text, show_if: {item: a, equals: 'yes'}}]}]\ntitle: {ja: t}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := checklistfile.Decode(bytes.NewReader(data))
		if err != nil {
			switch code := checklist.ErrorCode(err); code {
			case checklist.EBadRequest, checklist.EInvalid, checklist.ETooLarge:
			default:
				t.Fatalf("Decode() = %v with code %s, want bad_request, invalid or payload_too_large", err, code)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Decode() accepted content that Validate refuses: %v", err)
		}
		roundTrip(t, c)
	})
}

// TestEncodeTexts round-trips every pair of tricky strings as a text.
func TestEncodeTexts(t *testing.T) {
	for _, a := range trickyStrings {
		c := checklist.Content{Title: checklist.Text{Ja: "点検" + a}}
		var items []checklist.Item
		for i, b := range trickyStrings {
			items = append(items, checklist.Item{
				Key:      "i" + strconv.Itoa(i),
				Text:     checklist.Text{Ja: "質問" + b + a, En: a + b},
				Guidance: checklist.Text{Ja: "参考" + a + b, En: b + a},
				Type:     checklist.TypeText,
			})
		}
		c.Sections = []checklist.Section{{Key: "s", Title: checklist.Text{Ja: "節", En: a}, Items: items}}
		roundTrip(t, c)
	}
}
