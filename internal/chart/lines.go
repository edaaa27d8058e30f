package chart

// writeLines writes one polyline per series, and a dot on each point when
// points are far enough apart to tell (or there is only one).
func (p *plot) writeLines(w *writer) {
	n := len(p.labels)
	if n == 0 {
		return
	}
	w.WriteString(`<g class="chart-lines" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">` + "\n")
	if n > 1 {
		for s, vs := range p.vals {
			w.WriteString("<polyline")
			w.classAttr("chart-line", p.series[s].Class)
			w.attr("stroke", p.colours[s])
			w.WriteString(` points="`)
			for i, v := range vs {
				if i > 0 {
					w.WriteByte(' ')
				}
				w.num(p.cx(i))
				w.WriteByte(',')
				w.num(p.y(v))
			}
			w.WriteString("\"/>\n")
		}
	}
	w.WriteString("</g>\n")
	if n > 1 && p.slot < 20 {
		return
	}
	w.WriteString(`<g class="chart-dots">` + "\n")
	for s, vs := range p.vals {
		w.WriteString("<g")
		w.classAttr("chart-dot", p.series[s].Class)
		w.attr("fill", p.colours[s])
		w.WriteString(">\n")
		for i, v := range vs {
			w.WriteString("<circle")
			w.numAttr("cx", p.cx(i))
			w.numAttr("cy", p.y(v))
			w.WriteString(` r="3"/>` + "\n")
		}
		w.WriteString("</g>\n")
	}
	w.WriteString("</g>\n")
}
