package checklist_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"tenken/checklist"
)

func fuzzItems() []checklist.Item {
	lo, hi := 0.0, 500.0
	t := checklist.Text{Ja: "項目"}
	return []checklist.Item{
		{Key: "yn", Text: t, Type: checklist.TypeYesNo, AllowNA: true, Points: 2},
		{Key: "yn_strict", Text: t, Type: checklist.TypeYesNo, Points: 1},
		{Key: "rating", Text: t, Type: checklist.TypeRating, Scale: []checklist.Text{{Ja: "悪い"}, {Ja: "普通"}, {Ja: "良い"}}, Points: 3},
		{Key: "single", Text: t, Type: checklist.TypeSingleChoice, Options: []checklist.Option{{Key: "staff", Label: t}, {Key: "sign", Label: t}}},
		{Key: "multi", Text: t, Type: checklist.TypeMultiChoice, Options: []checklist.Option{{Key: "en", Label: t}, {Key: "zh", Label: t}, {Key: "none", Label: t, Exclusive: true}}},
		{Key: "number", Text: t, Type: checklist.TypeNumber, Number: &checklist.NumberSpec{Min: &lo, Max: &hi, Integer: true}},
		{Key: "text", Text: t, Type: checklist.TypeText},
		{Key: "photo", Text: t, Type: checklist.TypePhoto},
	}
}

// FuzzAnswer: any JSON a tablet sends as an answer is read without panic;
// checking it against every item type either accepts it or refuses it as
// invalid with the field named; an accepted answer scores without panic,
// and its value writes back to JSON that reads as the same value.
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{
		`{"value":"yes"}`, `{"value":true,"comment":"ok"}`, `{"value":"na"}`, `{"value":"maybe"}`,
		`{"value":2}`, `{"value":2.5}`, `{"value":-0}`, `{"value":1e308}`, `{"value":1e999}`,
		`{"value":"staff"}`, `{"value":["en","zh"]}`, `{"value":["none","en"]}`, `{"value":["en","en"]}`,
		`{"value":[1,2]}`, `{"value":{"a":1}}`, `{"value":null}`, `{"value":""}`, `{"value":[]}`,
		`{"item":"other","value":"yes"}`, `{"value":"x","photos":["3f2a","3f2a"]}`, `{"value":"\u0000\ud800"}`,
		`{"value":["p1","p2","p3","p4","p5","p6","p7","p8","p9","p10","p11"]}`,
	} {
		f.Add([]byte(s))
	}
	items := fuzzItems()
	f.Fuzz(func(t *testing.T, data []byte) {
		var a checklist.Answer
		if json.Unmarshal(data, &a) != nil {
			return
		}
		for _, it := range items {
			err := it.CheckAnswer(a)
			if err != nil {
				if code := checklist.ErrorCode(err); code != checklist.EInvalid {
					t.Fatalf("%s: CheckAnswer(%s) = %v with code %q, want invalid", it.Key, data, err, code)
				}
				var e *checklist.Error
				if !errors.As(err, &e) || len(e.Fields) == 0 {
					t.Fatalf("%s: CheckAnswer(%s) = %v names no field", it.Key, data, err)
				}
				continue
			}
			n := it.Normalize(a)
			_ = it.Evaluate(n)
			out, err := json.Marshal(n.Value)
			if err != nil {
				t.Fatalf("%s: accepted value %+v does not write as JSON: %v", it.Key, n.Value, err)
			}
			var back checklist.Value
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("%s: %s does not read back: %v", it.Key, out, err)
			}
			if !n.Value.Empty() && !reflect.DeepEqual(back, n.Value) {
				t.Fatalf("%s: value %+v wrote %s, read back %+v", it.Key, n.Value, out, back)
			}
		}
	})
}
