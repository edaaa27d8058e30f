package chart

import "math"

// writeBars writes one path per series, a rectangle per point, each series
// stacked on the ones before it.
func (p *plot) writeBars(w *writer) {
	width := math.Round(min(max(p.slot*0.8, 1), 48)*10) / 10
	offset := (p.slot - width) / 2
	base := make([]float64, len(p.labels))
	w.WriteString(`<g class="chart-bars">` + "\n")
	for s, vs := range p.vals {
		started := false
		for i, v := range vs {
			low := base[i]
			base[i] = min(low+v, maxValue)
			// Rounded ends, so that stacked bars meet exactly.
			bottom, top := round1(p.y(low)), round1(p.y(base[i]))
			if top >= bottom {
				continue // nothing, or too little to see
			}
			if !started {
				w.WriteString("<path")
				w.classAttr("chart-bar", p.series[s].Class)
				w.attr("fill", p.colours[s])
				w.WriteString(` d="`)
				started = true
			}
			w.WriteByte('M')
			w.num(p.x0 + float64(i)*p.slot + offset)
			w.WriteByte(' ')
			w.num(bottom)
			w.WriteByte('V')
			w.num(top)
			w.WriteByte('h')
			w.num(width)
			w.WriteByte('V')
			w.num(bottom)
			w.WriteByte('z')
		}
		if started {
			w.WriteString("\"/>\n")
		}
	}
	w.WriteString("</g>\n")
}

func round1(v float64) float64 {
	return math.Round(v*10) / 10
}
