package app_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

var update = flag.Bool("update", false, "rewrite testdata/rules.json from the server's rules")

// rulesCase is one set of answers with what the server's own code says
// about it: which items apply and what stands before a submit. The app's
// rules.js is held to the same file by test/rules.test.js (node --test).
type rulesCase struct {
	Name     string                      `json:"name"`
	Answers  map[string]checklist.Answer `json:"answers"`
	Visible  []string                    `json:"visible"` // items with show-if that apply
	Problems []rulesProblem              `json:"problems"`
}

type rulesProblem struct {
	Key  string `json:"key"`
	Code string `json:"code"`
}

type rulesFile struct {
	Content checklist.Content `json:"content"`
	Cases   []rulesCase       `json:"cases"`
}

func ans(v checklist.Value) checklist.Answer { return checklist.Answer{Value: v} }

var (
	yes = checklist.StringValue("yes")
	no  = checklist.StringValue("no")
	na  = checklist.StringValue("na")
	str = checklist.StringValue
	num = checklist.NumberValue
	lst = checklist.ListValue
)

// rulesInputs are the answer sets: every show-if shape of the default
// checklist, values the server refuses, and failed answers missing their
// comment or photo.
func rulesInputs() []rulesCase {
	full := map[string]checklist.Answer{}
	for _, it := range checklistfile.Default().Items() {
		switch it.Type {
		case checklist.TypeYesNo:
			full[it.Key] = ans(yes)
		case checklist.TypeRating:
			full[it.Key] = ans(num(4))
		case checklist.TypeSingleChoice, checklist.TypeMultiChoice:
			if it.Type == checklist.TypeSingleChoice {
				full[it.Key] = ans(str(it.Options[0].Key))
			} else {
				full[it.Key] = ans(lst(it.Options[0].Key))
			}
		case checklist.TypeNumber:
			full[it.Key] = ans(num(0))
		case checklist.TypeText:
			full[it.Key] = ans(str("良好"))
		case checklist.TypePhoto:
			full[it.Key] = ans(lst("p1"))
		}
	}
	with := func(base map[string]checklist.Answer, kv ...any) map[string]checklist.Answer {
		out := map[string]checklist.Answer{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
				continue
			}
			out[kv[i].(string)] = kv[i+1].(checklist.Answer)
		}
		return out
	}
	return []rulesCase{
		{Name: "Nothing", Answers: map[string]checklist.Answer{}},
		{Name: "AllFirstChoices", Answers: full},
		{Name: "YesNoBoolean", Answers: map[string]checklist.Answer{"accessibility.upper_floors": ans(checklist.BoolValue(true))}},
		{Name: "YesNoNo", Answers: map[string]checklist.Answer{"accessibility.upper_floors": ans(no)}},
		{Name: "RatingInList", Answers: map[string]checklist.Answer{"cleanliness.toilets": ans(num(2))}},
		{Name: "RatingOutside", Answers: map[string]checklist.Answer{"cleanliness.toilets": ans(num(3))}},
		{Name: "RatingInvalidMatchesNothing", Answers: map[string]checklist.Answer{"cleanliness.toilets": ans(num(1.5))}},
		{Name: "SingleChoiceIn", Answers: map[string]checklist.Answer{"multilingual.interpretation": ans(str("device"))}},
		{Name: "MultiChoiceAny", Answers: map[string]checklist.Answer{"feedback.channels": ans(lst("survey", "box"))}},
		{Name: "MultiChoiceExclusiveBreaks", Answers: map[string]checklist.Answer{"feedback.channels": ans(lst("none", "box"))}},
		{Name: "MultiChoiceDuplicate", Answers: map[string]checklist.Answer{"feedback.channels": ans(lst("box", "box"))}},
		{Name: "HiddenAnswered", Answers: with(full, "accessibility.upper_floors", ans(no), "accessibility.lift", ans(yes))},
		{Name: "ShownUnanswered", Answers: with(full, "feedback.channels", ans(lst("box")), "feedback.box_ready", nil)},
		{Name: "FailedNeedsCommentAndPhoto", Answers: with(full, "signage.floor_directory", ans(no))},
		{Name: "FailedWithBoth", Answers: with(full, "signage.floor_directory",
			checklist.Answer{Value: no, Comment: "古い", Photos: []string{"p2"}})},
		{Name: "FailedBlankComment", Answers: with(full, "signage.counter_names", checklist.Answer{Value: no, Comment: "  "})},
		{Name: "NumberFails", Answers: with(full, "flyers.expired_count", ans(num(3)))},
		{Name: "NumberOutOfRange", Answers: with(full, "flyers.expired_count", ans(num(501)))},
		{Name: "NumberNotInteger", Answers: with(full, "feedback.received_count", ans(num(2.5)))},
		{Name: "NANotAllowed", Answers: with(full, "signage.exterior_sign", ans(na))},
		{Name: "NAAllowed", Answers: with(full, "signage.temporary_notices", ans(na))},
		{Name: "WrongType", Answers: with(full, "signage.wayfinding", ans(str("4")))},
		{Name: "ControlCharacter", Answers: with(full, "signage.opening_hours", checklist.Answer{Value: yes, Comment: "a\rb"})},
		{Name: "UnknownItem", Answers: with(full, "no.such_item", ans(yes))},
	}
}

var answerKey = regexp.MustCompile(`^answers\[(.+?)\](\.|$)`)

// serverSays computes a case's expectations with the checklist package.
func serverSays(c checklist.Content, in rulesCase) rulesCase {
	vis := c.Visible(in.Answers)
	in.Visible = []string{}
	for _, it := range c.Items() {
		if it.ShowIf != nil && vis[it.Key] {
			in.Visible = append(in.Visible, it.Key)
		}
	}
	in.Problems = []rulesProblem{}
	var e *checklist.Error
	if err := c.CheckSubmit(in.Answers); errors.As(err, &e) {
		seen := map[rulesProblem]bool{}
		for _, f := range e.Fields {
			m := answerKey.FindStringSubmatch(f.Field)
			key := m[1]
			if uq, err := strconv.Unquote(key); err == nil {
				key = uq
			}
			p := rulesProblem{Key: key, Code: f.Code}
			switch f.Code {
			case checklist.CodeRequired, checklist.CodeCommentRequired, checklist.CodePhotoRequired, checklist.CodeHidden, checklist.CodeUnknownItem:
			default:
				p.Code = "invalid" // the app only needs to know the answer will be refused
			}
			if !seen[p] {
				seen[p] = true
				in.Problems = append(in.Problems, p)
			}
		}
	}
	return in
}

// The app's copy of the answer rules is checked against the server's: this
// test keeps testdata/rules.json equal to what the checklist package says
// (go test -run TestRulesFixture -update rewrites it); node --test
// web/app/test/ runs rules.js over the same file.
func TestRulesFixture(t *testing.T) {
	c := checklistfile.Default()
	want := rulesFile{Content: c}
	for _, in := range rulesInputs() {
		want.Cases = append(want.Cases, serverSays(c, in))
	}
	b, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/rules.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/rules.json")
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	_ = json.Unmarshal(got, &g)
	_ = json.Unmarshal(b, &w)
	if !reflect.DeepEqual(g, w) {
		t.Fatal("testdata/rules.json differs from the server's rules; run go test ./web/app -run TestRulesFixture -update and check the diff")
	}
}
