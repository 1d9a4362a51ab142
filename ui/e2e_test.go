package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/store"
)

// The end-to-end test runs the real program (this test binary re-executed
// in UI mode: Run on a real terminal, the file backend, the demo registry)
// inside tmux, types keys with send-keys and reads the screen with
// capture-pane.
const (
	e2eChildEnv  = "PF_UI_E2E_CHILD"
	e2eStoreEnv  = "PF_UI_E2E_STORE"
	e2eConfigEnv = "PF_UI_E2E_CONFIG"
)

// runE2EChild is the program under test: the UI on the terminal.
func runE2EChild() int {
	err := Run(context.Background(), Options{
		Roots:      []string{demoRoot},
		StorePath:  os.Getenv(e2eStoreEnv),
		ConfigPath: os.Getenv(e2eConfigEnv),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type tmuxSession struct {
	t    *testing.T
	sock string
	name string
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.run("send-keys", "-t", s.name, k)
		time.Sleep(30 * time.Millisecond) // one key per read, like a person
	}
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", s.name) }

// waitFor polls the screen until every part is on it.
func (s *tmuxSession) waitFor(parts ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		scr := s.screen()
		ok := true
		for _, p := range parts {
			if !strings.Contains(scr, p) {
				ok = false
				break
			}
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q:\n%s", parts, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEndToEndTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux not found: run ./test.sh once, it installs it")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// A fresh directory per run (store, config, exit code): repeated runs
	// (-count) must start from an empty store.
	if err := os.MkdirAll(filepath.Join(cwd, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	work, err := os.MkdirTemp(filepath.Join(cwd, "t"), "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "pfui")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	s := &tmuxSession{t: t, sock: filepath.Join(sockDir, "s"), name: "e2e"}
	exitFile := filepath.Join(work, "exit")
	storeDir := filepath.Join(work, "store")
	child := fmt.Sprintf("%s=1 %s=%s %s=%s COLORTERM=truecolor %s; echo $? > %s",
		e2eChildEnv, e2eStoreEnv, storeDir, e2eConfigEnv, filepath.Join(work, "config.yaml"), exe, exitFile)
	s.run("-f", "/dev/null", "new-session", "-d", "-s", s.name, "-x", "120", "-y", "32", "-c", cwd,
		"env", "TERM=xterm-256color", "sh", "-c", child)
	defer exec.Command("tmux", "-S", s.sock, "kill-server").Run()

	// Registries: the demo root is reachable.
	s.waitFor("local store", "file://demo", "✓ reachable")
	s.keys("j")
	// Repositories.
	s.keys("Enter")
	s.waitFor("alice/refactor-agent", "ci/nightly", "4 repositories")
	s.keys("/", "n", "i", "g", "h", "t", "Enter", "Enter")
	// Tags with verdicts: the tampered image is invalid.
	scr := s.waitFor("2026-11-26", "✗ invalid", "✓ valid", "3 inspected")
	if strings.Count(scr, "✓ valid") != 2 {
		t.Fatalf("want two valid tags:\n%s", scr)
	}
	s.keys("j")
	// Detail of the tampered image.
	s.keys("Enter")
	s.waitFor("Image ID", "✗ invalid", "manifest bytes do not match", "nightly-patched", "world.fs")
	// Pull it: refused at once, with the reason.
	s.keys("p")
	s.waitFor("not pulled: its signature does not verify")
	// Back to the tags, pull the valid image with progress.
	s.keys("Escape")
	s.waitFor("3 tags")
	s.keys("k", "p", "t")
	s.waitFor("#1   pull", "Layers of #1", "25 blobs", "100%", "✓ #1 pull", "25 moved")
	s.keys("q")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := os.ReadFile(exitFile)
		if err == nil && strings.TrimSpace(string(b)) != "" {
			if code := strings.TrimSpace(string(b)); code != "0" {
				t.Fatalf("the program exited with %s", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program did not quit:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasImage(demoResult.Images["ci/nightly/2026-11-25"]) {
		t.Fatal("the pulled image is not in the store")
	}
	if st.HasImage(demoResult.Images["ci/nightly/2026-11-26"]) {
		t.Fatal("the tampered image entered the store")
	}
}
