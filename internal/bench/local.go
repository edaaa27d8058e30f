package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hookline/hookline/internal/store/postgres"
)

// deployment is a throwaway Hookline: nodes processes of this executable running
// `serve` on free loopback ports, on a SQLite file in a temporary directory or
// on the PostgreSQL database given.
type deployment struct {
	dir      string // temporary directory: database, logs
	adminKey string
	nodes    []*node
}

type node struct {
	addr string
	log  string // its output
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done is closed
}

// reservedServerFlags are set by the bench itself.
var reservedServerFlags = map[string]string{
	"addr": "each node gets a free loopback port", "db": "use --db", "admin-key": "use --api-key",
	"allow-private-targets": "the receiver is on loopback",
}

// newAdminKey returns a key in the format Hookline issues: "hl_" and base64url
// of 32 random bytes.
func newAdminKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "hl_" + base64.RawURLEncoding.EncodeToString(b)
}

// startLocal starts the deployment and waits until every node is ready. On an
// error the deployment returned (when not nil) must still be stopped; its logs
// are kept.
func startLocal(ctx context.Context, o Options, c *client) (*deployment, error) {
	exe := o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding this executable to start servers: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "hookline-bench-")
	if err != nil {
		return nil, err
	}
	d := &deployment{dir: dir, adminKey: o.APIKey}
	if d.adminKey == "" {
		d.adminKey = newAdminKey()
	}

	env := []string{"HOOKLINE_ADMIN_KEY=" + d.adminKey}
	db := o.DB
	if db == "" {
		db = filepath.Join(dir, "hookline.db")
	}
	if _, pg := postgres.ParseDSN(db); pg {
		key := os.Getenv("HOOKLINE_SECRET_KEY")
		if key == "" {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			key = base64.StdEncoding.EncodeToString(b)
		}
		env = append(env, "HOOKLINE_SECRET_KEY="+key)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") { // the bench decides the servers' settings
			env = append(env, kv)
		}
	}
	for i := range o.Nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return d, err
		}
		// Free now; serve binds it a moment later. Should another process take
		// it in between, the node fails to start and its log says so.
		addr := ln.Addr().String()
		ln.Close()
		args := []string{"serve", "--addr=" + addr, "--db=" + db, "--allow-private-targets=true", "--shutdown-timeout=5s"}
		if o.Fanout && o.Webhooks > 50 && !hasServerFlag(o.ServerFlags, "max-webhooks-per-tenant") {
			args = append(args, fmt.Sprintf("--max-webhooks-per-tenant=%d", o.Webhooks)) // all in one tenant
		}
		args = append(args, serverFlagArgs(o.ServerFlags)...)
		logPath := filepath.Join(dir, fmt.Sprintf("node-%d.log", i))
		logs, err := os.Create(logPath)
		if err != nil {
			return d, err
		}
		cmd := exec.Command(exe, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = logs, logs // a file: the child writes it directly
		cmd.SysProcAttr = childAttr()
		err = cmd.Start()
		logs.Close()
		if err != nil {
			return d, fmt.Errorf("starting %s serve: %w", exe, err)
		}
		n := &node{addr: addr, log: logPath, cmd: cmd, done: make(chan struct{})}
		go func() { n.err = cmd.Wait(); close(n.done) }()
		d.nodes = append(d.nodes, n)
	}
	for i, n := range d.nodes {
		exited := func() error {
			select {
			case <-n.done:
				return fmt.Errorf("node %d (hookline serve) exited at start: %v", i, n.err)
			default:
				return nil
			}
		}
		if err := c.awaitReady(ctx, "http://"+n.addr, 60*time.Second, exited); err != nil {
			return d, fmt.Errorf("node %d: %w", i, err)
		}
	}
	return d, nil
}

// serverFlagArgs turns --server-flag k=v into serve's --k=v; they come after the
// bench's own, so they override its defaults (--shutdown-timeout).
func serverFlagArgs(kvs []string) []string {
	args := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		args = append(args, "--"+strings.TrimLeft(kv, "-"))
	}
	return args
}

func hasServerFlag(kvs []string, name string) bool {
	for _, kv := range kvs {
		if k, _, _ := strings.Cut(strings.TrimLeft(kv, "-"), "="); k == name {
			return true
		}
	}
	return false
}

// CheckServerFlags refuses --server-flag values that are not k=v or that set
// what the bench sets itself.
func CheckServerFlags(kvs []string) error {
	for _, kv := range kvs {
		k, _, ok := strings.Cut(strings.TrimLeft(kv, "-"), "=")
		if !ok || k == "" {
			return fmt.Errorf("--server-flag %q: want name=value, e.g. workers=128", kv)
		}
		if why, reserved := reservedServerFlags[k]; reserved {
			return fmt.Errorf("--server-flag %s: set by the bench (%s)", k, why)
		}
	}
	return nil
}

func (d *deployment) bases() []string {
	out := make([]string, len(d.nodes))
	for i, n := range d.nodes {
		out[i] = "http://" + n.addr
	}
	return out
}

func (d *deployment) pids() []int {
	out := make([]int, len(d.nodes))
	for i, n := range d.nodes {
		out[i] = n.cmd.Process.Pid
	}
	return out
}

// stop sends SIGTERM to every node and kills those still running after limit.
func (d *deployment) stop(limit time.Duration) error {
	for _, n := range d.nodes {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	expired := false
	var errs []error
	for i, n := range d.nodes {
		if !expired {
			select {
			case <-n.done:
				continue
			case <-deadline.C:
				expired = true
			}
		}
		select {
		case <-n.done:
			continue
		default:
		}
		_ = n.cmd.Process.Kill()
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
		}
		errs = append(errs, fmt.Errorf("node %d did not stop within %s of SIGTERM: killed", i, limit))
	}
	return errors.Join(errs...)
}

// logs lists the files holding the nodes' output.
func (d *deployment) logs() string {
	paths := make([]string, len(d.nodes))
	for i, n := range d.nodes {
		paths[i] = n.log
	}
	return strings.Join(paths, ", ")
}

// remove deletes the temporary directory (database and logs).
func (d *deployment) remove() {
	os.RemoveAll(d.dir)
}
