package chart

import "math"

// legendItem is one entry of the legend: a swatch and a name.
type legendItem struct {
	x, y   float64 // top left of the swatch
	name   string
	class  string
	colour string
}

// layoutLegend places the legend entries of the named series left to
// right, wrapping to at most maxLegendRows rows, and returns the number of
// rows used.
func (p *plot) layoutLegend(series []Series) int {
	most := min(maxLegendRows, max(1, int((p.h-70)/legendRow)))
	x, row := pad, 0
	for i, s := range series {
		name := truncate(s.Name, maxNameRune)
		if name == "" {
			continue
		}
		width := 14 + textWidth(name)
		if x > pad && x+width > p.w-pad {
			row, x = row+1, pad
		}
		if row == most {
			break
		}
		p.legend = append(p.legend, legendItem{x: x, y: 4 + float64(row)*legendRow, name: name, class: s.Class, colour: p.colours[i]})
		x += width + 14
	}
	if len(p.legend) == 0 {
		return 0
	}
	return min(row+1, most)
}

func (p *plot) writeLegend(w *writer) {
	if len(p.legend) == 0 {
		return
	}
	w.WriteString(`<g class="chart-legend" fill="currentColor">` + "\n")
	for _, l := range p.legend {
		w.WriteString("<rect")
		w.classAttr("chart-swatch", l.class)
		w.attr("fill", l.colour)
		w.numAttr("x", l.x)
		w.numAttr("y", l.y)
		w.WriteString(` width="10" height="10"/><text`)
		w.numAttr("x", l.x+14)
		w.numAttr("y", l.y+9)
		w.WriteByte('>')
		escape(&w.Builder, l.name)
		w.WriteString("</text>\n")
	}
	w.WriteString("</g>\n")
}

// writeYAxis writes the gridlines above zero and the labels of all ticks.
func (p *plot) writeYAxis(w *writer) {
	w.WriteString(`<path class="chart-grid" stroke="currentColor" stroke-opacity="0.15" d="`)
	for i := 1; i <= p.steps; i++ {
		w.WriteByte('M')
		w.num(p.x0)
		w.WriteByte(' ')
		w.num(p.y(float64(i) * p.step))
		w.WriteByte('H')
		w.num(p.x1)
	}
	w.WriteString(`"/>` + "\n" + `<g class="chart-ylabels" fill="currentColor" text-anchor="end">` + "\n")
	for i := 0; i <= p.steps; i++ {
		v := float64(i) * p.step
		w.WriteString("<text")
		w.numAttr("x", p.x0-6)
		w.numAttr("y", p.y(v)+fontSize*0.35) // about the middle of the digits
		w.WriteByte('>')
		escape(&w.Builder, formatValue(v, p.unit))
		w.WriteString("</text>\n")
	}
	w.WriteString("</g>\n")
}

// xLabel is an x label as drawn.
type xLabel struct {
	x    float64 // middle
	text string
}

// xLabels chooses the x labels to draw. Going left to right, a label is
// drawn when its point is at least the widest label (plus a gap) away from
// the last drawn one, which spaces labels evenly, and when its box, kept
// inside the view, does not overlap the last drawn one.
func (p *plot) xLabels() []xLabel {
	const gap = 8
	texts := make([]string, len(p.labels))
	widest := 0.0
	for i, l := range p.labels {
		texts[i] = truncate(l, maxLabelRune)
		widest = max(widest, textWidth(texts[i]))
	}
	var out []xLabel
	lastMiddle, lastRight := math.Inf(-1), math.Inf(-1)
	for i, t := range texts {
		if t == "" || p.cx(i)-lastMiddle < widest+gap {
			continue
		}
		half := textWidth(t) / 2
		x := max(min(p.cx(i), p.w-half-2), half+2)
		if x-half < lastRight+gap {
			continue
		}
		out = append(out, xLabel{x: x, text: t})
		lastMiddle, lastRight = p.cx(i), x+half
	}
	return out
}

func (p *plot) writeXLabels(w *writer) {
	labels := p.xLabels()
	if len(labels) == 0 {
		return
	}
	w.WriteString(`<g class="chart-xlabels" fill="currentColor" text-anchor="middle">` + "\n")
	for _, l := range labels {
		w.WriteString("<text")
		w.numAttr("x", l.x)
		w.numAttr("y", p.y1+15)
		w.WriteByte('>')
		escape(&w.Builder, l.text)
		w.WriteString("</text>\n")
	}
	w.WriteString("</g>\n")
}

// writeTips writes a transparent target over each point whose <title> the
// browser shows on hover: the point's label, then each series' value.
func (p *plot) writeTips(w *writer) {
	if len(p.series) == 0 || len(p.labels) == 0 {
		return
	}
	w.WriteString(`<g class="chart-hits" fill="currentColor" fill-opacity="0">` + "\n")
	for i, tip := range p.tips {
		w.WriteString("<rect")
		w.numAttr("x", p.x0+float64(i)*p.slot)
		w.numAttr("y", p.y0)
		w.numAttr("width", p.slot)
		w.numAttr("height", p.y1-p.y0)
		w.WriteString("><title>")
		escape(&w.Builder, tip)
		for s, vs := range p.vals {
			if tip != "" || s > 0 {
				w.WriteByte('\n')
			}
			if name := p.series[s].Name; name != "" {
				escape(&w.Builder, name+": ")
			}
			escape(&w.Builder, formatValue(vs[i], p.unit))
		}
		w.WriteString("</title></rect>\n")
	}
	w.WriteString("</g>\n")
}
