package handlers

// Charts for the console, drawn on the server as SVG geometry that a
// template renders: readable without JavaScript and in print.

// chartBar is one bar, in the chart's coordinates.
type chartBar struct {
	X, Y, W, H float64
	Label      string // under the bar
	Value      string // above the bar
	Class      string
	LX, VY     float64 // label x, value y
}

// barChart is a vertical bar chart of W×H.
type barChart struct {
	W, H   float64
	Base   float64 // y of the axis
	Bars   []chartBar
	Title  string
	Labels []string
	Values []string
	// Rotate slants the labels under the bars when they would not fit.
	Rotate bool
	LabelY float64
}

// fitLabels slants the labels when one is wider than its slot, and makes
// room for them under the axis.
func (ch *barChart) fitLabels(slot float64) {
	ch.LabelY = ch.H - 10
	for _, b := range ch.Bars {
		if float64(len(b.Label))*6.5 > slot {
			ch.Rotate = true
		}
	}
	if ch.Rotate {
		ch.H += 60
		ch.LabelY = ch.Base + 14
	}
}

// newBarChart draws values (labelled, shown as texts) as bars scaled to
// the largest value.
func newBarChart(title string, labels []string, values []float64, texts []string) barChart {
	const w, h, top, bottom, gap = 560.0, 220.0, 20.0, 30.0, 6.0
	ch := barChart{W: w, H: h, Base: h - bottom, Title: title, Labels: labels, Values: texts}
	maxV := 0.0
	for _, v := range values {
		maxV = max(maxV, v)
	}
	if len(values) == 0 {
		return ch
	}
	slot := w / float64(len(values))
	for i, v := range values {
		bh := 0.0
		if maxV > 0 {
			bh = (h - top - bottom) * v / maxV
		}
		x := float64(i)*slot + gap/2
		ch.Bars = append(ch.Bars, chartBar{X: x, Y: ch.Base - bh, W: slot - gap, H: bh, Label: labels[i], Value: texts[i],
			Class: "bar", LX: x + (slot-gap)/2, VY: ch.Base - bh - 4})
	}
	ch.fitLabels(slot)
	return ch
}

// newPairChart draws two series side by side in each slot (a lighter,
// then b), scaled to the largest value of both; for year-over-year.
func newPairChart(title string, labels []string, a, b []float64, texts []string) barChart {
	const w, h, top, bottom, gap = 560.0, 220.0, 20.0, 30.0, 8.0
	ch := barChart{W: w, H: h, Base: h - bottom, Title: title}
	maxV := 0.0
	for i := range a {
		maxV = max(maxV, a[i], b[i])
	}
	if len(a) == 0 {
		return ch
	}
	slot := w / float64(len(a))
	bw := (slot - gap) / 2
	scale := func(v float64) float64 {
		if maxV <= 0 {
			return 0
		}
		return (h - top - bottom) * v / maxV
	}
	for i := range a {
		x := float64(i)*slot + gap/2
		ha, hb := scale(a[i]), scale(b[i])
		ch.Bars = append(ch.Bars,
			chartBar{X: x, Y: ch.Base - ha, W: bw, H: ha, Class: "bar prev", LX: x + bw/2, VY: ch.Base - ha - 4},
			chartBar{X: x + bw, Y: ch.Base - hb, W: bw, H: hb, Class: "bar", Label: labels[i], Value: texts[i], LX: x + bw, VY: ch.Base - hb - 4})
	}
	ch.fitLabels(slot)
	return ch
}
