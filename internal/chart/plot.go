package chart

import "math"

// Layout, in viewBox units.
const (
	defaultWidth  = 640
	defaultHeight = 200
	minWidth      = 160
	minHeight     = 80
	maxSize       = 4096
	pad           = 8.0  // around the plot
	minSlot       = 2.0  // the least width per point; more points are merged
	legendRow     = 16.0 // height of a legend row
	maxLegendRows = 3    // entries that do not fit are left out of the legend
)

// plot is a chart laid out: the values to draw, and where.
type plot struct {
	kind   kind
	id     string
	unit   string
	counts bool    // whole steps on the y axis
	w, h   float64 // the viewBox
	x0, x1 float64 // the plot area, left to right
	y0, y1 float64 // the plot area, top to bottom; y1 is the zero line
	slot   float64 // the width of each point

	series  []Series    // as given, but for Values: see vals
	colours []string    // per series, see colours
	vals    [][]float64 // per series, per point: cleaned, and merged when there are too many
	labels  []string    // per point, the x label
	tips    []string    // per point, the first line of its tooltip

	top, step float64 // the y axis
	steps     int
	legend    []legendItem
}

// newPlot lays c out to be drawn as k.
func newPlot(c Chart, k kind) *plot {
	p := &plot{
		kind:    k,
		id:      chartID(c.ID),
		unit:    c.Unit,
		counts:  c.Counts,
		w:       float64(size(c.Width, defaultWidth, minWidth)),
		h:       float64(size(c.Height, defaultHeight, minHeight)),
		series:  c.Series,
		colours: colours(c.Series),
	}
	n := len(c.Labels)
	if len(c.Series) > 0 {
		if n == 0 {
			n = math.MaxInt // no labels: as many points as the shortest series
		}
		for _, s := range c.Series {
			n = min(n, len(s.Values))
		}
	}
	p.vals = make([][]float64, len(c.Series))
	for i, s := range c.Series {
		p.vals[i] = make([]float64, n)
		for j := range n {
			p.vals[i][j] = clean(s.Values[j])
		}
	}
	p.labels = make([]string, n)
	copy(p.labels, c.Labels)
	p.tips = p.labels

	rows := p.layoutLegend(c.Series)
	p.y0 = pad + 2 + float64(rows)*legendRow // room for half the top y label
	p.y1 = p.h - pad
	for _, l := range p.labels {
		if l != "" {
			p.y1 = p.h - 20
			break
		}
	}

	p.fitScale()
	if most := max(int((p.x1-p.x0)/minSlot), 1); n > most {
		p.merge((n + most - 1) / most)
		p.fitScale() // sums are larger than their parts
	}
	p.slot = (p.x1 - p.x0) / float64(max(len(p.labels), 1))
	return p
}

// size is v within [least, maxSize], or def when v is not positive.
func size(v, def, least int) int {
	if v <= 0 {
		return def
	}
	return min(max(v, least), maxSize)
}

// fitScale sets the y axis for the values, and the left edge of the plot
// so that its labels fit.
func (p *plot) fitScale() {
	high := 0.0
	for j := range p.labels {
		point := 0.0 // the height of the bar stack, or of the highest line
		for _, v := range p.vals {
			if p.kind == kindBars {
				point = min(point+v[j], maxValue)
			} else {
				point = max(point, v[j])
			}
		}
		high = max(high, point)
	}
	if p.counts {
		high = max(high, 3) // whole steps: 1, 2, 3 at the least
	}
	p.top, p.step, p.steps = niceScale(high)
	widest := 0.0
	for i := 1; i <= p.steps; i++ {
		widest = max(widest, textWidth(formatValue(float64(i)*p.step, p.unit)))
	}
	p.x0 = min(max(widest+pad+6, 24), p.w/3)
	p.x1 = p.w - pad
}

// merge puts every b neighbouring points into one: bars add up, lines keep
// the largest. A merged point is labelled by its first label, and its
// tooltip names the first and the last.
func (p *plot) merge(b int) {
	n := len(p.labels)
	m := (n + b - 1) / b
	for s, vs := range p.vals {
		merged := make([]float64, m)
		for j, v := range vs {
			if p.kind == kindBars {
				merged[j/b] = min(merged[j/b]+v, maxValue)
			} else {
				merged[j/b] = max(merged[j/b], v)
			}
		}
		p.vals[s] = merged
	}
	labels, tips := make([]string, m), make([]string, m)
	for g := range m {
		first, last := p.labels[g*b], p.labels[min((g+1)*b, n)-1]
		labels[g], tips[g] = first, first
		if first != last && first != "" && last != "" {
			tips[g] = first + " – " + last
		}
	}
	p.labels, p.tips = labels, tips
}

// y is where value v is drawn; values above the axis stop at its top.
func (p *plot) y(v float64) float64 {
	return p.y1 - min(v/p.top, 1)*(p.y1-p.y0)
}

// cx is the middle of point i.
func (p *plot) cx(i int) float64 {
	return p.x0 + (float64(i)+0.5)*p.slot
}
