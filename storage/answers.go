package storage

import (
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
)

// toAnswerDoc stores answer record r of item key. The value is stored as
// itself — a string ("yes", an option key, a text), a number, a boolean
// or an array of strings — so that reports and BI tools read it without
// decoding.
func toAnswerDoc(key string, r checklist.AnswerRecord) answerDoc {
	d := answerDoc{
		Key: key, Comment: r.Answer.Comment, Photos: slices.Clone(r.Answer.Photos), // kept decoded: see inspectionDoc.decoded
		Failed: bit(r.Outcome.Failed), NA: bit(r.Outcome.NA),
		Points: r.Outcome.Points, MaxPoints: r.Outcome.MaxPoints,
		Revision: r.Revision, UpdatedAt: r.At, UpdatedBy: r.By,
	}
	switch v := r.Answer.Value; v.Kind {
	case checklist.KindBool:
		d.Value = v.Bool
	case checklist.KindString:
		d.Value = v.Str
	case checklist.KindNumber:
		d.Value = v.Num
	case checklist.KindList:
		list := slices.Clone(v.List)
		if list == nil {
			list = []string{}
		}
		d.Value = list
	}
	return d
}

func (d answerDoc) toDomain() (checklist.AnswerRecord, error) {
	a := checklist.Answer{Comment: d.Comment, Photos: slices.Clone(d.Photos)}
	switch v := d.Value.(type) {
	case nil:
	case bool:
		a.Value = checklist.BoolValue(v)
	case string:
		a.Value = checklist.StringValue(v)
	case float64:
		a.Value = checklist.NumberValue(v)
	case int32:
		a.Value = checklist.NumberValue(float64(v))
	case int64:
		a.Value = checklist.NumberValue(float64(v))
	case []string: // a copy this process wrote, not yet read back
		a.Value = checklist.ListValue(slices.Clone(v)...)
	case bson.A, []any: // from the database, from answers_json
		var items []any
		switch v := v.(type) {
		case bson.A:
			items = v
		case []any:
			items = v
		}
		list := make([]string, 0, len(items))
		for _, e := range items {
			s, ok := e.(string)
			if !ok {
				return checklist.AnswerRecord{}, fmt.Errorf("a list value holds %T", e)
			}
			list = append(list, s)
		}
		a.Value = checklist.ListValue(list...)
	default:
		return checklist.AnswerRecord{}, fmt.Errorf("unexpected value type %T", v)
	}
	return checklist.AnswerRecord{
		Answer: a,
		// Stored answers passed their item's checks: any value or N/A
		// answers the item.
		Outcome: checklist.Outcome{
			Answered: !a.Value.Empty(), Failed: d.Failed == 1, NA: d.NA == 1,
			Points: d.Points, MaxPoints: d.MaxPoints,
		},
		Stamp: checklist.Stamp{Revision: d.Revision, At: d.UpdatedAt.UTC(), By: d.UpdatedBy},
	}, nil
}
