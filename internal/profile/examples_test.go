package profile

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// TestExampleProfilesRoundTrip renders an event with every example profile and
// the built-in one, and verifies the request with the public webhook package, as
// a Go receiver would: what the server signs, the package accepts, and a changed
// body it refuses.
func TestExampleProfilesRoundTrip(t *testing.T) {
	t.Parallel()
	profiles := exampleDefinitions(t)
	data := `{"form":{"title":"Enquête / été"},"response":{"id":"r-1","score":1.0,"big":12345678901234567890},"link":{"url":"https://x.test/a/b"},"10":1,"2":2}`
	for name, d := range profiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, m := signedMessage(t, name, d, data, time.Now())
			secret := m.Secrets[0]
			req, err := p.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(req.Body) {
				t.Fatalf("body is not JSON: %s", req.Body)
			}
			// The log shows the body rendered again without the secrets: it
			// must be the one sent.
			m.Secrets = nil
			if body, err := p.Body(m); err != nil || string(body) != string(req.Body) {
				t.Errorf("Body: %s, %v\nwant the body Render sent: %s", body, err, req.Body)
			}
			s := p.VerifyScheme()
			if s == nil {
				t.Fatal("the profile does not sign")
			}
			if (strings.Contains(s.Payload, "{timestamp}") || strings.Contains(s.Payload, "{send.unix}")) && s.TimestampHeader == "" {
				t.Fatalf("the payload uses the send time but no header carries it")
			}
			received := http.Header{}
			for k, vs := range req.Header {
				for _, v := range vs {
					received.Add(k, v)
				}
			}
			if err := s.Verify([]string{secret}, req.Body, received); err != nil {
				t.Errorf("webhook package rejects the profile's own request: %v", err)
			}
			other := append([]byte(nil), req.Body...)
			other[len(other)-2] ^= 1
			if err := s.Verify([]string{secret}, other, received); !errors.Is(err, webhook.ErrNoMatch) {
				t.Errorf("changed body: got %v, want ErrNoMatch", err)
			}
			if _, ok := req.Header[s.Header]; !ok {
				t.Errorf("no %s header in %v", s.Header, req.Header)
			}
		})
	}
}

// TestDocsExampleIsTheRealFile keeps the complete example of docs/profiles.md
// identical to the file it shows.
func TestDocsExampleIsTheRealFile(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/profiles.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../examples/profiles/formvox.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(src), "\n") // the file's first line is a comment the doc replaces
	if !strings.Contains(string(doc), "# examples/profiles/formvox.yaml\n"+body) {
		t.Error("docs/profiles.md's complete example differs from examples/profiles/formvox.yaml")
	}
}

// exampleDefinitions returns the built-in profile's definition and those of
// the four seed profiles of examples/profiles, by name.
func exampleDefinitions(t *testing.T) map[string]*Definition {
	t.Helper()
	files, err := filepath.Glob("../../examples/profiles/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("example profiles: got %v, %v; want the four seed profiles", files, err)
	}
	defs := map[string]*Definition{Standard: StandardDefinition()}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if defs[strings.TrimSuffix(filepath.Base(f), ".yaml")], err = ParseYAML(src); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return defs
}

// signedMessage compiles d as profile name and returns it with a message of
// data sent at sentAt, signed with a new secret in the profile's format.
func signedMessage(t *testing.T, name string, d *Definition, data string, sentAt time.Time) (*Profile, Message) {
	t.Helper()
	p, err := Compile(name, d, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := p.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(data)
	m.SentAt, m.Secrets = sentAt, []string{secret}
	return p, m
}
