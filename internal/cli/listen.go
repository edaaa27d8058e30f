package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/webhook"
)

// runListen is a local webhook receiver for development: it prints every request
// it gets and, given the webhook's secret, checks its Standard Webhooks signature.
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	secret := fs.String("secret", "", "the webhook's whsec_ secret; when set, each request's signature is verified and a bad one is answered 401")
	status := fs.Int("status", 200, "status code to answer valid requests with (e.g. 500 to watch retries)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hookline listen [flags]\n\nA local receiver that prints the webhooks it gets and verifies their signatures.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var verifier *webhook.Standard
	if *secret != "" {
		v, err := webhook.NewStandard(*secret)
		if err != nil {
			return fmt.Errorf("--secret: %w", err)
		}
		verifier = v
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
			if err := verifier.Verify(body, r.Header); err != nil {
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
