package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcWriteBytesSelf writes a file with fsync and reads this process's
// write_bytes before and after.
func TestProcWriteBytesSelf(t *testing.T) {
	t.Parallel()
	before, err := ProcWriteBytes(os.Getpid())
	if err != nil {
		t.Skipf("no I/O accounting here: %v", err)
	}
	dir := t.TempDir()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	after, err := ProcWriteBytes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Only disk file systems count write_bytes (tmpfs keeps its pages in
	// memory, network and FUSE ones vary): expect the megabyte on those.
	switch fs.Type {
	case 0xEF53, 0x58465342, 0x9123683E: // ext2/3/4, XFS, Btrfs
		if after-before < 1<<20 {
			t.Errorf("write_bytes grew by %d over a 1 MiB write and fsync, want at least %d", after-before, 1<<20)
		}
	default:
		if after < before {
			t.Errorf("write_bytes went from %d to %d, want it never to fall", before, after)
		}
	}
	if _, err := ProcWriteBytes(0); err == nil {
		t.Error("ProcWriteBytes(0): got no error, want one (no such process)")
	}
}

// startTree starts `sh -c script` in a process group of its own, killed at
// the end of the test, and returns it with its standard input and output.
func startTree(t *testing.T, script string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	for _, tool := range []string{"sh", "timeout", "yes"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s: %v", tool, err)
		}
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // the group this test started
		_ = cmd.Wait()
	})
	return cmd, stdin, bufio.NewReader(stdout)
}

// readLine reads a line the tree writes, within 5 s.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := r.ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no line from the process tree within 5s")
		return ""
	}
}

// TestProcTreeCPUExited: a grandchild that burns CPU and exits between two
// readings is counted, through the cutime and cstime of its parent and of
// the root (the way PostgreSQL's backends, reaped by the postmaster, are).
// The figure is checked against the root's rusage from wait4, which the
// kernel sums the same way.
func TestProcTreeCPUExited(t *testing.T) {
	t.Parallel()
	// sh → timeout → yes, for 0.4 s; sh then waits for a line on its input.
	cmd, stdin, stdout := startTree(t, "timeout 0.4 yes >/dev/null; echo done; read x; exit 0")
	root := cmd.Process.Pid
	before, _, err := ProcTreeCPU(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLine(t, stdout); got != "done" {
		t.Fatalf("the tree wrote %q, want done", got)
	}
	after, processes, err := ProcTreeCPU(root)
	if err != nil {
		t.Fatal(err)
	}
	if processes != 1 {
		t.Errorf("got %d processes in the tree after its children exited, want 1 (the root)", processes)
	}
	counted := after - before
	if counted < 100*time.Millisecond {
		t.Errorf("counted %s of CPU for 0.4s of yes that exited, want at least 100ms", counted)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// wait4's rusage is the root's own CPU and its reaped children's, over
	// its whole life: what was counted, give or take the ticks of the
	// readings' rounding and of sh's own start and end.
	total := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if diff := total - counted; diff < -30*time.Millisecond || diff > 30*time.Millisecond {
		t.Errorf("counted %s, but the tree used %s (rusage from wait4)", counted, total)
	}
}

// TestProcTreeCPULive: a live descendant's CPU is counted as it runs, and
// the trees given are read once each.
func TestProcTreeCPULive(t *testing.T) {
	t.Parallel()
	// sh → timeout → yes, for at most 3 s; killed when sh reads its line.
	cmd, stdin, stdout := startTree(t, "timeout 3 yes >/dev/null & echo $!; read x; kill $!")
	root := cmd.Process.Pid
	child, err := strconv.Atoi(readLine(t, stdout))
	if err != nil {
		t.Fatal(err)
	}
	// Until timeout has started yes, the tree has two processes.
	var before time.Duration
	processes := 0
	for deadline := time.Now().Add(2 * time.Second); processes < 3 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if before, processes, err = ProcTreeCPU(root); err != nil {
			t.Fatal(err)
		}
	}
	if processes != 3 {
		t.Fatalf("got %d processes in the tree, want 3 (sh, timeout, yes)", processes)
	}
	time.Sleep(300 * time.Millisecond)
	after, _, err := ProcTreeCPU(root)
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 50*time.Millisecond {
		t.Errorf("counted %s of CPU over 0.3s of a live yes, want at least 50ms", after-before)
	}
	// The root and its child given together: each process once.
	both, processes, err := ProcTreeCPU(root, child)
	if err != nil {
		t.Fatal(err)
	}
	if processes != 3 || both < after {
		t.Errorf("root and child given together: got %d processes and %s, want 3 and at least %s", processes, both, after)
	}
	// A database tree that holds the bench or a measured server is refused.
	if err := checkDBTrees([]int{root}, []int{child}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("holds server process %d", child)) {
		t.Errorf("a server among the database's descendants: got %v, want an error naming it", err)
	}
	if err := checkDBTrees([]int{os.Getppid()}, nil); err == nil || !strings.Contains(err.Error(), "the bench itself") {
		t.Errorf("the bench's parent as --db-pid: got %v, want an error saying the bench is its descendant", err)
	}
	if err := checkDBTrees([]int{root}, []int{os.Getpid()}); err != nil {
		t.Errorf("a separate tree: got %v, want no error", err)
	}
	if _, _, err := ProcTreeCPU(0); err == nil {
		t.Error("ProcTreeCPU(0): got no error, want one (no such process)")
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestRunDatabaseCPU: a --verify run against a target with --db-pid reports
// the database tree's CPU per verification, and with the servers' CPU known
// (here the test process stands for the server) their sum; a --db-pid that
// names no process stops a run before anything starts, with a target or a
// local deployment.
func TestRunDatabaseCPU(t *testing.T) {
	t.Parallel()
	// The "database": sh with a child that burns CPU for at most 3 s.
	cmd, stdin, stdout := startTree(t, "timeout 3 yes >/dev/null & echo $!; read x; kill $!")
	readLine(t, stdout)
	f := newFakeKeys("VALID")
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := verifyOptions(srv.URL)
	o.Events, o.Rate = 50, 250 // 0.2 s
	o.ServerPIDs, o.DBPIDs = []int{os.Getpid()}, []int{cmd.Process.Pid}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	db, v := rep.Server.Database, rep.Verify
	if db == nil {
		t.Fatalf("no database CPU; measurement errors %q", rep.Server.MeasurementErrors)
	}
	if db.CPUSeconds <= 0 || db.CPUCores <= 0 || db.Processes < 2 || len(db.PIDs) != 1 || db.PIDs[0] != cmd.Process.Pid {
		t.Errorf("database: got %+v, want some CPU from %d and its descendants", *db, cmd.Process.Pid)
	}
	if v.DatabaseCPUMSPerVerification == nil || *v.DatabaseCPUMSPerVerification != round4(db.CPUSeconds*1000/float64(v.Valid)) {
		t.Errorf("database CPU per verification: got %v, want %g s over %d verifications", v.DatabaseCPUMSPerVerification, db.CPUSeconds, v.Valid)
	}
	if p := v.ServerAndDatabaseCPUMSPerVerification; p == nil || *p < *v.DatabaseCPUMSPerVerification {
		t.Errorf("server + database CPU per verification: got %v, want at least the database's", p)
	}
	for _, note := range rep.Server.MeasurementErrors {
		if strings.Contains(note, "database") {
			t.Errorf("measurement errors: got %q", rep.Server.MeasurementErrors)
		}
	}
	stdin.Close()

	const gone = 1 << 30 // above any pid_max
	o = verifyOptions(srv.URL)
	o.DBPIDs = []int{gone}
	if rep, err := Run(context.Background(), o); rep != nil || err == nil || !strings.Contains(err.Error(), fmt.Sprintf("--db-pid %d", gone)) {
		t.Errorf("a --db-pid that names no process, with --target: got %v, %v; want an error naming it", rep, err)
	}
	o = Options{DB: "postgres://u@127.0.0.1:1/db", DBPIDs: []int{gone}, Webhooks: 1, Events: 1, Concurrency: 1, Wait: time.Second, MaxTime: 10 * time.Second}
	if rep, err := Run(context.Background(), o); rep != nil || err == nil || !strings.Contains(err.Error(), fmt.Sprintf("--db-pid %d", gone)) {
		t.Errorf("a --db-pid that names no process, with a local deployment: got %v, %v; want an error naming it", rep, err)
	}
}

// TestMeasuringDatabaseNotes: database CPU is null, with a note, when no
// --db-pid was given (saying why for SQLite) or when its process is gone at
// the end of the phase.
func TestMeasuringDatabaseNotes(t *testing.T) {
	t.Parallel()
	scrape := func(context.Context) (Counters, error) { return Counters{}, nil }
	for db, want := range map[string]string{"sqlite (temporary)": "SQLite works inside the server processes", "postgres": "no database process given (--db-pid)", "": "$PGDATA/postmaster.pid"} {
		rep := &Report{Target: Target{DB: db}}
		startMeasuring(context.Background(), nil, nil, scrape).finish(context.Background(), rep, 10)
		if rep.Server.Database != nil || rep.Server.ServerAndDatabaseCPUMSPerDelivery != nil || !strings.Contains(strings.Join(rep.Server.MeasurementErrors, "\n"), want) {
			t.Errorf("db %q without --db-pid: got %+v, want no database CPU and a note saying %q", db, rep.Server, want)
		}
	}

	cmd, stdin, stdout := startTree(t, "echo started; read x; exit 0")
	readLine(t, stdout)
	m := startMeasuring(context.Background(), []int{os.Getpid()}, []int{cmd.Process.Pid}, scrape)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Target: Target{DB: "postgres"}}
	m.finish(context.Background(), rep, 10)
	note := fmt.Sprintf("database CPU (--db-pid %d) could not be read", cmd.Process.Pid)
	if rep.Server.Database != nil || rep.Server.ServerAndDatabaseCPUMSPerDelivery != nil || !strings.Contains(strings.Join(rep.Server.MeasurementErrors, "\n"), note) {
		t.Errorf("a database process gone at the end: got %+v, want no database CPU and a note saying %q", rep.Server, note)
	}
}
