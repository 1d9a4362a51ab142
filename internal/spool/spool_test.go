package spool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pf-registry/internal/stale"
)

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestCreateIsPrivateAndSweepRemovesTheDead(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	f, err := Create("hf-blob")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if filepath.Dir(f.Name()) != Dir() {
		t.Fatalf("spool file %s outside %s", f.Name(), Dir())
	}
	for p, want := range map[string]os.FileMode{Dir(): 0o700, f.Name(): 0o600} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != want {
			t.Fatalf("%s: mode %v (%v), want %v", p, info.Mode().Perm(), err, want)
		}
	}
	if o, ok := stale.Parse(filepath.Base(f.Name())); !ok || o != stale.Self() {
		t.Fatalf("spool file %s is not named after its process", f.Name())
	}
	dead := filepath.Join(Dir(), strings.Replace(stale.Name("oci-layer"), "."+strconv.Itoa(os.Getpid())+".", "."+strconv.Itoa(deadPID(t))+".", 1))
	foreign := filepath.Join(Dir(), "not-ours")
	for _, p := range []string{dead, foreign} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Sweep()
	if err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the dead process's file only", n, err)
	}
	for p, want := range map[string]bool{dead: false, foreign: true, f.Name(): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// A spool directory that another user could read is refused.
func TestSharedDirRefused(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	if err := os.Mkdir(Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if f, err := Create("hf-blob"); err == nil || !strings.Contains(err.Error(), "not a directory private to this user") {
		if f != nil {
			f.Close()
		}
		t.Fatalf("a world-readable spool directory was used: %v", err)
	}
	if err := os.Remove(Dir()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), Dir()); err != nil {
		t.Fatal(err)
	}
	if _, err := Create("hf-blob"); err == nil {
		t.Fatal("a symlinked spool directory was used")
	}
}
