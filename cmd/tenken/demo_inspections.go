package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/storage"
)

// demoPlan is one demo inspection: when, how well the facility did, and
// how far it went through review.
type demoPlan struct {
	date     checklist.Date
	failRate float64
	status   checklist.Status
}

// photoPutter is what the demo data needs of the photo store.
type photoPutter interface {
	Put(ctx context.Context, r io.Reader, limit int64) (sha string, size int64, err error)
}

// seedDemoInspections creates two fiscal years of inspections across the
// demo facilities against the default checklist: last year's approved,
// this year's at every stage of review, with findings (failed items with
// comments and small generated photos) that become fewer from one
// inspection to the next, as the improvement cycle intends. It does
// nothing when any inspection exists.
func seedDemoInspections(ctx context.Context, db *storage.DB, photos photoPutter, log *slog.Logger) error {
	// serve publishes the bundled default before seeding (seedDefaultChecklist).
	v, err := db.ChecklistVersion(ctx, storage.DefaultChecklistID, 1)
	if err != nil {
		return fmt.Errorf("default checklist: %w", err)
	}
	page, err := db.ListInspections(ctx, checklist.InspectionQuery{IncludeDiscarded: true, Limit: 1})
	if err != nil || len(page.Inspections) > 0 {
		return err
	}
	reviewer, err := demoActor(ctx, db, "reviewer")
	if err != nil {
		return err
	}
	admin, err := demoActor(ctx, db, "admin")
	if err != nil {
		return err
	}
	inspectorOf := map[string]checklist.Actor{}
	for _, name := range []string{"inspector1", "inspector2"} {
		u, _, err := db.FindCredentials(ctx, name)
		if err != nil {
			continue
		}
		for _, f := range u.FacilityIDs {
			inspectorOf[f] = checklist.Actor{UserID: u.ID, Name: u.Username, Role: u.Role}
		}
	}

	realNow := time.Now
	today := checklist.DateOf(realNow())
	thisFY := checklist.FiscalYearOfDate(today)
	rng := rand.New(rand.NewPCG(2026, 4))
	created := 0
	for i, df := range demoFacilities {
		f, err := db.FindFacilityByCode(ctx, df.Code)
		if err != nil {
			continue
		}
		by, ok := inspectorOf[f.ID]
		if !ok {
			by = admin
		}
		base := 0.08 + 0.04*float64(i%4) // some facilities start further behind
		plans := []demoPlan{
			{checklist.Date{Year: thisFY - 1, Month: time.June, Day: 10 + i}, base + 0.10, checklist.StatusApproved},
			{checklist.Date{Year: thisFY, Month: time.January, Day: 20 + i}, base + 0.05, checklist.StatusApproved},
			{checklist.Date{Year: thisFY, Month: time.May, Day: 12 + i}, base, []checklist.Status{
				checklist.StatusApproved, checklist.StatusSubmitted, checklist.StatusReturned, checklist.StatusApproved,
				checklist.StatusDraft, checklist.StatusApproved}[i%6]},
		}
		for _, p := range plans {
			if p.date.Time().After(realNow()) {
				p.date = today // early in the fiscal year: inspected today
			}
			if err := seedOneInspection(ctx, db, photos, v, f, p, by, reviewer, rng); err != nil {
				return fmt.Errorf("inspection of %s on %s: %w", f.Code, p.date, err)
			}
			created++
		}
	}
	log.Info("demo inspections created", slog.Int("inspections", created))
	return nil
}

func demoActor(ctx context.Context, db *storage.DB, username string) (checklist.Actor, error) {
	u, _, err := db.FindCredentials(ctx, username)
	if err != nil {
		return checklist.Actor{}, fmt.Errorf("demo user %s: %w", username, err)
	}
	return checklist.Actor{UserID: u.ID, Name: u.Username, Role: u.Role}, nil
}

// seedOneInspection fills, submits and reviews one inspection through
// the domain's own rules, at the times it would have happened, and
// stores it with its audit trail in one go.
func seedOneInspection(ctx context.Context, db *storage.DB, photos photoPutter, v checklist.Version,
	f checklist.Facility, p demoPlan, by, reviewer checklist.Actor, rng *rand.Rand) error {
	start := p.date.Time().Add(10 * time.Hour) // 10:00 in Tokyo
	at := func(d time.Duration) time.Time {
		t := start.Add(d)
		if now := time.Now(); t.After(now) {
			t = now // a recent inspection: reviewed just now
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	in, err := checklist.NewInspection(uuid.NewString(), f.ID, v.ChecklistID, v.Number, p.date, by, at(0))
	if err != nil {
		return err
	}
	trail := []checklist.AuditEntry{checklist.InspectionAuditEntry(in,
		checklist.InspectionChange{Action: checklist.ActionCreate, To: in.Status}, by, "")}
	// step records a domain step's change in the audit trail.
	step := func(who checklist.Actor) func(checklist.InspectionChange, error) error {
		return func(ch checklist.InspectionChange, err error) error {
			if err == nil {
				trail = append(trail, checklist.InspectionAuditEntry(in, ch, who, ""))
			}
			return err
		}
	}
	c := &v.Content

	// Answer every item that applies, in order; show-if depends on
	// earlier answers. A draft is left half done.
	answers := map[string]checklist.Answer{}
	items := c.Items()
	if p.status == checklist.StatusDraft {
		items = items[:len(items)/2]
	}
	addPhoto := func(item string) (string, error) {
		sha, size, err := storeDemoPhoto(ctx, photos, rng)
		if err != nil {
			return "", err
		}
		ch, _, err := in.AddPhoto(c, checklist.Photo{SHA256: sha, ItemKey: item, ContentType: checklist.TypePNG, Size: size}, by, at(30*time.Minute))
		return sha, step(by)(ch, err)
	}
	for _, it := range items {
		if !c.Visible(answers)[it.Key] {
			continue
		}
		a := demoAnswer(it, rng.Float64() < p.failRate, rng)
		if it.Type == checklist.TypePhoto {
			sha, err := addPhoto(it.Key)
			if err != nil {
				return err
			}
			a.Value = checklist.ListValue(sha)
		}
		if it.Evaluate(a).Failed {
			if it.FailedNeedsComment || rng.Float64() < 0.6 {
				a.Comment = demoComment(it, rng)
			}
			if it.FailedNeedsPhoto || rng.Float64() < 0.3 {
				sha, err := addPhoto(it.Key)
				if err != nil {
					return err
				}
				a.Photos = []string{sha}
			}
		}
		answers[it.Key] = a
	}
	save := checklist.Save{BaseRevision: in.Revision, Answers: map[string]*checklist.Answer{}}
	for k, a := range answers {
		save.Answers[k] = &a
	}
	if err := step(by)(in.ApplySave(c, save, by, at(time.Hour))); err != nil {
		return err
	}
	if p.status != checklist.StatusDraft {
		if err := step(by)(in.Submit(c, by, at(26*time.Hour))); err != nil {
			return err
		}
		switch p.status {
		case checklist.StatusApproved:
			err = step(reviewer)(in.Approve(reviewer, at(5*24*time.Hour)))
		case checklist.StatusReturned:
			comments := map[string]string{}
			for _, k := range in.Findings(c) {
				if len(comments) < 2 {
					comments[k] = "改善予定日と担当者を記入してください。"
				}
			}
			err = step(reviewer)(in.Return(c, "指摘事項の改善計画を追記のうえ、再提出してください。", comments, reviewer, at(5*24*time.Hour)))
		}
		if err != nil {
			return err
		}
	}
	return db.ImportInspection(ctx, in, trail)
}

// demoAnswer answers it, failing when fail and the item can fail.
func demoAnswer(it checklist.Item, fail bool, rng *rand.Rand) checklist.Answer {
	rule := it.FailRule
	if rule == nil {
		rule = &checklist.FailRule{}
	}
	switch it.Type {
	case checklist.TypeYesNo:
		bad := rule.Answer
		if bad == "" {
			bad = "no"
		}
		good := map[string]string{"no": "yes", "yes": "no"}[bad]
		switch {
		case it.AllowNA && rng.Float64() < 0.04:
			return checklist.Answer{Value: checklist.StringValue("na")}
		case fail:
			return checklist.Answer{Value: checklist.StringValue(bad)}
		}
		return checklist.Answer{Value: checklist.StringValue(good)}
	case checklist.TypeRating:
		k := len(it.Scale)
		if fail && rule.AtOrBelow > 0 {
			return checklist.Answer{Value: checklist.NumberValue(float64(1 + rng.IntN(rule.AtOrBelow)))}
		}
		low := max(rule.AtOrBelow+1, k-2)
		return checklist.Answer{Value: checklist.NumberValue(float64(low + rng.IntN(k-low+1)))}
	case checklist.TypeSingleChoice:
		var pick []string
		for _, o := range it.Options {
			if slices.Contains(rule.AnyOf, o.Key) == fail {
				pick = append(pick, o.Key)
			}
		}
		if len(pick) == 0 {
			pick = []string{it.Options[0].Key}
		}
		return checklist.Answer{Value: checklist.StringValue(pick[rng.IntN(len(pick))])}
	case checklist.TypeMultiChoice:
		var good, bad []string
		for _, o := range it.Options {
			switch {
			case slices.Contains(rule.AnyOf, o.Key):
				bad = append(bad, o.Key)
			case !o.Exclusive:
				good = append(good, o.Key)
			}
		}
		if fail && len(bad) > 0 {
			return checklist.Answer{Value: checklist.ListValue(bad[rng.IntN(len(bad))])}
		}
		if len(good) == 0 {
			return checklist.Answer{Value: checklist.ListValue(it.Options[0].Key)}
		}
		n := 1 + rng.IntN(min(3, len(good)))
		return checklist.Answer{Value: checklist.ListValue(good[:n]...)}
	case checklist.TypeNumber:
		return checklist.Answer{Value: checklist.NumberValue(demoNumber(it, rule, fail, rng))}
	case checklist.TypeText:
		return checklist.Answer{Value: checklist.StringValue(demoNotes[rng.IntN(len(demoNotes))])}
	}
	return checklist.Answer{}
}

// demoNumber picks a number within the item's bounds, outside the fail
// rule's bounds when fail.
func demoNumber(it checklist.Item, rule *checklist.FailRule, fail bool, rng *rand.Rand) float64 {
	lo, hi := 0.0, 100.0
	if n := it.Number; n != nil {
		if n.Min != nil {
			lo = *n.Min
		}
		if n.Max != nil {
			hi = *n.Max
		} else {
			hi = lo + 100
		}
	}
	okLo, okHi := lo, hi
	if rule.Min != nil {
		okLo = math.Max(okLo, *rule.Min)
	}
	if rule.Max != nil {
		okHi = math.Min(okHi, *rule.Max)
	}
	x := okLo + rng.Float64()*(okHi-okLo)
	if fail {
		switch {
		case rule.Max != nil && *rule.Max < hi:
			x = *rule.Max + 1 + rng.Float64()*math.Min(5, hi-*rule.Max-1)
		case rule.Min != nil && *rule.Min > lo:
			x = lo + rng.Float64()*(*rule.Min-lo)
		}
	}
	if it.Number != nil && it.Number.Integer {
		x = math.Round(x)
	}
	return math.Max(lo, math.Min(hi, x))
}

var demoNotes = []string{"特になし", "前回指摘事項は改善済み", "来館者からの要望を館内で共有した", "繁忙期のため一部確認を翌日に実施"}

// demoComments are findings as inspectors write them, by section key.
var demoComments = map[string][]string{
	"signage":       {"入口の案内板が日焼けで読みにくくなっている。", "フロア案内に移転前の部署名が残っている。", "臨時の貼り紙がテープで貼られたまま期限を過ぎている。"},
	"flyers":        {"期限切れのチラシがラックに残っていた。", "分野別の仕切りがなく、セミナー案内と募集案内が混在している。", "掲示板に3か月前のイベントのポスターが残っている。"},
	"counter":       {"窓口の名札が見えない位置にあった。", "順番待ちの案内表示がなく、来所者が戸惑っていた。", "説明に専門用語が多く、来所者が聞き返していた。"},
	"cleanliness":   {"トイレの清掃記録が2日分未記入。", "待合スペースに段ボールが置かれたままになっている。", "入口付近の照明が1本切れている。"},
	"accessibility": {"スロープ前に自転車が置かれ通行の妨げになっている。", "多目的トイレの呼出ボタンの表示が剥がれている。", "筆談ボードが窓口に見当たらなかった。"},
	"multilingual":  {"英語の案内が入口のみで館内にない。", "やさしい日本語の案内が用意されていない。"},
	"safety":        {"避難経路の表示の前に備品が置かれている。", "消火器の点検表示が期限切れ。", "AEDの場所を示す表示が2階にない。"},
	"information":   {"ホームページの開館時間が更新されていない。", "館内の催し案内が前月のままになっている。"},
	"feedback":      {"ご意見箱の用紙が切れていた。", "寄せられた意見への回答が掲示されていない。"},
}

func demoComment(it checklist.Item, rng *rand.Rand) string {
	for section, list := range demoComments {
		if len(it.Key) > len(section) && it.Key[:len(section)+1] == section+"." {
			return list[rng.IntN(len(list))]
		}
	}
	return "改善が必要。次回点検までに対応する。"
}

// storeDemoPhoto stores a small generated PNG — a wall, a notice board
// and a few notices — and returns its digest.
func storeDemoPhoto(ctx context.Context, photos photoPutter, rng *rand.Rand) (string, int64, error) {
	const w, h = 96, 64
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	wall := color.RGBA{uint8(200 + rng.IntN(40)), uint8(195 + rng.IntN(40)), uint8(180 + rng.IntN(40)), 255}
	board := color.RGBA{uint8(120 + rng.IntN(40)), uint8(90 + rng.IntN(30)), 60, 255}
	for y := range h {
		for x := range w {
			c := wall
			if y > h*3/4 {
				c = color.RGBA{110, 110, 115, 255} // floor
			}
			if x > 10 && x < w-10 && y > 8 && y < h*3/4-4 {
				c = board
			}
			img.Set(x, y, c)
		}
	}
	for range 3 + rng.IntN(5) {
		x0, y0 := 12+rng.IntN(w-36), 10+rng.IntN(h*3/4-30)
		paper := color.RGBA{uint8(220 + rng.IntN(35)), uint8(220 + rng.IntN(35)), uint8(150 + rng.IntN(100)), 255}
		for y := y0; y < y0+14+rng.IntN(8); y++ {
			for x := x0; x < x0+10+rng.IntN(10); x++ {
				img.Set(x, y, paper)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", 0, err
	}
	return photos.Put(ctx, &buf, 1<<20)
}
