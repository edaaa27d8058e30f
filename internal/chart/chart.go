// Package chart draws small SVG charts on the server, for the tenant portal
// and the operator console.
//
// Bars and Lines return one self-contained <svg> element as template.HTML,
// ready to place in an html/template page. The SVG holds no script and no
// style attributes, so it passes a strict Content-Security-Policy: colours
// come from presentation attributes (a fallback palette) and from CSS classes,
// which a page styles by appending CSS to its stylesheet.
//
// The charts are for reading at a glance: a "nice" y axis (steps of 1, 2 or 5
// × 10ⁿ), x labels thinned so they never overlap, a legend, and a tooltip per
// point (an SVG <title>, shown on hover without JavaScript). Every piece of
// caller text is escaped, and any input, however odd (NaN, negative values,
// series of different lengths, thousands of points), gives a well-formed
// chart rather than a panic.
package chart

import (
	"html/template"
	"strconv"
	"sync/atomic"
)

// Series is one named line, or one layer of a bar stack.
type Series struct {
	Name   string    // legend text, already translated by the caller
	Class  string    // CSS class for colouring, e.g. "ok", "fail", "pending", "latency"
	Values []float64 // one per point; NaN, ±Inf and negative values count as 0
}

// Chart is what to draw.
//
// The number of points is the length of the shortest series, and of Labels
// too when Labels is not empty. When there are more points than the plot
// has room for (one per 2 units of width), neighbouring points are merged
// deterministically: Bars adds them up, Lines keeps the largest so that
// spikes stay visible.
type Chart struct {
	Title  string   // accessible title, the <title> of the SVG
	Desc   string   // accessible description, the <desc> of the SVG
	Labels []string // x labels, one per point, formatted by the caller; only as many as fit are drawn
	Unit   string   // y unit suffix, e.g. " ms" or ""; " ms" values of 1000 or more are shown in seconds
	Series []Series
	// Counts says the values are counts: the y axis then has whole steps
	// (no "0.5 deliveries").
	Counts bool

	// Width and Height are the size of the viewBox; the SVG itself is as
	// wide as its container. Zero or negative means 640×200; other values
	// are kept within 160–4096 × 80–4096.
	Width, Height int

	// ID prefixes the ids of the <title> and <desc> elements, so it must be
	// unique within the page. Characters other than ASCII letters, digits,
	// '-' and '_' become '-'. When empty, a process-wide counter supplies
	// one ("chart1", "chart2", ...).
	ID string
}

// Bars draws the series stacked as bars, the first series at the bottom:
// for example deliveries succeeded and failed per hour.
func Bars(c Chart) template.HTML {
	return template.HTML(draw(c, kindBars))
}

// Lines draws each series as a line: for example average and maximum
// latency per hour.
func Lines(c Chart) template.HTML {
	return template.HTML(draw(c, kindLines))
}

type kind int

const (
	kindBars kind = iota
	kindLines
)

var lastID atomic.Uint64

// chartID is c.ID made safe for an id attribute and an aria-labelledby list,
// or a fresh id when c.ID is empty.
func chartID(id string) string {
	if id == "" {
		return "chart" + strconv.FormatUint(lastID.Add(1), 10)
	}
	b := []byte(id)
	if len(b) > 64 {
		b = b[:64]
	}
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}
