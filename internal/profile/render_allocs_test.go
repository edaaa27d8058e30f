package profile

import (
	"testing"
	"time"
)

// renderAllocBounds are the regression guard on the render-and-sign path
// (issue 16): allocations of one Profile.Render — the body, the headers and
// the signature of one attempt — for a typical event, per profile. Each bound
// is just under twice the figure measured when it was set (Go 1.26, amd64),
// given beside it, so that a change doubling the allocations fails; the count
// is deterministic, so nothing short of a change in the code moves it. Lower a
// bound when the path gets lighter.
var renderAllocBounds = map[string]struct {
	measured, bound float64
}{
	Standard:          {measured: 35, bound: 69},
	"formulr":         {measured: 20, bound: 39},
	"formvox":         {measured: 119, bound: 237},
	"productsmanager": {measured: 22, bound: 43},
	"urlr":            {measured: 33, bound: 65},
}

// TestRenderAllocations counts the allocations of rendering and signing one
// attempt with the built-in profile and each seed profile of
// examples/profiles, and fails above the bound of renderAllocBounds.
// TestTimestampFormatsAllocations guards the body's time formats alone.
func TestRenderAllocations(t *testing.T) {
	defs := exampleDefinitions(t)
	// A typical event: a few hundred bytes of nested data.
	const data = `{"form":{"id":"f-81","title":"Customer survey"},"response":{"id":"r-1","score":4,"answers":[{"q":"q1","a":"Yes"},{"q":"q2","a":"Fine"}]},"link":{"url":"https://x.test/r/r-1"}}`
	for name, d := range defs {
		t.Run(name, func(t *testing.T) {
			b, ok := renderAllocBounds[name]
			if !ok {
				t.Fatalf("no bound for profile %s: measure it and add one to renderAllocBounds", name)
			}
			p, m := signedMessage(t, name, d, data, time.Date(2026, 1, 27, 10, 30, 5, 0, time.UTC))
			n := testing.AllocsPerRun(200, func() {
				if _, err := p.Render(m); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s: %v allocations per render-and-sign (measured %v when the bound was set, bound %v)", name, n, b.measured, b.bound)
			if n > b.bound {
				t.Errorf("%s: got %v allocations per render-and-sign, want at most %v (%v when measured)", name, n, b.bound, b.measured)
			}
		})
	}
}
