package storage

import "tenken/checklist"

// contentDoc is checklist content as stored, field for field, with the
// same names as the API and files. It is written once per draft change and
// per published version and never queried inside: reports read the numbers
// each inspection stores with its answers.
type contentDoc struct {
	Title       textDoc      `bson:"title"`
	Description textDoc      `bson:"description"`
	Sections    []sectionDoc `bson:"sections"`
}

type textDoc struct {
	Ja string `bson:"ja"`
	En string `bson:"en,omitempty"`
}

type sectionDoc struct {
	Key   string    `bson:"key"`
	Title textDoc   `bson:"title"`
	Items []itemDoc `bson:"items"`
}

type itemDoc struct {
	Key                string         `bson:"key"`
	Text               textDoc        `bson:"text"`
	Guidance           textDoc        `bson:"guidance"`
	Type               string         `bson:"type"`
	AllowNA            bool           `bson:"allow_na,omitempty"`
	Scale              []textDoc      `bson:"scale,omitempty"`
	Options            []optionDoc    `bson:"options,omitempty"`
	Number             *numberSpecDoc `bson:"number,omitempty"`
	Required           bool           `bson:"required,omitempty"`
	Points             float64        `bson:"points,omitempty"`
	FailRule           *failRuleDoc   `bson:"fail_rule,omitempty"`
	FailedNeedsComment bool           `bson:"failed_needs_comment,omitempty"`
	FailedNeedsPhoto   bool           `bson:"failed_needs_photo,omitempty"`
	ShowIf             *showIfDoc     `bson:"show_if,omitempty"`
}

type optionDoc struct {
	Key       string  `bson:"key"`
	Label     textDoc `bson:"label"`
	Exclusive bool    `bson:"exclusive,omitempty"`
}

type numberSpecDoc struct {
	Unit    textDoc  `bson:"unit"`
	Min     *float64 `bson:"min,omitempty"`
	Max     *float64 `bson:"max,omitempty"`
	Integer bool     `bson:"integer,omitempty"`
}

type failRuleDoc struct {
	Answer    string   `bson:"answer,omitempty"`
	AtOrBelow int      `bson:"at_or_below,omitempty"`
	AnyOf     []string `bson:"any_of,omitempty"`
	Min       *float64 `bson:"min,omitempty"`
	Max       *float64 `bson:"max,omitempty"`
}

type showIfDoc struct {
	Item   string   `bson:"item"`
	Equals string   `bson:"equals,omitempty"`
	In     []string `bson:"in,omitempty"`
}

func newTextDoc(t checklist.Text) textDoc { return textDoc{Ja: t.Ja, En: t.En} }
func (d textDoc) text() checklist.Text    { return checklist.Text{Ja: d.Ja, En: d.En} }

func newContentDoc(c checklist.Content) contentDoc {
	d := contentDoc{Title: newTextDoc(c.Title), Description: newTextDoc(c.Description), Sections: []sectionDoc{}}
	for _, s := range c.Sections {
		sd := sectionDoc{Key: s.Key, Title: newTextDoc(s.Title), Items: []itemDoc{}}
		for _, it := range s.Items {
			sd.Items = append(sd.Items, newItemDoc(it))
		}
		d.Sections = append(d.Sections, sd)
	}
	return d
}

func newItemDoc(it checklist.Item) itemDoc {
	d := itemDoc{
		Key: it.Key, Text: newTextDoc(it.Text), Guidance: newTextDoc(it.Guidance), Type: string(it.Type),
		AllowNA: it.AllowNA, Required: it.Required, Points: it.Points,
		FailedNeedsComment: it.FailedNeedsComment, FailedNeedsPhoto: it.FailedNeedsPhoto,
	}
	for _, t := range it.Scale {
		d.Scale = append(d.Scale, newTextDoc(t))
	}
	for _, o := range it.Options {
		d.Options = append(d.Options, optionDoc{Key: o.Key, Label: newTextDoc(o.Label), Exclusive: o.Exclusive})
	}
	if n := it.Number; n != nil {
		d.Number = &numberSpecDoc{Unit: newTextDoc(n.Unit), Min: n.Min, Max: n.Max, Integer: n.Integer}
	}
	if f := it.FailRule; f != nil {
		d.FailRule = &failRuleDoc{Answer: f.Answer, AtOrBelow: f.AtOrBelow, AnyOf: f.AnyOf, Min: f.Min, Max: f.Max}
	}
	if s := it.ShowIf; s != nil {
		d.ShowIf = &showIfDoc{Item: s.Item, Equals: s.Equals, In: s.In}
	}
	return d
}

func (d contentDoc) content() checklist.Content {
	c := checklist.Content{Title: d.Title.text(), Description: d.Description.text()}
	for _, sd := range d.Sections {
		s := checklist.Section{Key: sd.Key, Title: sd.Title.text()}
		for _, id := range sd.Items {
			s.Items = append(s.Items, id.item())
		}
		c.Sections = append(c.Sections, s)
	}
	return c
}

func (d itemDoc) item() checklist.Item {
	it := checklist.Item{
		Key: d.Key, Text: d.Text.text(), Guidance: d.Guidance.text(), Type: checklist.AnswerType(d.Type),
		AllowNA: d.AllowNA, Required: d.Required, Points: d.Points,
		FailedNeedsComment: d.FailedNeedsComment, FailedNeedsPhoto: d.FailedNeedsPhoto,
	}
	for _, t := range d.Scale {
		it.Scale = append(it.Scale, t.text())
	}
	for _, o := range d.Options {
		it.Options = append(it.Options, checklist.Option{Key: o.Key, Label: o.Label.text(), Exclusive: o.Exclusive})
	}
	if n := d.Number; n != nil {
		it.Number = &checklist.NumberSpec{Unit: n.Unit.text(), Min: n.Min, Max: n.Max, Integer: n.Integer}
	}
	if f := d.FailRule; f != nil {
		it.FailRule = &checklist.FailRule{Answer: f.Answer, AtOrBelow: f.AtOrBelow, AnyOf: f.AnyOf, Min: f.Min, Max: f.Max}
	}
	if s := d.ShowIf; s != nil {
		it.ShowIf = &checklist.ShowIf{Item: s.Item, Equals: s.Equals, In: s.In}
	}
	return it
}
