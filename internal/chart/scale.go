package chart

import (
	"math"
	"strconv"
	"strings"
)

// maxValue caps values and sums, so that stacking never overflows to +Inf.
const maxValue = 1e300

// clean is v as a chart sees it: NaN, ±Inf and negative values are 0.
func clean(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 1) {
		return 0
	}
	return min(v, maxValue)
}

// niceScale returns the top of a y axis for values up to high, and its step:
// 1, 2 or 5 × 10ⁿ, chosen so that the axis has 3 to 5 steps above zero.
// With nothing above zero the axis goes to 1.
func niceScale(high float64) (top, step float64, steps int) {
	if !(high > 0) {
		high = 1
	}
	high = min(max(high, 1e-300), maxValue)
	p := math.Pow(10, math.Floor(math.Log10(high/5)))
	// high/p is in [5, 50), so a step of 10p gives at most 5 steps; each
	// candidate is at most 2.5 times the previous, so the first that fits
	// gives at least 3.
	for _, m := range []float64{1, 2, 5, 10, 20} {
		step = m * p
		if k := math.Ceil(high / step); k <= 5 {
			steps = max(int(k), 1)
			return float64(steps) * step, step, steps
		}
	}
	return high, high, 1 // unreachable unless rounding misbehaves
}

// suffixes are the compact multipliers, by power of 1000.
var suffixes = [...]string{"", "k", "M", "G", "T"}

// compact formats v with 3 significant digits and a k, M, G or T suffix:
// 0, 0.25, 12.5, 999, 1.2k, 3.4M.
func compact(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	switch {
	case v == 0:
		return "0"
	case v < 1e-3 || v >= 999.5e12:
		return sign + strconv.FormatFloat(v, 'g', 2, 64)
	}
	i := 0
	for v >= 999.5 && i < len(suffixes)-1 { // 999.5 would print as 1000
		v /= 1000
		i++
	}
	digits := max(2-int(math.Floor(math.Log10(v))), 0)
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return sign + s + suffixes[i]
}

// formatValue is v with its unit. Milliseconds of a second or more are
// shown in seconds, so a latency axis reads 500 ms, 1 s, 1.5 s.
func formatValue(v float64, unit string) string {
	if strings.TrimSpace(unit) == "ms" && v >= 999.5 {
		return compact(v/1000) + strings.Replace(unit, "ms", "s", 1)
	}
	return compact(v) + unit
}
