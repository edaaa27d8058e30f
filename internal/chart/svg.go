package chart

import (
	"math"
	"strconv"
	"strings"
)

// writer builds the SVG text.
type writer struct {
	strings.Builder
	scratch [32]byte
}

// num writes v rounded to one decimal, the precision of every coordinate.
func (w *writer) num(v float64) {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	w.Write(strconv.AppendFloat(w.scratch[:0], v, 'f', -1, 64))
}

// attr writes ` name="value"`, value escaped.
func (w *writer) attr(name, value string) {
	w.WriteString(" " + name + `="`)
	escape(&w.Builder, value)
	w.WriteByte('"')
}

// numAttr writes ` name="v"`, v rounded to one decimal.
func (w *writer) numAttr(name string, v float64) {
	w.WriteString(" " + name + `="`)
	w.num(v)
	w.WriteByte('"')
}

// classAttr writes the class attribute of an element of a series.
func (w *writer) classAttr(base, class string) {
	w.attr("class", strings.TrimSpace(base+" "+class))
}

// draw lays c out and writes it as an SVG element.
func draw(c Chart, k kind) string {
	p := newPlot(c, k)
	var w writer
	w.Grow(min(2048+160*len(p.labels)*max(len(p.series), 1), 64<<10))
	p.writeHead(&w, c.Title, c.Desc)
	p.writeLegend(&w)
	p.writeYAxis(&w)
	p.writeXLabels(&w)
	if k == kindBars {
		p.writeBars(&w)
	} else {
		p.writeLines(&w)
	}
	w.WriteString(`<path class="chart-axis" stroke="currentColor" stroke-opacity="0.6" d="M`)
	w.num(p.x0)
	w.WriteByte(' ')
	w.num(p.y1)
	w.WriteByte('H')
	w.num(p.x1)
	w.WriteString("\"/>\n")
	p.writeTips(&w)
	w.WriteString("</svg>")
	return w.String()
}

// writeHead opens the svg element and writes its accessible name and
// description.
func (p *plot) writeHead(w *writer, title, desc string) {
	class := "chart chart-bars"
	if p.kind == kindLines {
		class = "chart chart-lines"
	}
	w.WriteString(`<svg xmlns="http://www.w3.org/2000/svg"`)
	w.attr("class", class)
	w.WriteString(` viewBox="0 0 `)
	w.num(p.w)
	w.WriteByte(' ')
	w.num(p.h)
	w.WriteString(`" width="100%" preserveAspectRatio="xMidYMid meet" role="img"`)
	w.attr("aria-labelledby", p.id+"-title "+p.id+"-desc")
	w.WriteString(` font-size="11">` + "\n<title")
	w.attr("id", p.id+"-title")
	w.WriteByte('>')
	escape(&w.Builder, title)
	w.WriteString("</title>\n<desc")
	w.attr("id", p.id+"-desc")
	w.WriteByte('>')
	escape(&w.Builder, desc)
	w.WriteString("</desc>\n")
}
