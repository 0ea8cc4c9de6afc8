package storage

import (
	"tenken/checklist"
)

// valueDoc is an answer as stored. (Stand-in until the checklist
// domain's answer type lands.)
type valueDoc struct {
	Comment string   `bson:"comment,omitempty"`
	Photos  []string `bson:"photos,omitempty"`
}

func toValueDoc(a checklist.Answer) valueDoc {
	return valueDoc{Comment: a.Comment, Photos: a.Photos}
}

func (v valueDoc) toDomain() (checklist.Answer, error) {
	return checklist.Answer{Comment: v.Comment, Photos: v.Photos}, nil
}

func outcomeFromDoc(a answerDoc) checklist.Outcome {
	return checklist.Outcome{Failed: a.Failed == 1, NA: a.NA == 1, Points: int(a.Points), MaxPoints: int(a.MaxPoints)}
}
