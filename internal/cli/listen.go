package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/webhook"
)

// Bounds of listen's connections: how many at once, how long one may wait for
// its next request, and how long a request's body may take once its head came.
const (
	maxListenConns    = 256
	listenIdleTimeout = 2 * time.Minute
	listenBodyTimeout = time.Minute
)

// runListen is a local webhook receiver for development: it prints every request
// it gets, headers as they were sent, and, given the webhook's secret, checks its
// signature with the scheme of a profile.
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	secret := fs.String("secret", "", "the webhook's secret (whsec_…, a raw secret, or the whpk_ public key of an ed25519 profile); when set, each request's signature is verified and a bad one is answered 401")
	profileArg := fs.String("profile", "", "the profile whose signature scheme to verify: a profile YAML file (docs/profiles.md), or the name of one in --profiles (formvox); the built-in standard profile when empty")
	profilesDir := fs.String("profiles", os.Getenv("HOOKLINE_PROFILES"), "where --profile finds a profile by name: the YAML file or directory of *.yaml that serve loads with --profiles (default $HOOKLINE_PROFILES)")
	status := fs.Int("status", 200, "status code to answer valid requests with (e.g. 500 to watch retries)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: hookline listen [flags]\n\nA local receiver that prints the webhooks it gets, with header names as they were sent, and verifies their signatures.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	scheme, err := listenScheme(*profileArg, *profilesDir)
	if err != nil {
		return err
	}
	var verifier *webhook.Scheme
	if *secret != "" {
		if scheme == nil {
			return fmt.Errorf("%w: --profile %s does not sign requests; leave out --secret", errUsage, *profileArg)
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
	l := &listener{verifier: verifier, secret: *secret, status: *status, out: stdout, conns: map[net.Conn]bool{}}
	fmt.Fprintf(stderr, "listening on http://%s — press Ctrl-C to stop\n", ln.Addr())
	return l.serve(ctx, ln)
}

// listener answers webhook requests and prints them.
type listener struct {
	verifier *webhook.Scheme // nil: signatures are not checked
	secret   string
	status   int

	outMu sync.Mutex // one request printed at a time
	out   io.Writer

	mu    sync.Mutex
	conns map[net.Conn]bool // open connections, to wake when stopping
	wg    sync.WaitGroup
}

// serve accepts connections on ln until ctx ends, then lets the requests in
// flight finish (for up to 5 s) and closes every connection.
func (l *listener) serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		l.mu.Lock()
		for c := range l.conns {
			c.SetReadDeadline(time.Now()) // wakes a connection waiting for its next request
		}
		l.mu.Unlock()
	})
	defer stop()
	slots := make(chan struct{}, maxListenConns)
	var err error
	for {
		slots <- struct{}{}
		var c net.Conn
		if c, err = ln.Accept(); err != nil {
			break
		}
		l.mu.Lock()
		l.conns[c] = true
		l.mu.Unlock()
		l.wg.Add(1)
		go func() {
			defer func() { <-slots }()
			l.serveConn(ctx, c)
		}()
	}
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		l.mu.Lock()
		for c := range l.conns {
			c.Close()
		}
		l.mu.Unlock()
		<-done
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// serveConn answers the requests of one connection, kept alive between them,
// until the client closes it, a request asks to, one is malformed, or ctx ends.
func (l *listener) serveConn(ctx context.Context, c net.Conn) {
	defer func() {
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
		c.Close()
		l.wg.Done()
	}()
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(listenIdleTimeout))
		wr, err := readWireHead(br)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(listenBodyTimeout))
			err = readWireBody(br, bw, wr)
		}
		var ne net.Error
		switch {
		case errors.Is(err, io.EOF) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed):
			return // closed or gone quiet: nothing to answer
		case errors.Is(err, errTooLarge) && wr == nil:
			refuse(c, bw, http.StatusRequestHeaderFieldsTooLarge, "request head too large")
			return
		case errors.Is(err, errTooLarge):
			refuse(c, bw, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxWireBody))
			return
		case err != nil:
			refuse(c, bw, http.StatusBadRequest, "malformed request: "+err.Error())
			return
		}
		closing := wr.req.Close || !wr.req.ProtoAtLeast(1, 1) || ctx.Err() != nil
		if writeWireResponse(bw, l.answer(wr), "", closing) != nil || closing {
			return
		}
	}
}

// refuse answers a request listen will not read to its end, and closes the
// connection gently: what the client is still sending is read and dropped
// (bounded in bytes and time), since closing with unread data would reset the
// connection and could lose the answer before the client reads it.
func refuse(c net.Conn, bw *bufio.Writer, code int, text string) {
	if writeWireResponse(bw, code, text+"\n", true) != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.CopyN(io.Discard, c, 2*maxWireBody)
}

// answer checks a request's signature, prints it and returns its status code.
func (l *listener) answer(wr *wireRequest) int {
	verdict, code := "signature not checked (no --secret)", l.status
	if l.verifier != nil {
		if err := l.verifier.Verify([]string{l.secret}, wr.body, wr.req.Header); err != nil {
			verdict, code = "signature INVALID: "+err.Error(), http.StatusUnauthorized
			if errors.Is(err, webhook.ErrMissingHeader) {
				verdict += "; is the webhook's profile the one listen checks (--profile)?"
			}
		} else {
			verdict = "signature valid"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "── %s %s %s → %d (%s)\n", time.Now().Format(time.TimeOnly), wr.req.Method, wr.req.URL.RequestURI(), code, verdict)
	for _, h := range wr.headers {
		fmt.Fprintf(&b, "%s: %s\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "\n%s\n\n", wr.body)
	l.outMu.Lock()
	io.WriteString(l.out, b.String())
	l.outMu.Unlock()
	return code
}

// listenScheme is the verification scheme of the profile arg names: a YAML
// file, or a name, found in dir (a file or a directory of profiles, as serve
// loads them) or built in. Nil when that profile does not sign.
func listenScheme(arg, dir string) (*webhook.Scheme, error) {
	if arg == "" {
		arg = profile.Standard
	}
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		src, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		def, err := profile.ParseYAML(src)
		if err != nil {
			return nil, fmt.Errorf("--profile %s: %w", arg, err)
		}
		p, err := profile.Compile("listen", def, profile.Defaults{RetrySchedule: []time.Duration{0}})
		if err != nil {
			return nil, fmt.Errorf("--profile %s: %w", arg, err)
		}
		return p.VerifyScheme(), nil
	}
	reg, err := profile.NewRegistry(nil, profile.Defaults{RetrySchedule: []time.Duration{0}})
	if err != nil {
		return nil, err
	}
	var names []string
	if dir != "" {
		if names, err = reg.LoadFiles(dir); err != nil {
			return nil, fmt.Errorf("--profiles: %w", err)
		}
	}
	if p, ok := reg.Fixed(arg); ok {
		return p.VerifyScheme(), nil
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: --profile %s: no such file, and no built-in profile of that name; give the profile's YAML file, or its name with --profiles, the file or directory serve loads profiles from (--profile formvox --profiles examples/profiles)", errUsage, arg)
	}
	return nil, fmt.Errorf("%w: --profile %s: no such file, and --profiles %s has no profile of that name (it has %s; a profile is named after its file: formvox.yaml is formvox)", errUsage, arg, dir, strings.Join(append([]string{profile.Standard}, names...), ", "))
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
