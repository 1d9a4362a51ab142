package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `pf-registry demo DIR` on a terminal seeds the registry and opens the UI
// on it; the user browses to the tampered image and quits. Runs the command
// itself (this test binary re-executed as pf-registry) inside tmux.
func TestDemoOpensTheUI(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux not found: run ./test.sh once, it installs it")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	sock := filepath.Join(work, "tmux.sock")
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	exitFile := filepath.Join(work, "exit")
	child := fmt.Sprintf("PF_REGISTRY_RUN_CLI=1 XDG_CONFIG_HOME=%s %s --store %s demo %s; echo $? > %s",
		filepath.Join(work, "config"), exe, filepath.Join(work, "store"), filepath.Join(work, "demo"), exitFile)
	tmux("-f", "/dev/null", "new-session", "-d", "-s", "demo", "-x", "200", "-y", "30", "env", "TERM=xterm-256color", "sh", "-c", child)
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()

	waitFor := func(parts ...string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			scr := tmux("capture-pane", "-p", "-t", "demo")
			missing := ""
			for _, p := range parts {
				if !strings.Contains(scr, p) {
					missing = p
					break
				}
			}
			if missing == "" {
				return scr
			}
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %q:\n%s", missing, scr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	keys := func(ks ...string) {
		for _, k := range ks {
			tmux("send-keys", "-t", "demo", k)
			time.Sleep(40 * time.Millisecond)
		}
	}
	waitFor("local store", "file://"+filepath.Join(work, "demo"), "reachable")
	keys("j", "Enter")
	waitFor("alice/refactor-agent", "ci/nightly")
	keys("j", "j", "Enter")
	waitFor("2026-11-26", "✗ invalid", "! default-key")
	keys("q")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := os.ReadFile(exitFile)
		if code := strings.TrimSpace(string(b)); err == nil && code != "" {
			if code != "0" {
				t.Fatalf("pf-registry demo exited with %s", code)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pf-registry did not quit:\n%s", tmux("capture-pane", "-p", "-t", "demo"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
