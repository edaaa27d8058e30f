package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// runSend publishes one event through a running server's API, for scripts and
// trying things out from the shell.
func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("HOOKLINE_SERVER", "http://127.0.0.1:8080"), "base URL of the Hookline API (env HOOKLINE_SERVER)")
	key := fs.String("key", "", "API key with the events:write scope (env HOOKLINE_API_KEY)")
	tenant := fs.String("tenant", "", "tenant of the event (default: the key's tenant, or \"default\")")
	typ := fs.String("type", "", "event type, e.g. invoice.paid (required)")
	data := fs.String("data", "{}", "event data: JSON text, @file to read a file, or - to read standard input")
	id := fs.String("id", "", "idempotency id: sending the same id again for the tenant does not publish twice")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hookline send --type TYPE [--data JSON|@file|-] [flags]\n\nPublishes one event through the API and prints the answer.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *key == "" {
		*key = os.Getenv("HOOKLINE_API_KEY")
	}
	if *key == "" {
		return fmt.Errorf("%w: an API key is needed: --key or HOOKLINE_API_KEY", errUsage)
	}
	if *typ == "" {
		return fmt.Errorf("%w: --type is required", errUsage)
	}
	raw, err := readData(*data)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("%w: --data is not valid JSON", errUsage)
	}
	body, err := json.Marshal(struct {
		Type   string          `json:"type"`
		Tenant string          `json:"tenant,omitempty"`
		ID     string          `json:"id,omitempty"`
		Data   json.RawMessage `json:"data"`
	}{*typ, *tenant, *id, raw})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*server, "/")+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+*key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, answer, "", "  ") == nil {
		answer = pretty.Bytes()
	}
	if resp.StatusCode != http.StatusAccepted {
		fmt.Fprintf(stderr, "%s\n", answer)
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	fmt.Fprintf(stdout, "%s\n", answer)
	return nil
}

// readData returns the --data argument's JSON: literal text, @file or - for stdin.
func readData(arg string) ([]byte, error) {
	switch {
	case arg == "-":
		return io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	case strings.HasPrefix(arg, "@"):
		return os.ReadFile(arg[1:])
	}
	return []byte(arg), nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
