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

// parseStat reads utime and stime, fields 14 and 15 of /proc/PID/stat. The
// command name (field 2) is in parentheses and may hold spaces and ')': the
// fields are counted from the last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
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
