package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/store"
)

// cliCommand re-executes the test binary as the command line.
func cliCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "PF_REGISTRY_RUN_CLI=1")
	return cmd
}

// bigFileImage pushes a 48 MiB synthetic image to a file registry under
// dir and returns it.
func bigFileImage(t *testing.T, dir string, seed uint64) (string, registry.Registry, registry.Ref, model.Digest) {
	t.Helper()
	src, err := store.Open(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := demo.BigImage(src, 48<<20, seed)
	if err != nil {
		t.Fatal(err)
	}
	regDir := filepath.Join(dir, "reg")
	reg, ref, err := registry.ForRef("file://"+regDir, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(context.Background(), src, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	return regDir, reg, ref, id
}

// waitOrSignal waits for cmd; if it has not ended after patience, it gets
// sig, and if that does not end it either, the test fails (a hang the
// user could not even interrupt).
func waitOrSignal(t *testing.T, cmd *exec.Cmd, patience time.Duration, sig os.Signal) (exited bool, err error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return true, err
	case <-time.After(patience):
	}
	cmd.Process.Signal(sig)
	select {
	case err := <-done:
		return false, err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the command ignored %v", sig)
	}
	return false, nil
}

// TestPullFromFIFOEndsOnItsOwn: a named pipe where a blob should be is
// refused at once (exit 4), instead of blocking the pull beyond the reach
// of SIGINT.
func TestPullFromFIFOEndsOnItsOwn(t *testing.T) {
	fx := vectors.LoadFixture(t)
	dir := vectors.CopyFixture(t)
	p := filepath.Join(dir, filepath.FromSlash(fx.WalkOrder[12].Path))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := cliCommand(t, "--store", filepath.Join(t.TempDir(), "st"), "--progress", "none", "pull", "file://"+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited, err := waitOrSignal(t, cmd, 20*time.Second, os.Interrupt)
	if !exited {
		t.Fatalf("pull blocked on a named pipe until SIGINT (%v)", err)
	}
	if cmd.ProcessState.ExitCode() != 4 || !strings.Contains(stderr.String(), "not a regular file") {
		t.Fatalf("exit %d, stderr %q", cmd.ProcessState.ExitCode(), stderr.String())
	}
}

// TestSignalStopsPull: SIGINT or SIGTERM during a file pull ends the
// command with an error and no image marker.
func TestSignalStopsPull(t *testing.T) {
	regDir, _, _, _ := bigFileImage(t, t.TempDir(), 3)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			cmd := cliCommand(t, "--store", dst, "--concurrency", "1", "--progress", "json", "pull", "file://"+regDir)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				var ev registry.Event
				if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Kind == registry.KindBlob &&
					strings.HasPrefix(ev.Role, "page:") && ev.Phase == registry.PhaseTransferring {
					break
				}
			}
			go func() {
				for sc.Scan() { // keep the pipe drained
				}
			}()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if exited, _ := waitOrSignal(t, cmd, 20*time.Second, syscall.SIGKILL); !exited {
				t.Fatalf("pull still running 20s after %v", sig)
			}
			if cmd.ProcessState.ExitCode() == 0 {
				t.Fatalf("pull interrupted by %v exited 0", sig)
			}
			if ents, _ := os.ReadDir(filepath.Join(dst, "images")); len(ents) != 0 {
				t.Fatalf("image marker written by an interrupted pull")
			}
		})
	}
}
