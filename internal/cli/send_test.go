package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestSend(t *testing.T) {
	t.Parallel()
	const key = "send-test-admin-key-0123456789"
	rs := serveInProcess(t, "--db", filepath.Join(t.TempDir(), "h.db"), "--admin-key", key)
	base := "http://" + rs.addr

	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"send", "--server", base}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := run("--key", key, "--tenant", "acme", "--type", "invoice.paid", "--id", "inv-1", "--data", `{"b":1,"a":2}`)
	if code != 0 {
		t.Fatalf("send: exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, `"duplicate": false`) || !strings.Contains(out, `"tenant": "acme"`) {
		t.Errorf("first send: got %s, want an accepted, non-duplicate event of tenant acme", out)
	}
	code, out, _ = run("--key", key, "--tenant", "acme", "--type", "invoice.paid", "--id", "inv-1", "--data", `{"b":1,"a":2}`)
	if code != 0 || !strings.Contains(out, `"duplicate": true`) {
		t.Errorf("second send with the same id: exit %d, got %s, want duplicate true", code, out)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no key", []string{"--type", "a.b"}, 2, "API key"},
		{"no type", []string{"--key", key}, 2, "--type is required"},
		{"bad json", []string{"--key", key, "--type", "a.b", "--data", "{nope"}, 2, "not valid JSON"},
		{"missing file", []string{"--key", key, "--type", "a.b", "--data", "@/nonexistent/file.json"}, 1, "--data"},
		{"wrong key", []string{"--key", "wrong-key-wrong-key", "--type", "a.b"}, 1, "401"},
		{"bad type", []string{"--key", key, "--type", "not a type"}, 1, "422"},
	}
	for _, tt := range tests {
		code, _, errOut := run(tt.args...)
		if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tt.name, code, errOut, tt.wantCode, tt.wantErr)
		}
	}
}
