package durable

import (
	"os"

	"golang.org/x/sys/unix"
)

// StartWriteback asks the kernel to start writing f's dirty pages now, so
// that the sync that follows finds them mostly on disk already. It is a
// hint: a file system that does not support it leaves the work to SyncFS.
func StartWriteback(f *os.File) error {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	return nil
}

// SyncFS writes back and waits for every dirty page and inode of the file
// system that holds dir (syncfs(2)): one journal commit for many files,
// renames included, so a file placed after it (an image marker, a
// journal) never becomes durable before the files it names.
func SyncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return SyncFSOf(f)
}

// SyncFSOf is SyncFS for the file system holding the open file f.
func SyncFSOf(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
