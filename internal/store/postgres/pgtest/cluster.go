//go:build unix

package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// binaries are the PostgreSQL programs a cluster needs, and how to run them.
type binaries struct {
	initdb, postgres, pgCtl string
	// asPostgres prefixes commands when running as root, which initdb and
	// postgres refuse: "runuser -u postgres --".
	asPostgres []string
	uid, gid   int // of the postgres user, to own the data directory; -1 if not root
}

// findBinaries looks for initdb, postgres and pg_ctl on PATH, then in the usual
// package locations (newest version first). It returns why they cannot be used
// when they cannot.
func findBinaries() (binaries, string) {
	b := binaries{uid: -1, gid: -1}
	dirs := []string{""}
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin"} {
		m, _ := filepath.Glob(pattern)
		sort.Slice(m, func(i, j int) bool { return versionOf(m[i]) > versionOf(m[j]) })
		dirs = append(dirs, m...)
	}
	for _, dir := range dirs {
		find := func(name string) string {
			if dir == "" {
				p, _ := exec.LookPath(name)
				return p
			}
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
			return ""
		}
		b.initdb, b.postgres, b.pgCtl = find("initdb"), find("postgres"), find("pg_ctl")
		if b.initdb != "" && b.postgres != "" && b.pgCtl != "" {
			break
		}
	}
	if b.initdb == "" || b.postgres == "" || b.pgCtl == "" {
		return b, "PostgreSQL server programs (initdb, postgres, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin"
	}
	if os.Geteuid() != 0 {
		return b, ""
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return b, "running as root, and PostgreSQL refuses root: no 'postgres' user to run it as"
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return b, "running as root, and PostgreSQL refuses root: runuser not found to run it as 'postgres'"
	}
	b.asPostgres = []string{runuser, "-u", "postgres", "--"}
	b.uid, _ = strconv.Atoi(u.Uid)
	b.gid, _ = strconv.Atoi(u.Gid)
	return b, ""
}

// versionOf reads the major version in a path such as /usr/lib/postgresql/15/bin.
func versionOf(dir string) int {
	for _, part := range strings.FieldsFunc(dir, func(r rune) bool { return r < '0' || r > '9' }) {
		if n, err := strconv.Atoi(part); err == nil {
			return n
		}
	}
	return 0
}

// command runs a PostgreSQL program as the postgres user when we are root.
func (b binaries) command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, b.asPostgres...), prog), args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// onSignals cleans up when the test binary is interrupted, then dies of the signal.
func onSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := (<-ch).(syscall.Signal)
		shutdown()
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig)
	}()
}

// cluster is a PostgreSQL server this test binary started.
type cluster struct {
	dir      string // data in dir/data, the socket in dir, the log in dir/postgres.log
	port     int
	exited   chan struct{} // closed when the postgres process has exited
	watchdog *exec.Cmd
	release  *os.File // closing it (or dying) lets the watchdog stop the cluster
}

// startCluster initialises a cluster in a new temporary directory and starts it
// on a free port of 127.0.0.1. Durability is off: the data is thrown away.
func startCluster(ctx context.Context, b binaries) (*cluster, error) {
	dir, err := os.MkdirTemp(baseDir(), "hookline-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, exited: make(chan struct{})}
	close(c.exited) // nothing runs yet
	// The watchdog comes first, so the directory goes whatever happens next.
	if err := c.startWatchdog(b); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if b.uid >= 0 {
		if err := os.Chown(dir, b.uid, b.gid); err != nil {
			c.stop()
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	out, err := b.command(ctx, b.initdb, "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for try := 0; ; try++ {
		err = c.startPostgres(ctx, b, 0)
		if err == nil {
			return c, nil
		}
		// Another process may have taken the free port we found: try another.
		if try == 4 || ctx.Err() != nil {
			c.stop()
			return nil, err
		}
	}
}

// startWatchdog starts a shell that waits for its standard input to close, which
// happens when this process closes c.release or dies in any way (even by
// SIGKILL), then stops the cluster at once and removes its directory. It ignores
// the signals a terminal sends, so that it outlives the test binary.
func (c *cluster) startWatchdog(b binaries) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	const script = `trap '' INT TERM HUP QUIT
cat >/dev/null
dir=$1; shift
if [ -f "$dir/data/postmaster.pid" ]; then
	"$@" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
		kill -9 "$(head -n 1 "$dir/data/postmaster.pid")" 2>/dev/null
fi
rm -rf "$dir"`
	args := append(append([]string{"-c", script, "pgtest-watchdog", c.dir}, b.asPostgres...), b.pgCtl)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("start the cluster's watchdog: %w", err)
	}
	r.Close()
	c.watchdog, c.release = cmd, w
	return nil
}

// startPostgres runs postgres on port (a free one when 0) and waits until it
// accepts connections.
func (c *cluster) startPostgres(ctx context.Context, b binaries, port int) error {
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	logPath := filepath.Join(c.dir, "postgres.log")
	// Appended to: a restarted server's log follows the previous run's.
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := b.command(context.Background(), b.postgres, "-D", filepath.Join(c.dir, "data"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+c.dir,
		"-c", "max_connections=300",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_wal_size=1GB",
		"-c", "logging_collector=off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = serverAttr()
	exited := make(chan struct{})
	started := make(chan error, 1)
	// On Linux the server gets a signal when the thread that started it exits
	// (see serverAttr): start and wait on a thread of our own that lives as long
	// as the server.
	go func() {
		runtime.LockOSThread()
		defer close(exited)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.port, c.exited = port, exited

	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.url("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited at start:\n%s", lastLines(log, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections in 30s: %v\n%s", err, lastLines(log, 20))
		}
	}
}

// stopPostgres shuts the server down with pg_ctl's mode: "fast", the way an
// operator's restart does (sessions are ended, then the server exits), or
// "immediate", as a crash would (sessions are cut, and the next start recovers
// from the WAL). It keeps the data and waits until the process is gone.
func (c *cluster) stopPostgres(ctx context.Context, b binaries, mode string) error {
	out, err := b.command(ctx, b.pgCtl, "-D", filepath.Join(c.dir, "data"), "-m", mode, "-w", "-t", "20", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("postgres still running 10s after pg_ctl stop")
	}
}

// restartPostgres starts a stopped server again on the port it had, so that URLs
// handed out before stay valid.
func (c *cluster) restartPostgres(ctx context.Context, b binaries) error {
	select {
	case <-c.exited:
	default:
		return errors.New("postgres is running")
	}
	return c.startPostgres(ctx, b, c.port)
}

// url returns the URL of database name on the cluster.
func (c *cluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// stop lets the watchdog stop the server and remove the directory, and waits for
// both.
func (c *cluster) stop() {
	c.release.Close()
	done := make(chan error, 1)
	go func() { done <- c.watchdog.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fmt.Fprintf(os.Stderr, "pgtest: the cluster in %s did not stop within 30s\n", c.dir)
		return
	}
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
