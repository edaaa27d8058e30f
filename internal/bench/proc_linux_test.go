package bench

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
