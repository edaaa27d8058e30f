package bench

import (
	"crypto/sha256"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestProcSelf reads this test process's own /proc entries.
func TestProcSelf(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	before, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU for a few clock ticks.
	sum := sha256.Sum256(nil)
	for begin := time.Now(); time.Since(begin) < 100*time.Millisecond; {
		sum = sha256.Sum256(sum[:])
	}
	after, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 20*time.Millisecond {
		t.Errorf("CPU time grew by %s over 100ms of hashing, want at least 20ms", after-before)
	}
	rss, peak, err := ProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || peak < rss {
		t.Errorf("got VmRSS %d, VmHWM %d; want 0 < VmRSS ≤ VmHWM", rss, peak)
	}
	if _, err := ProcCPU(0); err == nil {
		t.Error("ProcCPU(0): got no error, want one (no such process)")
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// The command name may hold spaces and parentheses: fields count from the last ')'.
	line := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 1000000 500 18446744073709551615\n"
	got, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want { // (250 + 50) ticks of 10ms
		t.Errorf("got %s, want %s", got, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 utime 12"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): got no error, want one", bad)
		}
	}
}

func TestParseTreeStat(t *testing.T) {
	t.Parallel()
	// A PostgreSQL postmaster: ppid 1, utime 120, stime 30, cutime 4000 and
	// cstime 850 (its reaped backends), in ticks of 10ms.
	line := "812 (postgres) S 1 812 812 0 -1 4194560 5000 90000 0 0 120 30 4000 850 20 0 1 0 100 1000000 500 18446744073709551615\n"
	got, err := parseTreeStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procEntry{ppid: 1, cpu: 50 * time.Second}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "812 (postgres) S 1 812 812 0 -1 4194560 5000 90000 0 0 120 30 4000", "812 (postgres) S x 812"} {
		if _, err := parseTreeStat([]byte(bad)); err == nil {
			t.Errorf("parseTreeStat(%q): got no error, want one", bad)
		}
	}
}

// TestProcTree: a root's descendants at any depth, each process once when
// the roots overlap, and none of another tree.
func TestProcTree(t *testing.T) {
	t.Parallel()
	procs := map[int]procEntry{1: {ppid: 0}, 10: {ppid: 1}, 11: {ppid: 10}, 12: {ppid: 10}, 13: {ppid: 12}, 20: {ppid: 1}, 21: {ppid: 20}}
	got, err := procTree(procs, []int{10, 12})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []int{10, 11, 12, 13}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := procTree(procs, []int{99}); err == nil {
		t.Error("a root not in the scan: got no error, want one")
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	status := "Name:\thookline\nVmPeak:\t 2000000 kB\nVmHWM:\t   30000 kB\nVmRSS:\t   20000 kB\nThreads:\t9\n"
	rss, peak, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 20000<<10 || peak != 30000<<10 {
		t.Errorf("got rss %d, peak %d; want %d, %d", rss, peak, 20000<<10, 30000<<10)
	}
	if _, _, err := parseStatus([]byte("Name:\tkthreadd\nThreads:\t1\n")); err == nil {
		t.Error("a status without VmRSS: got no error, want one")
	}
}

func TestParseIO(t *testing.T) {
	t.Parallel()
	// /proc/PID/io of a hookline serve that had taken 3,050 events on SQLite.
	const io = `rchar: 9991196
wchar: 132267906
syscr: 3767
syscw: 62730
read_bytes: 12288
write_bytes: 151486464
cancelled_write_bytes: 0
`
	got, err := parseIO([]byte(io))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(151486464); got != want {
		t.Errorf("got %d, want %d", got, want)
	}
	for _, bad := range []string{"", "rchar: 1\nwchar: 2\n", "write_bytes: lots\n"} {
		if _, err := parseIO([]byte(bad)); err == nil {
			t.Errorf("parseIO(%q): got no error, want one", bad)
		}
	}
}
