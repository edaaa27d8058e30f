package portal

import (
	"io/fs"
	"regexp"
	"testing"
)

// Every word the portal says exists in each of its languages, and every
// key a template or a handler names is one of them.
func TestMessages(t *testing.T) {
	for lang, m := range messages {
		for key := range messages["en"] {
			if m[key] == "" {
				t.Errorf("%s has no %q", lang, key)
			}
		}
		for key := range m {
			if _, ok := messages["en"][key]; !ok {
				t.Errorf("%s has %q, which English has not", lang, key)
			}
		}
	}
	for flash := range flashes {
		if messages["en"][flash] == "" {
			t.Errorf("flash %q has no words", flash)
		}
	}
	used := regexp.MustCompile(`\.T "([a-z_0-9]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(templateFS, path)
		for _, m := range used.FindAllSubmatch(src, -1) {
			if messages["en"][string(m[1])] == "" {
				t.Errorf("%s says %q, which is not a message", path, m[1])
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
