package chart

import "strings"

// CSS colours the charts: the series classes ok, fail, pending and latency,
// the gridlines, the axis and the text. A page appends it to its
// stylesheet. Text and lines follow currentColor, and every colour is a CSS
// variable with a fallback that reads on light and dark backgrounds alike,
// so a theme may set --chart-ok, --chart-fail, --chart-pending,
// --chart-latency, --chart-grid, --chart-axis and --chart-text.
// Series of other classes keep the palette colour Bars and Lines give them.
const CSS = `/* Hookline charts (internal/chart) */
.chart text{fill:var(--chart-text,currentColor)}
.chart .chart-grid{stroke:var(--chart-grid,currentColor);stroke-opacity:.15}
.chart .chart-axis{stroke:var(--chart-axis,currentColor);stroke-opacity:.6}
.chart .chart-hits rect:hover{fill-opacity:.08}
.chart .chart-bar.ok,.chart .chart-swatch.ok,.chart .chart-dot.ok{fill:var(--chart-ok,#2e9d4f)}
.chart .chart-line.ok{stroke:var(--chart-ok,#2e9d4f)}
.chart .chart-bar.fail,.chart .chart-swatch.fail,.chart .chart-dot.fail{fill:var(--chart-fail,#d64541)}
.chart .chart-line.fail{stroke:var(--chart-fail,#d64541)}
.chart .chart-bar.pending,.chart .chart-swatch.pending,.chart .chart-dot.pending{fill:var(--chart-pending,#b7860b)}
.chart .chart-line.pending{stroke:var(--chart-pending,#b7860b)}
.chart .chart-bar.latency,.chart .chart-swatch.latency,.chart .chart-dot.latency{fill:var(--chart-latency,#3b7dd8)}
.chart .chart-line.latency{stroke:var(--chart-latency,#3b7dd8)}
`

// named are the colours of the classes CSS knows, the same as its
// fallbacks, so that a chart is coloured right even without the CSS.
var named = map[string]string{
	"ok":      "#2e9d4f",
	"fail":    "#d64541",
	"pending": "#b7860b",
	"latency": "#3b7dd8",
}

// palette colours the series of other classes, avoiding the colours of
// the known classes.
var palette = [...]string{"#3b7dd8", "#8e6bc4", "#1f9a9a", "#c2577f", "#7a8a2e", "#2e9d4f", "#d64541", "#b7860b"}

// colours are the presentation colours of the series, which CSS rules,
// when the page has them, take precedence over: the colour of its class
// for a known class, else the next palette colour the chart does not use
// yet.
func colours(series []Series) []string {
	out := make([]string, len(series))
	used := map[string]bool{}
	for i, s := range series {
		for _, f := range strings.Fields(s.Class) {
			if c, ok := named[f]; ok {
				out[i], used[c] = c, true
				break
			}
		}
	}
	next := 0
	for i := range out {
		if out[i] != "" {
			continue
		}
		for k := 0; k < len(palette) && used[palette[next%len(palette)]]; k++ {
			next++
		}
		out[i] = palette[next%len(palette)]
		used[out[i]] = true
		next++
	}
	return out
}
