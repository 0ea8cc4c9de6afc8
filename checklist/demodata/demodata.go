// Package demodata generates realistic inspections of a checklist for
// demonstrations, tests and benchmarks: facilities differ in quality,
// items in difficulty, and a facility that failed an item last year is
// likely to fail it again. Every inspection is built through the domain's
// own functions (ApplySave, Submit, Approve), so it is exactly what the
// API would have stored. Standard library only.
package demodata

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"tenken/checklist"
)

// Options describe what to generate.
type Options struct {
	ChecklistID string
	Version     int
	Content     *checklist.Content
	Facilities  []string // facility ids
	FirstYear   int      // first fiscal year
	Years       int
	PerYear     int // inspections per facility and fiscal year, 1 or more
	Seed        uint64
	// Today bounds inspection dates (none lies after it); zero for no
	// bound.
	Today checklist.Date
	// Messy adds what reports must leave out: drafts, returned and
	// discarded inspections, and facilities skipped in some years.
	Messy bool
}

// Generator builds inspections.
type Generator struct {
	o       Options
	rnd     *rand.Rand
	quality map[string]float64         // facility → base failure tendency
	hard    map[string]float64         // item → difficulty
	failed  map[string]map[string]bool // facility → item → failed last time
	seq     uint64
}

// New returns a generator for o.
func New(o Options) *Generator {
	if o.PerYear < 1 {
		o.PerYear = 1
	}
	g := &Generator{o: o, rnd: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		quality: map[string]float64{}, hard: map[string]float64{}, failed: map[string]map[string]bool{}}
	for _, f := range o.Facilities {
		g.quality[f] = 0.3 + 1.4*g.rnd.Float64()
		g.failed[f] = map[string]bool{}
	}
	for _, it := range o.Content.Items() {
		g.hard[it.Key] = 0.02 + 0.25*g.rnd.Float64()*g.rnd.Float64()
	}
	return g
}

var (
	inspector = checklist.Actor{UserID: "demo-inspector", Name: "点検担当", Role: checklist.RoleInspector}
	reviewer  = checklist.Actor{UserID: "demo-reviewer", Name: "審査担当", Role: checklist.RoleReviewer}
)

// All generates every inspection: for each fiscal year, each facility's
// inspections in date order.
func (g *Generator) All() ([]*checklist.Inspection, error) {
	var out []*checklist.Inspection
	for y := range g.o.Years {
		fy := g.o.FirstYear + y
		for _, f := range g.o.Facilities {
			if g.o.Messy && g.rnd.IntN(12) == 0 {
				continue // not inspected this year
			}
			for n := range g.o.PerYear {
				// Spread the inspections over the fiscal year: the
				// first in spring, later ones towards winter.
				day := 10 + n*(300/g.o.PerYear) + g.rnd.IntN(40)
				t := checklist.FiscalYearStart(fy).AddDate(0, 0, day)
				if !g.o.Today.IsZero() && t.After(g.o.Today.Time()) {
					t = g.o.Today.Time().AddDate(0, 0, -(g.o.PerYear-n)*3)
				}
				date := checklist.DateOf(t)
				status := checklist.StatusApproved
				if g.rnd.IntN(4) == 0 {
					status = checklist.StatusSubmitted
				}
				if g.o.Messy {
					switch g.rnd.IntN(10) {
					case 0:
						status = checklist.StatusDraft
					case 1:
						status = checklist.StatusReturned
					case 2:
						status = checklist.StatusDiscarded
					}
				}
				in, err := g.Inspection(f, date, status)
				if err != nil {
					return nil, err
				}
				out = append(out, in)
			}
		}
	}
	return out, nil
}

// Inspection generates one inspection of facility on date, taken to
// status.
func (g *Generator) Inspection(facility string, date checklist.Date, status checklist.Status) (*checklist.Inspection, error) {
	g.seq++
	id := g.uuid()
	at := date.Time().Add(10 * time.Hour)
	in, err := checklist.NewInspection(id, facility, g.o.ChecklistID, g.o.Version, date, inspector, at)
	if err != nil {
		return nil, err
	}
	c := g.o.Content
	answers := map[string]checklist.Answer{}
	for _, it := range c.Items() {
		if a, ok := g.answer(facility, it); ok {
			answers[it.Key] = a
		}
	}
	visible := c.Visible(answers)
	save := checklist.Save{BaseRevision: in.Revision, Answers: map[string]*checklist.Answer{}}
	// In content order, not map order: the random draws below must come
	// in the same order for the same seed.
	for _, it := range c.Items() {
		k := it.Key
		a, ok := answers[k]
		if !ok || !visible[k] {
			continue
		}
		o := it.Evaluate(a)
		g.failed[facility][k] = o.Failed
		if o.Failed || it.Type == checklist.TypePhoto {
			if o.Failed && it.FailedNeedsComment || o.Failed && g.rnd.IntN(2) == 0 {
				a.Comment = comments[g.rnd.IntN(len(comments))]
			}
			if it.FailedNeedsPhoto && o.Failed || it.Type == checklist.TypePhoto {
				sha := g.photo(in, k, at)
				if it.Type == checklist.TypePhoto {
					a.Value = checklist.ListValue(sha)
				} else {
					a.Photos = []string{sha}
				}
			}
		}
		save.Answers[k] = &a
	}
	if _, err := in.ApplySave(c, save, inspector, at); err != nil {
		return nil, fmt.Errorf("generated answers of %s: %w", id, err)
	}
	step := func(f func() (checklist.InspectionChange, error)) error {
		at = at.Add(time.Hour)
		_, err := f()
		return err
	}
	switch status {
	case checklist.StatusDraft:
		return in, nil
	case checklist.StatusDiscarded:
		return in, step(func() (checklist.InspectionChange, error) {
			return in.Discard("重複して作成したため", inspector, at)
		})
	}
	if err := step(func() (checklist.InspectionChange, error) { return in.Submit(c, inspector, at) }); err != nil {
		return nil, fmt.Errorf("submit %s: %w", id, err)
	}
	switch status {
	case checklist.StatusApproved:
		err = step(func() (checklist.InspectionChange, error) { return in.Approve(reviewer, at.Add(24*time.Hour)) })
	case checklist.StatusReturned:
		err = step(func() (checklist.InspectionChange, error) {
			return in.Return(c, "写真を追加してください", nil, reviewer, at.Add(24*time.Hour))
		})
	}
	return in, err
}

// photo records a photo of item key on in and returns its digest. The
// bytes are not stored: demo photos are placeholders.
func (g *Generator) photo(in *checklist.Inspection, key string, at time.Time) string {
	sum := sha256.Sum256([]byte(in.ID + "/" + key))
	sha := hex.EncodeToString(sum[:])
	in.Photos = append(in.Photos, checklist.Photo{SHA256: sha, ItemKey: key, ContentType: "image/jpeg", Size: 120_000, At: at, By: inspector.UserID})
	return sha
}

func (g *Generator) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rnd.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var comments = []string{
	"掲示物の期限切れを確認。撤去予定。",
	"案内表示が見えにくい位置にある。",
	"チラシが分野別に整理されていない。",
	"清掃の記録が途切れている。",
	"多言語の案内が不足している。",
	"避難経路に物品が置かれていた。",
}

// fails decides whether facility fails item key this time.
func (g *Generator) fails(facility, key string) bool {
	p := g.hard[key] * g.quality[facility]
	if g.failed[facility][key] {
		p = 0.55 + 0.3*p // problems tend to persist
	}
	return g.rnd.Float64() < p
}

// answer generates a valid answer to it, failing or not.
func (g *Generator) answer(facility string, it checklist.Item) (checklist.Answer, bool) {
	f := it.FailRule
	fail := f != nil && g.fails(facility, it.Key)
	switch it.Type {
	case checklist.TypeYesNo:
		if it.AllowNA && g.rnd.IntN(15) == 0 {
			return checklist.Answer{Value: checklist.StringValue("na")}, true
		}
		bad := "no"
		if f != nil && f.Answer != "" {
			bad = f.Answer
		}
		good := "yes"
		if bad == "yes" {
			good = "no"
		}
		if fail {
			return checklist.Answer{Value: checklist.StringValue(bad)}, true
		}
		return checklist.Answer{Value: checklist.StringValue(good)}, true
	case checklist.TypeRating:
		k := len(it.Scale)
		cut := 0
		if f != nil {
			cut = f.AtOrBelow
		}
		if fail && cut > 0 {
			return checklist.Answer{Value: checklist.NumberValue(float64(1 + g.rnd.IntN(cut)))}, true
		}
		return checklist.Answer{Value: checklist.NumberValue(float64(cut + 1 + g.rnd.IntN(k-cut)))}, true
	case checklist.TypeSingleChoice:
		var good, bad []string
		for _, o := range it.Options {
			if f != nil && slices.Contains(f.AnyOf, o.Key) {
				bad = append(bad, o.Key)
			} else {
				good = append(good, o.Key)
			}
		}
		if fail && len(bad) > 0 || len(good) == 0 {
			return checklist.Answer{Value: checklist.StringValue(bad[g.rnd.IntN(len(bad))])}, true
		}
		return checklist.Answer{Value: checklist.StringValue(good[g.rnd.IntN(len(good))])}, true
	case checklist.TypeMultiChoice:
		var good, bad []string
		for _, o := range it.Options {
			switch {
			case f != nil && slices.Contains(f.AnyOf, o.Key):
				bad = append(bad, o.Key)
			case !o.Exclusive:
				good = append(good, o.Key)
			}
		}
		if fail && len(bad) > 0 {
			pick := bad[g.rnd.IntN(len(bad))]
			if o, _ := optionOf(it, pick); o.Exclusive {
				return checklist.Answer{Value: checklist.ListValue(pick)}, true
			}
			return checklist.Answer{Value: checklist.ListValue(pick)}, true
		}
		var pick []string
		for _, k := range good {
			if g.rnd.IntN(2) == 0 {
				pick = append(pick, k)
			}
		}
		if len(pick) == 0 && len(good) > 0 {
			pick = []string{good[0]}
		}
		if len(pick) == 0 {
			return checklist.Answer{}, false
		}
		return checklist.Answer{Value: checklist.ListValue(pick...)}, true
	case checklist.TypeNumber:
		lo, hi := 0.0, 20.0
		if it.Number != nil && it.Number.Min != nil {
			lo = *it.Number.Min
		}
		if it.Number != nil && it.Number.Max != nil {
			hi = *it.Number.Max
		}
		okLo, okHi := lo, hi
		if f != nil && f.Min != nil {
			okLo = max(okLo, *f.Min)
		}
		if f != nil && f.Max != nil {
			okHi = min(okHi, *f.Max)
		}
		v := okLo + g.rnd.Float64()*(okHi-okLo)
		if fail {
			switch {
			case f.Max != nil && *f.Max < hi:
				v = *f.Max + 1 + g.rnd.Float64()*(min(hi, *f.Max+5)-*f.Max-1)
			case f.Min != nil && *f.Min > lo:
				v = max(lo, *f.Min-1-g.rnd.Float64()*3)
			}
		}
		if it.Number != nil && it.Number.Integer {
			v = float64(int(v))
			if fail && f.Max != nil && v <= *f.Max {
				v = *f.Max + 1
			}
		}
		v = min(max(v, lo), hi)
		return checklist.Answer{Value: checklist.NumberValue(v)}, true
	case checklist.TypeText:
		if it.Required || g.rnd.IntN(3) == 0 {
			return checklist.Answer{Value: checklist.StringValue("特記事項なし（" + strconv.Itoa(g.rnd.IntN(100)) + "）")}, true
		}
		return checklist.Answer{}, false
	case checklist.TypePhoto:
		if it.Required {
			return checklist.Answer{Value: checklist.ListValue("placeholder")}, true // replaced by a recorded photo
		}
		return checklist.Answer{}, false
	}
	return checklist.Answer{}, false
}

func optionOf(it checklist.Item, key string) (checklist.Option, bool) {
	for _, o := range it.Options {
		if o.Key == key {
			return o, true
		}
	}
	return checklist.Option{}, false
}
