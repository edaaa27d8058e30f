package chart

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/browsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// deliveries is a day of hourly delivery counts, as the portal shows them.
func deliveries(points int) Chart {
	c := Chart{
		Title: "Deliveries per hour",
		Desc:  "Succeeded and failed deliveries over the last two days.",
		Series: []Series{
			{Name: "Succeeded", Class: "ok"},
			{Name: "Failed", Class: "fail"},
		},
	}
	for i := range points {
		c.Labels = append(c.Labels, fmt.Sprintf("%02d:00", i%24))
		c.Series[0].Values = append(c.Series[0].Values, float64(1000+(i*7919)%2400))
		c.Series[1].Values = append(c.Series[1].Values, float64((i*31)%90))
	}
	return c
}

// latency is a day of hourly latencies in milliseconds.
func latency(points int) Chart {
	c := Chart{
		Title: "Latency",
		Desc:  "Average and maximum delivery latency per hour.",
		Unit:  " ms",
		Series: []Series{
			{Name: "Average", Class: "latency"},
			{Name: "Max", Class: "pending"},
		},
	}
	for i := range points {
		c.Labels = append(c.Labels, fmt.Sprintf("%02d:00", i%24))
		c.Series[0].Values = append(c.Series[0].Values, float64(80+(i*37)%120))
		c.Series[1].Values = append(c.Series[1].Values, float64(300+(i*7919)%2200))
	}
	return c
}

// element is a parsed SVG element.
type element struct {
	name     string
	attrs    map[string]string
	text     string
	children []*element
}

// parse checks that out is one well-formed svg element holding no script,
// no style attribute and no event handler, and returns it.
func parse(t testing.TB, out string) *element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(out))
	var root *element
	var stack []*element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := strings.ToLower(a.Name.Local)
				if name == "style" || strings.HasPrefix(name, "on") || strings.Contains(a.Value, "javascript:") {
					t.Fatalf("forbidden attribute %s=%q", a.Name.Local, a.Value)
				}
				e.attrs[a.Name.Local] = a.Value
			}
			switch strings.ToLower(e.name) {
			case "script", "style", "foreignobject", "a", "image", "use":
				t.Fatalf("forbidden element <%s>", e.name)
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatalf("got a second root <%s>, want one svg element", e.name)
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(tok)) > 0 {
					t.Fatalf("got text %q outside the svg element", tok)
				}
				continue
			}
			stack[len(stack)-1].text += string(tok)
		case xml.ProcInst, xml.Directive:
			t.Fatalf("got %T, want only elements and text", tok)
		}
	}
	if root == nil || root.name != "svg" {
		t.Fatalf("got no svg root element:\n%s", out)
	}
	return root
}

// all returns e and its descendants named name, in document order.
func (e *element) all(name string) []*element {
	var out []*element
	if e.name == name {
		out = append(out, e)
	}
	for _, c := range e.children {
		out = append(out, c.all(name)...)
	}
	return out
}

// group returns the g element of the given class, or nil.
func (e *element) group(class string) *element {
	for _, g := range e.all("g") {
		if g.attrs["class"] == class {
			return g
		}
	}
	return nil
}

func number(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("got %q, want a number", s)
	}
	return f
}

func TestSVGElement(t *testing.T) {
	t.Parallel()
	for name, draw := range map[string]func(Chart) string{
		"bars":  func(c Chart) string { return string(Bars(c)) },
		"lines": func(c Chart) string { return string(Lines(c)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := deliveries(24)
			svg := parse(t, draw(c))
			want := map[string]string{
				"viewBox":             "0 0 640 200",
				"role":                "img",
				"width":               "100%",
				"preserveAspectRatio": "xMidYMid meet",
			}
			for k, v := range want {
				if got := svg.attrs[k]; got != v {
					t.Errorf("got %s=%q, want %q", k, got, v)
				}
			}
			ids := strings.Fields(svg.attrs["aria-labelledby"])
			if len(ids) != 2 {
				t.Fatalf("got aria-labelledby=%q, want two ids", svg.attrs["aria-labelledby"])
			}
			title, desc := svg.children[0], svg.children[1]
			if title.name != "title" || title.attrs["id"] != ids[0] || title.text != c.Title {
				t.Errorf("got first child <%s id=%q>%s, want <title id=%q>%s", title.name, title.attrs["id"], title.text, ids[0], c.Title)
			}
			if desc.name != "desc" || desc.attrs["id"] != ids[1] || desc.text != c.Desc {
				t.Errorf("got second child <%s id=%q>%s, want <desc id=%q>%s", desc.name, desc.attrs["id"], desc.text, ids[1], c.Desc)
			}
			var legend []string
			for _, tx := range svg.group("chart-legend").all("text") {
				legend = append(legend, tx.text)
			}
			if got, want := strings.Join(legend, ","), "Succeeded,Failed"; got != want {
				t.Errorf("got legend %q, want %q", got, want)
			}
			if got := len(svg.group("chart-legend").all("rect")); got != 2 {
				t.Errorf("got %d legend swatches, want 2", got)
			}
			if got := len(svg.group("chart-hits").all("rect")); got != 24 {
				t.Errorf("got %d tooltips, want 24", got)
			}
		})
	}
}

func TestUnnamedSeries(t *testing.T) {
	t.Parallel()
	svg := parse(t, string(Bars(Chart{Labels: []string{"a"}, Unit: " ms", Series: []Series{{Values: []float64{1500}}}})))
	if g := svg.group("chart-legend"); g != nil {
		t.Errorf("got a legend of %d entries, want none for unnamed series", len(g.all("text")))
	}
	if got, want := svg.group("chart-hits").all("title")[0].text, "a\n1.5 s"; got != want {
		t.Errorf("got tooltip %q, want %q", got, want)
	}
}

func TestIDsAreUniquePerCall(t *testing.T) {
	t.Parallel()
	a, b := parse(t, string(Bars(deliveries(3)))), parse(t, string(Bars(deliveries(3))))
	if a.attrs["aria-labelledby"] == b.attrs["aria-labelledby"] {
		t.Errorf("got the same ids %q twice, want different ones", a.attrs["aria-labelledby"])
	}
	c := deliveries(3)
	c.ID = `sales "q3" <x>`
	got := parse(t, string(Lines(c))).attrs["aria-labelledby"]
	if want := "sales--q3---x--title sales--q3---x--desc"; got != want {
		t.Errorf("got aria-labelledby=%q, want %q", got, want)
	}
}

func TestCallerTextIsEscaped(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert("x&'y")</script>`
	c := Chart{
		Title:  evil,
		Desc:   evil,
		Labels: []string{evil, "b", `"quoted"`},
		Unit:   `"><script>`,
		Series: []Series{{Name: evil, Class: `ok" onload="alert(1)`, Values: []float64{1, 2, 3}}},
		ID:     `x" onclick="y`,
	}
	for name, out := range map[string]string{"bars": string(Bars(c)), "lines": string(Lines(c))} {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, "<script") || strings.Contains(out, `"quoted"`) {
				t.Fatalf("caller text is not escaped:\n%s", out)
			}
			svg := parse(t, out)
			if got := svg.all("title")[0].text; got != evil {
				t.Errorf("got title %q, want %q", got, evil)
			}
			if got := svg.all("desc")[0].text; got != evil {
				t.Errorf("got desc %q, want %q", got, evil)
			}
			if got := svg.group("chart-legend").all("text")[0].text; got != truncate(evil, maxNameRune) {
				t.Errorf("got legend %q, want %q", got, truncate(evil, maxNameRune))
			}
			tip := svg.group("chart-hits").all("title")[0].text
			if !strings.Contains(tip, evil+": ") {
				t.Errorf("got tooltip %q, want the series name %q in it", tip, evil)
			}
		})
	}
}

func TestInvalidCharacters(t *testing.T) {
	t.Parallel()
	c := Chart{Title: "a\x00b\x1bc\xff\ufffe", Labels: []string{"\x01"}, Series: []Series{{Name: "\xc3", Values: []float64{1}}}}
	svg := parse(t, string(Bars(c)))
	if got, want := svg.all("title")[0].text, "a\ufffdb\ufffdc\ufffd\ufffd"; got != want {
		t.Errorf("got title %q, want %q", got, want)
	}
}

func TestOddInput(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	thousand := make([]float64, 1000)
	labels := make([]string, 1000)
	for i := range thousand {
		thousand[i] = float64(i % 37)
		labels[i] = fmt.Sprintf("day %d", i)
	}
	tests := []struct {
		name   string
		chart  Chart
		points int // tooltips drawn: one per point
	}{
		{name: "zero value", chart: Chart{}},
		{name: "labels only", chart: Chart{Labels: []string{"a", "b"}}},
		{name: "no values", chart: Chart{Labels: []string{"a"}, Series: []Series{{Name: "s"}}}},
		{name: "all zero", chart: Chart{Series: []Series{{Values: []float64{0, 0, 0}}}}, points: 3},
		{name: "not numbers", chart: Chart{Series: []Series{{Values: []float64{nan, inf, -inf, -5, math.MaxFloat64, math.SmallestNonzeroFloat64}}}}, points: 6},
		{name: "huge sums", chart: Chart{Series: []Series{{Values: []float64{math.MaxFloat64}}, {Values: []float64{math.MaxFloat64}}}}, points: 1},
		{name: "different lengths", chart: Chart{Labels: []string{"a", "b", "c", "d"}, Series: []Series{{Values: []float64{1, 2, 3}}, {Values: []float64{1, 2}}}}, points: 2},
		{name: "fewer labels", chart: Chart{Labels: []string{"a"}, Series: []Series{{Values: []float64{1, 2, 3}}}}, points: 1},
		{name: "one point", chart: Chart{Labels: []string{"now"}, Series: []Series{{Name: "x", Values: []float64{4}}}}, points: 1},
		{name: "tiny size", chart: Chart{Width: 1, Height: 1, Series: []Series{{Values: []float64{1, 2}}}}, points: 2},
		{name: "huge size", chart: Chart{Width: math.MaxInt, Height: math.MaxInt, Series: []Series{{Values: []float64{1, 2}}}}, points: 2},
		{name: "many series", chart: Chart{Series: make([]Series, 300)}},
		{name: "long text", chart: Chart{Labels: []string{strings.Repeat("月", 500)}, Series: []Series{{Name: strings.Repeat("x", 1000), Values: []float64{1}}}}, points: 1},
		{name: "thousand points", chart: Chart{Labels: labels, Series: []Series{{Values: thousand}, {Values: thousand}}}, points: 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for kind, out := range map[string]string{"bars": string(Bars(tt.chart)), "lines": string(Lines(tt.chart))} {
				svg := parse(t, out)
				var tips int
				if g := svg.group("chart-hits"); g != nil {
					tips = len(g.all("rect"))
				}
				if tips != tt.points {
					t.Errorf("%s: got %d points, want %d", kind, tips, tt.points)
				}
				if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
					t.Errorf("%s: got NaN or Inf in\n%s", kind, out)
				}
			}
		})
	}
}

func TestManyBarsAreAtLeastOneUnitWide(t *testing.T) {
	t.Parallel()
	c := deliveries(1000)
	svg := parse(t, string(Bars(c)))
	bar := regexp.MustCompile(`M([\d.]+) ([\d.]+)V([\d.]+)h([\d.]+)V([\d.]+)z`)
	paths := svg.group("chart-bars").all("path")
	if len(paths) != 2 {
		t.Fatalf("got %d bar paths, want 2", len(paths))
	}
	bars := bar.FindAllStringSubmatch(paths[0].attrs["d"], -1)
	if len(bars) == 0 || len(bars) > 320 {
		t.Fatalf("got %d bars, want some and at most one per 2 units of width", len(bars))
	}
	for _, b := range bars {
		if w := number(t, b[4]); w < 1 {
			t.Fatalf("got a bar %v wide, want at least 1", w)
		}
	}
	first := svg.group("chart-hits").all("title")[0].text
	if !strings.HasPrefix(first, "00:00 – 03:00\n") {
		t.Errorf("got tooltip %q, want it to name the merged hours", first)
	}
	// Merged bars add up, and the axis reaches the highest stack.
	p := newPlot(c, kindBars)
	for s, series := range c.Series {
		var want, got float64
		for _, v := range series.Values {
			want += v
		}
		for _, v := range p.vals[s] {
			got += v
		}
		if got != want {
			t.Errorf("series %d: got a total of %v after merging, want %v", s, got, want)
		}
	}
	for i := range p.labels {
		if stack := p.vals[0][i] + p.vals[1][i]; stack > p.top {
			t.Errorf("got a stack of %v above the top of the axis %v", stack, p.top)
		}
	}
}

func TestXLabelsDoNotOverlap(t *testing.T) {
	t.Parallel()
	for _, points := range []int{1, 2, 7, 24, 48, 100, 1000} {
		for _, width := range []int{160, 320, 640, 1200} {
			c := deliveries(points)
			c.Width = width
			for i := range c.Labels {
				c.Labels[i] = fmt.Sprintf("Mon %d, %02d:00", i/24+1, i%24)
			}
			p := newPlot(c, kindBars)
			labels := p.xLabels()
			if len(labels) == 0 {
				t.Errorf("%d points, width %d: got no x labels, want at least one", points, width)
			}
			for i, l := range labels {
				half := textWidth(l.text) / 2
				if l.x-half < 0 || l.x+half > p.w {
					t.Errorf("%d points, width %d: label %q at %v sticks out of the view", points, width, l.text, l.x)
				}
				if i > 0 {
					prev := labels[i-1]
					if gap := (l.x - half) - (prev.x + textWidth(prev.text)/2); gap < 8 {
						t.Errorf("%d points, width %d: labels %q and %q are %v apart, want 8 or more", points, width, prev.text, l.text, gap)
					}
				}
			}
		}
	}
}

func TestNiceScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		high      float64
		top, step float64
	}{
		{high: 0, top: 1, step: 0.2},
		{high: math.NaN(), top: 1, step: 0.2},
		{high: 1, top: 1, step: 0.2},
		{high: 3, top: 3, step: 1},
		{high: 5.1, top: 6, step: 2},
		{high: 10, top: 10, step: 2},
		{high: 11, top: 15, step: 5},
		{high: 26, top: 30, step: 10},
		{high: 97, top: 100, step: 20},
		{high: 2345, top: 2500, step: 500},
		{high: 0.03, top: 0.03, step: 0.01},
	}
	for _, tt := range tests {
		top, step, steps := niceScale(tt.high)
		if math.Abs(top-tt.top) > 1e-9*tt.top || math.Abs(step-tt.step) > 1e-9*tt.step {
			t.Errorf("niceScale(%v): got top %v step %v, want top %v step %v", tt.high, top, step, tt.top, tt.step)
		}
		if steps < 3 || steps > 5 {
			t.Errorf("niceScale(%v): got %d steps, want 3 to 5", tt.high, steps)
		}
	}
	for high := 1e-6; high < 1e15; high *= 1.37 {
		top, step, steps := niceScale(high)
		mantissa := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
		nice := math.Abs(mantissa-1) < 1e-6 || math.Abs(mantissa-2) < 1e-6 || math.Abs(mantissa-5) < 1e-6
		if top < high || steps < 3 || steps > 5 || !nice {
			t.Errorf("niceScale(%v): got top %v step %v steps %d, want a 1-2-5 step and 3 to 5 steps reaching the value", high, top, step, steps)
		}
	}
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0, "", "0"},
		{0.6000000000000001, "", "0.6"},
		{0.05, "", "0.05"},
		{12.5, "", "12.5"},
		{999, "", "999"},
		{999.7, "", "1k"},
		{1200, "", "1.2k"},
		{1234, "", "1.23k"},
		{15000, "", "15k"},
		{3.4e6, "", "3.4M"},
		{2e9, "", "2G"},
		{7e12, "", "7T"},
		{2e18, "", "2e+18"},
		{0.0001, "", "0.0001"},
		{-1500, "", "-1.5k"},
		{250, " ms", "250 ms"},
		{1500, " ms", "1.5 s"},
		{60000, " ms", "60 s"},
		{42, "%", "42%"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("formatValue(%v, %q): got %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	out := Bars(deliveries(48))
	if len(out) > 12*1024 {
		t.Errorf("a 48-point, 2-series bar chart is %d bytes, want at most 12 KiB", len(out))
	}
	out = Lines(latency(48))
	if len(out) > 12*1024 {
		t.Errorf("a 48-point, 2-series line chart is %d bytes, want at most 12 KiB", len(out))
	}
	for _, out := range []string{string(Bars(deliveries(48))), string(Lines(latency(48))), string(Lines(latency(5)))} {
		coordinates := regexp.MustCompile(` (x|y|cx|cy|width|height|d|points)="([^"]*)"`)
		for _, m := range coordinates.FindAllStringSubmatch(out, -1) {
			if regexp.MustCompile(`\.\d\d`).MatchString(m[2]) {
				t.Errorf("got %s=%q, want coordinates with at most one decimal", m[1], m[2])
			}
		}
	}
}

// TestGolden compares whole charts with testdata; go test -update rewrites it.
func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		draw func(Chart) string
		c    Chart
	}{
		{"bars", func(c Chart) string { return string(Bars(c)) }, deliveries(48)},
		{"lines", func(c Chart) string { return string(Lines(c)) }, latency(48)},
		{"lines-few", func(c Chart) string { return string(Lines(c)) }, latency(6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.c.ID = "golden"
			got := tt.draw(tt.c)
			if again := tt.draw(tt.c); again != got {
				t.Fatalf("drawing the same chart twice gave different output")
			}
			// Without an ID, only the generated one differs.
			tt.c.ID = ""
			generated := regexp.MustCompile(`chart\d+-`).ReplaceAllString(tt.draw(tt.c), "golden-")
			if generated != got {
				t.Errorf("with a generated ID, the output differs by more than the ID")
			}
			path := filepath.Join("testdata", tt.name+".svg")
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got+"\n" != string(want) {
				t.Errorf("got a chart that differs from %s (go test -update to accept):\n%s", path, got)
			}
		})
	}
}

// TestCSSContrast checks that the fallback colours read on the portal's
// light and dark backgrounds: a contrast of 3:1 for graphics (WCAG 1.4.11).
func TestCSSContrast(t *testing.T) {
	t.Parallel()
	luminance := func(hex string) float64 {
		v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
		l := 0.0
		for i, k := range []float64{0.2126, 0.7152, 0.0722} {
			c := float64(v>>(16-8*i)&0xff) / 255
			if c <= 0.04045 {
				c /= 12.92
			} else {
				c = math.Pow((c+0.055)/1.055, 2.4)
			}
			l += k * c
		}
		return l
	}
	contrast := func(a, b float64) float64 { return (max(a, b) + 0.05) / (min(a, b) + 0.05) }
	colours := regexp.MustCompile(`#[0-9a-f]{6}`).FindAllString(CSS, -1)
	colours = append(colours, palette[:]...)
	for _, c := range colours {
		for _, bg := range []string{"#ffffff", "#0d1117"} {
			if got := contrast(luminance(c), luminance(bg)); got < 3 {
				t.Errorf("got %s on %s at %.2f:1, want 3:1 or more", c, bg, got)
			}
		}
	}
	for class, c := range named {
		if !strings.Contains(CSS, "--chart-"+class+","+c+")") {
			t.Errorf("got CSS without the fallback %s for %s, want it to match the presentation colour", c, class)
		}
	}
}

// TestInBrowser shows charts in Chromium, in a phone-sized column, under
// the portal's Content-Security-Policy: the browser must report no
// violation, the charts must scale to the screen, and the CSS must colour
// them.
func TestInBrowser(t *testing.T) {
	t.Parallel()
	page := template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><title>charts</title><style nonce="{{.Nonce}}">div{width:320px}{{.CSS}}</style></head>
<body><div id="bars">{{.Bars}}</div><div id="lines">{{.Lines}}</div></body></html>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		nonce := rand.Text()
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'self' 'nonce-"+nonce+"'; img-src 'self'")
		c := deliveries(48)
		c.Title = `<script>alert("x")</script>`
		err := page.Execute(w, map[string]any{
			"Nonce": nonce,
			"CSS":   template.CSS(CSS),
			"Bars":  Bars(c),
			"Lines": Lines(latency(48)),
		})
		if err != nil {
			t.Error(err)
		}
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	b := browsertest.New(t)
	if err := b.Navigate(ts.URL + "/"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Width, Height       float64
		Title               string
		BarFill, SwatchFill string
		LineFill, Stroke    string
	}
	err := b.Eval(`(() => {
		const svg = document.querySelector("#bars svg"), box = svg.getBoundingClientRect();
		const style = (sel) => getComputedStyle(document.querySelector(sel));
		return {
			width: box.width, height: box.height,
			title: document.getElementById(svg.getAttribute("aria-labelledby").split(" ")[0]).textContent,
			barFill: style("#bars .chart-bar.ok").fill,
			swatchFill: style("#bars .chart-swatch.fail").fill,
			lineFill: style("#lines .chart-line.latency").fill,
			stroke: style("#lines .chart-line.latency").stroke,
		};
	})()`, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != 320 || math.Abs(got.Height-100) > 1 {
		t.Errorf("got a chart of %v×%v in a column 320 wide, want 320×100", got.Width, got.Height)
	}
	if want := `<script>alert("x")</script>`; got.Title != want {
		t.Errorf("got title %q, want %q", got.Title, want)
	}
	want := struct{ bar, swatch, lineFill, stroke string }{"rgb(46, 157, 79)", "rgb(214, 69, 65)", "none", "rgb(59, 125, 216)"}
	if got.BarFill != want.bar || got.SwatchFill != want.swatch || got.LineFill != want.lineFill || got.Stroke != want.stroke {
		t.Errorf("got bar fill %s, swatch fill %s, line fill %s and stroke %s; want %s, %s, %s and %s",
			got.BarFill, got.SwatchFill, got.LineFill, got.Stroke, want.bar, want.swatch, want.lineFill, want.stroke)
	}
}

func TestColoursAreDistinct(t *testing.T) {
	t.Parallel()
	got := colours([]Series{{Class: "ok"}, {Class: "other"}, {Class: "big latency"}, {}, {Class: "fail"}})
	if got[0] != named["ok"] || got[2] != named["latency"] || got[4] != named["fail"] {
		t.Errorf("got %v, want the colours of ok, latency and fail for those classes", got)
	}
	seen := map[string]bool{}
	for _, c := range got {
		if seen[c] {
			t.Errorf("got %s twice in %v, want distinct colours", c, got)
		}
		seen[c] = true
	}
	if n := len(colours(make([]Series, 20))); n != 20 {
		t.Errorf("got %d colours for 20 series, want 20", n)
	}
}

// fuzzChart builds a chart from fuzzed input: values are raw float64 bits,
// so NaN, ±Inf, negatives and extremes all turn up.
func fuzzChart(text, label string, data []byte, series uint8, width, height int) Chart {
	values := make([]float64, len(data)/8)
	for i := range values {
		values[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[i*8:]))
	}
	c := Chart{Title: text, Desc: text, Unit: text, Width: width, Height: height, ID: text}
	for i := range len(values) + int(series%3) {
		c.Labels = append(c.Labels, strings.Repeat(label, i%4))
	}
	for s := range int(series % 6) {
		c.Series = append(c.Series, Series{Name: text, Class: label, Values: values[min(s, len(values)):]})
	}
	return c
}

func floats(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func addSeeds(f *testing.F) {
	f.Add("Deliveries", "09:00", floats(1, 2, 3, 4), uint8(2), 0, 0)
	f.Add(`<script>"'&`, `"x"`, floats(math.NaN(), math.Inf(1), -1, 0), uint8(1), 1, 1)
	f.Add("", "", []byte{}, uint8(0), -5, 10000)
	f.Add("月曜日", "\x00\xff", floats(1e300, 1e300, 5e-324), uint8(5), 300, 90)
	f.Add(" ms", "Mon 12:00", bytes.Repeat(floats(123.4), 500), uint8(2), 640, 200)
}

func FuzzBars(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text, label string, data []byte, series uint8, width, height int) {
		parse(t, string(Bars(fuzzChart(text, label, data, series, width, height))))
	})
}

func FuzzLines(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text, label string, data []byte, series uint8, width, height int) {
		parse(t, string(Lines(fuzzChart(text, label, data, series, width, height))))
	})
}

// Counts have whole steps on the y axis, however few there are.
func TestCountsHaveWholeSteps(t *testing.T) {
	t.Parallel()
	for _, high := range []float64{0, 1, 2, 3, 4, 7, 12, 250} {
		c := Chart{Labels: []string{"a", "b"}, Series: []Series{{Name: "n", Values: []float64{high, high / 2}}}, Counts: true}
		p := newPlot(c, kindBars)
		if p.step != math.Trunc(p.step) || p.step < 1 || p.top < high {
			t.Errorf("counts up to %v: step %v, top %v; want a whole step and a top of at least %v", high, p.step, p.top, high)
		}
		c.Counts = false
		if p := newPlot(c, kindBars); high == 2 && p.step == math.Trunc(p.step) {
			t.Errorf("without Counts, 2 at most: step %v; this test expects a fractional step, to show that Counts changes it", p.step)
		}
	}
}
