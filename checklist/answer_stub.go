package checklist

// Temporary stand-ins for the checklist content types, replaced by the
// checklist domain when it lands.

type Answer struct {
	Value   any
	Comment string
	Photos  []string
}

type Outcome struct {
	Failed, NA        bool
	Points, MaxPoints int
}

type Item struct{ Key string }

func (it *Item) CheckAnswer(a Answer) error { return nil }
func (it *Item) Evaluate(a Answer) Outcome  { return Outcome{MaxPoints: 1, Points: 1} }

type Score struct{ Points, MaxPoints int }

type Section struct {
	Key   string
	Items []Item
}

type Content struct{ Sections []Section }

func (c *Content) Item(key string) *Item {
	for i := range c.Sections {
		for j := range c.Sections[i].Items {
			if c.Sections[i].Items[j].Key == key {
				return &c.Sections[i].Items[j]
			}
		}
	}
	return nil
}
func (c *Content) Visible(answers map[string]Answer) map[string]bool {
	m := map[string]bool{}
	for _, s := range c.Sections {
		for _, it := range s.Items {
			m[it.Key] = true
		}
	}
	return m
}
func (c *Content) Score(answers map[string]Answer) Score       { return Score{} }
func (c *Content) CheckSubmit(answers map[string]Answer) error { return nil }

func AnswersEqual(a, b Answer) bool                     { return a.Comment == b.Comment }
func (in *Inspection) submitAnswers() map[string]Answer { return in.AnswerValues() }
