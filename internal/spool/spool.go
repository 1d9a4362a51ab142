// Package spool holds the temporary files a push writes while it learns a
// blob's size and digest (OCI layers, HF LFS objects). They live in one
// directory of the temp dir, private to the user, and are named after the
// process that writes them (internal/stale), so that what a killed push
// left behind is removed by the next process that spools, or by the next
// start of the command line.
package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"pf-registry/internal/fault"
	"pf-registry/internal/stale"
)

// Dir is the spool directory: pf-registry-spool-<uid> in the temp dir
// ($TMPDIR, else /tmp).
func Dir() string {
	return filepath.Join(os.TempDir(), "pf-registry-spool-"+strconv.Itoa(os.Getuid()))
}

var sweepOnce sync.Once

// Create makes a fresh spool file for kind ("oci-layer", "hf-blob"),
// readable and writable by the user only. The first call of a process
// removes the files of processes that have ended. The caller closes and
// removes the file.
func Create(kind string) (*os.File, error) {
	dir, err := ensureDir()
	if err != nil {
		return nil, err
	}
	sweepOnce.Do(func() { _, _ = Sweep() })
	f, err := os.OpenFile(filepath.Join(dir, stale.Name(kind)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fault.WithHint(fmt.Errorf("cannot create a spool file in %s: %w", dir, err), "check free space in the temp directory, or set TMPDIR")
	}
	return f, nil
}

// Sweep removes the spool files of processes that have ended and returns
// how many it removed. A missing directory holds nothing to remove.
func Sweep() (int, error) {
	dir := Dir()
	if err := checkPrivate(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !stale.Abandoned(e.Name(), info.ModTime()) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}

// ensureDir creates the spool directory, or checks that the one there is
// the user's own: in a shared temp dir, another user could have made it
// to read what is spooled, or made it a symlink.
func ensureDir() (string, error) {
	dir := Dir()
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fault.WithHint(fmt.Errorf("cannot create the spool directory %s: %w", dir, err), "check the temp directory, or set TMPDIR")
	}
	return dir, checkPrivate(dir)
}

// checkPrivate fails unless dir is a directory (not a symlink) owned by
// the user that no one else may open.
func checkPrivate(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || !ok || int(st.Uid) != os.Getuid() || info.Mode().Perm()&0o077 != 0 {
		return fault.WithHint(fmt.Errorf("refusing to spool in %s: it is not a directory private to this user", dir),
			"remove it (it is recreated with mode 0700), or set TMPDIR to a directory of your own")
	}
	return nil
}
