// Package checklisttest holds the small checklist the checklist and
// handlers tests both inspect against, so that the domain rules and the
// API are tested on the same content and a rule added to it reaches both.
package checklisttest

import (
	"fmt"

	"tenken/checklist"
)

// Content returns a fresh copy of the test checklist: required items, a
// failed answer needing a comment and a photo, a rating, bounds, single
// and multiple choice and a show-if; then, when notes is above 0, a
// section of that many free-text items (notes.n01, …) for concurrent
// writers to spread over. Callers may change the copy.
func Content(notes int) checklist.Content {
	tx := func(ja string) checklist.Text { return checklist.Text{Ja: ja} }
	c := checklist.Content{
		Title: tx("サービス点検"),
		Sections: []checklist.Section{
			{Key: "signage", Title: tx("案内表示"), Items: []checklist.Item{
				{Key: "signage.entrance", Text: tx("入口の案内表示は見やすいか"), Type: checklist.TypeYesNo, Required: true,
					Points: 2, FailRule: &checklist.FailRule{Answer: "no"}, FailedNeedsComment: true, FailedNeedsPhoto: true},
				{Key: "signage.clarity", Text: tx("表示の分かりやすさ"), Type: checklist.TypeRating,
					Scale:  []checklist.Text{tx("悪い"), tx("やや悪い"), tx("普通"), tx("良い"), tx("とても良い")},
					Points: 4, FailRule: &checklist.FailRule{AtOrBelow: 2}},
			}},
			{Key: "flyers", Title: tx("チラシ・ポスター"), Items: []checklist.Item{
				{Key: "flyers.rack", Text: tx("チラシラックがあるか"), Type: checklist.TypeYesNo, AllowNA: true, Required: true,
					Points: 1, FailRule: &checklist.FailRule{Answer: "no"}},
				{Key: "flyers.expired_count", Text: tx("期限切れのチラシの枚数"), Type: checklist.TypeNumber,
					Number: &checklist.NumberSpec{Min: ptr(0), Max: ptr(50), Integer: true},
					Points: 1, FailRule: &checklist.FailRule{Max: ptr(0)}, FailedNeedsComment: true,
					ShowIf: &checklist.ShowIf{Item: "flyers.rack", Equals: "yes"}},
				{Key: "flyers.layout", Text: tx("分野別・時期別に整理されているか"), Type: checklist.TypeSingleChoice,
					Options: []checklist.Option{{Key: "field", Label: tx("分野別")}, {Key: "period", Label: tx("時期別")}, {Key: "none", Label: tx("未整理")}},
					Points:  1, FailRule: &checklist.FailRule{AnyOf: []string{"none"}}},
				{Key: "flyers.languages", Text: tx("対応言語"), Type: checklist.TypeMultiChoice,
					Options: []checklist.Option{{Key: "ja", Label: tx("日本語")}, {Key: "en", Label: tx("英語")}, {Key: "zh", Label: tx("中国語")}}},
			}},
		},
	}
	if notes > 0 {
		items := make([]checklist.Item, notes)
		for i := range items {
			items[i] = checklist.Item{Key: fmt.Sprintf("notes.n%02d", i+1), Text: tx(fmt.Sprintf("メモ %d", i+1)), Type: checklist.TypeText}
		}
		c.Sections = append(c.Sections, checklist.Section{Key: "notes", Title: tx("メモ"), Items: items})
	}
	return c
}

func ptr(f float64) *float64 { return &f }
