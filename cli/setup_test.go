package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/vectors"
)

// Global flags are checked once, before any command runs (images included).
func TestGlobalFlagsCheckedBeforeEveryCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	for _, tc := range []struct{ flag, value string }{
		{"--progress", "loud"},
		{"--concurrency", "0"},
		{"--zstd-level", "23"},
		{"--max-blob-size", "-1"},
		{"--retries", "-1"},
		{"--timeout", "-1s"},
	} {
		for _, cmd := range [][]string{{"images"}, {"verify", "file://" + vectors.FixtureDir()}} {
			r := run(t, append([]string{"--store", store, tc.flag, tc.value}, cmd...)...)
			if r.code != 2 || !strings.HasPrefix(r.stderr, "pf-registry: error: "+tc.flag+" ") || r.stdout != "" {
				t.Errorf("%s %s %s: exit %d, stdout %q, stderr %q", tc.flag, tc.value, cmd[0], r.code, r.stdout, r.stderr)
			}
		}
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("a rejected command touched the store: %v", err)
	}
}

// The refusal of a read-only copy is the engine's, and nothing is written.
func TestReadOnlyCopyRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, "--readonly", "copy", "file://"+vectors.FixtureDir(), "file://"+out)
	if r.code != 1 || !strings.Contains(r.stderr, "read-only mode: refusing to write to file://"+out) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("read-only copy created %s: %v", out, err)
	}
}

// Every command's --help ends with examples that use the command.
func TestHelpShowsExamples(t *testing.T) {
	for _, cmd := range []string{"ls", "tags", "inspect", "verify", "pull", "push", "copy", "images", "demo", "ui", "sign", "keys",
		"keys generate", "keys import", "keys list", "keys trust", "keys untrust",
		"rm", "prune", "tag", "sync", "gc", "du", "images rm"} {
		r := run(t, append(strings.Fields(cmd), "--help")...)
		cmd := cmd[strings.LastIndex(cmd, " ")+1:]
		_, examples, ok := strings.Cut(r.stdout, "Examples:\n")
		if r.code != 0 || !ok || !strings.Contains(examples, " "+cmd+" ") && !strings.Contains(examples, " "+cmd+"\n") {
			t.Errorf("%s --help: exit %d, no example of the command in %q", cmd, r.code, r.stdout)
		}
	}
}
