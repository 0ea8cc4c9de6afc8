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
	return ch
}
