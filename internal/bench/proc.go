package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of the CPU times in /proc/PID/stat:
// 100 on every architecture Go supports (it is fixed in the kernel ABI,
// whatever CONFIG_HZ the kernel runs with).
const clockTicks = 100

// ProcCPU returns the CPU time (user + system) process pid has used so far,
// from /proc/PID/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(b)
}

// parseStat reads utime and stime, fields 14 and 15 of /proc/PID/stat.
func parseStat(b []byte) (time.Duration, error) {
	v, err := statFields(b, 14, 15)
	if err != nil {
		return 0, err
	}
	return ticks(v[0] + v[1]), nil
}

// statFields returns the numeric fields of /proc/PID/stat given by their
// numbers (1-based, as in proc(5); 3 and above). The command name (field 2)
// is in parentheses and may hold spaces and ')': the fields are counted from
// the last ')'.
func statFields(b []byte, numbers ...int) ([]int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("/proc stat: no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	out := make([]int64, len(numbers))
	for k, n := range numbers {
		if n-3 >= len(f) {
			return nil, errors.New("/proc stat: too few fields")
		}
		v, err := strconv.ParseInt(string(f[n-3]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc stat: field %d: %w", n, err)
		}
		out[k] = v
	}
	return out, nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }

// ProcTreeCPU returns the CPU time used so far by the processes roots, the
// processes they have waited for, and their live descendants: for each
// process of the trees, once, utime + stime + cutime + cstime (fields 14 to
// 17 of /proc/PID/stat; cutime and cstime are the CPU of the children it
// has waited for, theirs included). It also returns how many processes the
// trees hold. A database server that forks a process per connection, such
// as PostgreSQL, is measured whole this way: the difference of two readings
// counts
//
//   - a backend alive at both readings: what it used between them;
//   - a backend started between them and alive at the second: all it used;
//   - a backend started and reaped between them: nothing of its own, but
//     its parent's cutime and cstime grew by all it used;
//   - a backend alive at the first reading and reaped before the second:
//     it is missing from the second reading, but everything it had used,
//     counted in the first, moved into its parent's cutime and cstime with
//     what it used after, so the sum loses nothing.
//
// A process that exits unreaped (a zombie) still shows its times. What is
// not counted: a descendant whose parent exits (it is re-parented out of the
// tree, and what it used leaves with it), and a process reaped between the
// reading of it and that of its parent within one scan (counted twice, or
// not at all: a window of microseconds). Only thread group leaders are in
// /proc's listing, and their times are their threads'.
func ProcTreeCPU(roots ...int) (cpu time.Duration, processes int, err error) {
	procs, err := readProcs()
	if err != nil {
		return 0, 0, err
	}
	members, err := procTree(procs, roots)
	if err != nil {
		return 0, 0, err
	}
	for _, pid := range members {
		cpu += procs[pid].cpu
	}
	return cpu, len(members), nil
}

// procEntry is one process of a /proc scan.
type procEntry struct {
	ppid int
	cpu  time.Duration // utime + stime + cutime + cstime
}

// readProcs reads the parent and the CPU of every process in /proc. One that
// exits during the scan is left out.
func readProcs() (map[int]procEntry, error) {
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := make(map[int]procEntry, len(dir))
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue // not a process: /proc/self, /proc/meminfo…
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone since the listing
		}
		p, err := parseTreeStat(b)
		if err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		procs[pid] = p
	}
	return procs, nil
}

// parseTreeStat reads ppid (field 4) and utime, stime, cutime and cstime
// (fields 14 to 17) of /proc/PID/stat.
func parseTreeStat(b []byte) (procEntry, error) {
	v, err := statFields(b, 4, 14, 15, 16, 17)
	if err != nil {
		return procEntry{}, err
	}
	return procEntry{ppid: int(v[0]), cpu: ticks(v[1] + v[2] + v[3] + v[4])}, nil
}

// procTree lists roots and their descendants in procs, each once. A root
// missing from procs is an error.
func procTree(procs map[int]procEntry, roots []int) ([]int, error) {
	children := make(map[int][]int)
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	seen := make(map[int]bool)
	var members []int
	for _, root := range roots {
		if _, ok := procs[root]; !ok {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", root)); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("process %d: not found in /proc", root)
		}
		queue := []int{root}
		for len(queue) > 0 {
			pid := queue[0]
			queue = queue[1:]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			members = append(members, pid)
			queue = append(queue, children[pid]...)
		}
	}
	return members, nil
}

// ProcMemory returns the resident set size of process pid and its peak
// (VmRSS and VmHWM of /proc/PID/status), in bytes.
func ProcMemory(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (rss, peak int64, err error) {
	found := 0
	for line := range bytes.Lines(b) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &peak
		default:
			continue
		}
		f := bytes.Fields(value) // "1234 kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, 0, fmt.Errorf("/proc status: %s: unexpected value %q", name, bytes.TrimSpace(value))
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc status: %s: %w", name, err)
		}
		*dst = kb << 10
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("/proc status: no VmRSS and VmHWM (a kernel thread, or not Linux)")
	}
	return rss, peak, nil
}

// ProcWriteBytes returns the bytes process pid has caused to be written to
// storage so far: write_bytes of /proc/PID/io, counted when the pages are
// dirtied, whether or not they have reached the disk yet. Reading another
// process's needs the same user (or more).
func ProcWriteBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	return parseIO(b)
}

func parseIO(b []byte) (int64, error) {
	for line := range bytes.Lines(b) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(name) != "write_bytes" {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc io: write_bytes: %w", err)
		}
		return n, nil
	}
	return 0, errors.New("/proc io: no write_bytes (a kernel without I/O accounting?)")
}
