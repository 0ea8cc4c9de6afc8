package storage

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"tenken/checklist"
)

// valueDoc is an answer as stored. The value is stored as itself — a
// string ("yes", an option key, a text), a number, a boolean or an array
// of strings — so that reports and BI tools read it without decoding.
type valueDoc struct {
	Value   any      `bson:"value"`
	Comment string   `bson:"comment,omitempty"`
	Photos  []string `bson:"photos,omitempty"`
}

func toValueDoc(a checklist.Answer) valueDoc {
	d := valueDoc{Comment: a.Comment, Photos: a.Photos}
	switch v := a.Value; v.Kind {
	case checklist.KindBool:
		d.Value = v.Bool
	case checklist.KindString:
		d.Value = v.Str
	case checklist.KindNumber:
		d.Value = v.Num
	case checklist.KindList:
		list := v.List
		if list == nil {
			list = []string{}
		}
		d.Value = list
	}
	return d
}

func (d valueDoc) toDomain() (checklist.Answer, error) {
	a := checklist.Answer{Comment: d.Comment, Photos: d.Photos}
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
	case bson.A:
		list := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return a, fmt.Errorf("a list value holds %T", e)
			}
			list = append(list, s)
		}
		a.Value = checklist.ListValue(list...)
	default:
		return a, fmt.Errorf("unexpected value type %T", v)
	}
	return a, nil
}

func outcomeFromDoc(a answerDoc) checklist.Outcome {
	return checklist.Outcome{
		Answered: a.Answered == 1, Failed: a.Failed == 1, NA: a.NA == 1,
		Points: a.Points, MaxPoints: a.MaxPoints,
	}
}
