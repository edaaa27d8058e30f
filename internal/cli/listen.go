package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/webhook"
)

// runListen is a local webhook receiver for development: it prints every request
// it gets and, given the webhook's secret, checks its Standard Webhooks signature.
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	secret := fs.String("secret", "", "the webhook's secret (whsec_…, a raw secret, or the whpk_ public key of an ed25519 profile); when set, each request's signature is verified and a bad one is answered 401")
	profileFile := fs.String("profile", "", "a profile YAML file (docs/profiles.md) whose signature scheme to verify; the built-in standard profile when empty")
	status := fs.Int("status", 200, "status code to answer valid requests with (e.g. 500 to watch retries)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hookline listen [flags]\n\nA local receiver that prints the webhooks it gets and verifies their signatures.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	scheme, err := listenScheme(*profileFile)
	if err != nil {
		return err
	}
	var verifier *webhook.Scheme
	if *secret != "" {
		if scheme == nil {
			return fmt.Errorf("%w: --profile %s does not sign requests; leave out --secret", errUsage, *profileFile)
		}
		if err := checkListenSecret(scheme, *secret); err != nil {
			return fmt.Errorf("%w: --secret: %v", errUsage, err)
		}
		verifier = scheme
	}
	if *status < 100 || *status > 599 {
		return fmt.Errorf("%w: --status must be an HTTP status code", errUsage)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		verdict, code := "signature not checked (no --secret)", *status
		if verifier != nil {
			if err := verifier.Verify([]string{*secret}, body, r.Header); err != nil {
				verdict, code = "signature INVALID: "+err.Error(), http.StatusUnauthorized
			} else {
				verdict = "signature valid"
			}
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, "── %s %s %s → %d (%s)\n", time.Now().Format(time.TimeOnly), r.Method, r.URL.RequestURI(), code, verdict)
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(stdout, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
		fmt.Fprintf(stdout, "\n%s\n\n", body)
		w.WriteHeader(code)
	})}
	fmt.Fprintf(stderr, "listening on http://%s — press Ctrl-C to stop\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listenScheme is the verification scheme of the profile in file, or of the
// built-in standard profile.
func listenScheme(file string) (*webhook.Scheme, error) {
	def := profile.StandardDefinition()
	name := profile.Standard
	if file != "" {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		if def, err = profile.ParseYAML(src); err != nil {
			return nil, fmt.Errorf("--profile %s: %w", file, err)
		}
		name = "listen"
	}
	p, err := profile.Compile(name, def, profile.Defaults{RetrySchedule: []time.Duration{0}})
	if err != nil {
		return nil, fmt.Errorf("--profile %s: %w", file, err)
	}
	return p.VerifyScheme(), nil
}

// checkListenSecret refuses, before listening, a secret the scheme cannot use.
func checkListenSecret(s *webhook.Scheme, secret string) error {
	switch {
	case s.Algorithm == webhook.AlgorithmEd25519 && strings.HasPrefix(secret, webhook.PublicKeyPrefix):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhook.PublicKeyPrefix))
		if err != nil || len(raw) != 32 {
			return errors.New("not a whpk_ ed25519 public key")
		}
		return nil
	case s.Algorithm == webhook.AlgorithmEd25519:
		_, err := webhook.PublicKey(secret)
		return err
	case s.Key == webhook.KeyWhsec:
		_, err := webhook.DecodeSecret(secret)
		return err
	}
	return nil
}
