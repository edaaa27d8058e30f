package api

import (
	"encoding/json"
	"testing"
)

// BenchmarkCheckData measures what a schema adds to a publish: decoding the
// data and validating it, against a FormVox-like schema.
func BenchmarkCheckData(b *testing.B) {
	sch, err := compileSchema(json.RawMessage(`{"type": "object", "required": ["form", "response"],
		"properties": {"form": {"type": "object"}, "response": {"type": "object", "required": ["id"],
		"properties": {"id": {"type": "string"}}}}}`))
	if err != nil {
		b.Fatal(err)
	}
	data := json.RawMessage(`{"form":{"title":"Contact","id":12},"response":{"id":"r-1","submitted_at":"2026-01-27T10:30:00+00:00","respondent":{"type":"anonymous"},"answers":{"q1":"yes","q2":["a","b"],"q3":42}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkData(sch, "data", data); err != nil {
			b.Fatal(err)
		}
	}
}
