package config

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryOption keeps docs/configuration.md in step with the options table.
func TestDocsListEveryOption(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range options {
		row := "| `--" + o.name + "` | `" + EnvName(o.name) + "` |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/configuration.md has no row starting %q", row)
		}
	}
}
