package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/testimages"
	"pf-registry/store"
)

// TestSessionSecretsNeverPrinted pushes two images (a root and its fork)
// whose ledger headers carry a session_secret_hex, then runs every command
// on them: neither the secret, nor an entry's HMAC, nor an unredacted
// token from the environment may appear in any output.
func TestSessionSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "src-store"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := testimages.SecretImages(t, st)
	secrets := testimages.SecretValues(t, st, b)
	root := "file://" + filepath.Join(dir, "reg")
	refA, refB := root+"/team/secret/a", root+"/team/secret/b"
	pulled, copied := filepath.Join(dir, "pulled"), "file://"+filepath.Join(dir, "copy")
	commands := [][]string{
		{"--store", st.Root(), "--progress", "json", "push", a.String(), refA},
		{"--store", st.Root(), "push", "--json", b.String(), refB},
		{"ls", root}, {"ls", "--json", root}, {"tags", "--json", root + "/team/secret"},
		{"inspect", refB}, {"inspect", "--json", refB}, {"inspect", "--json", "--walk", refB},
		{"verify", refB}, {"--progress", "json", "verify", "--deep", "--json", refB},
		{"--store", pulled, "--progress", "json", "pull", refA},
		{"--store", pulled, "--progress", "json", "pull", "--json", refB},
		{"--store", pulled, "images", "--json"},
		{"--progress", "json", "copy", "--json", refB, copied},
		{"diff", refA, refB}, {"diff", "--json", refA, refB},
		{"--store", pulled, "diff", "--json", refA, refB},
		{"log", root}, {"log", "--json", root},
		{"show", refB, "file"}, {"show", "--json", refB, "file"}, {"show", refB, "file", "README.md"},
	}
	for _, pane := range []string{"trace", "effects", "env", "cache", "model", "procs", "cost"} {
		commands = append(commands, []string{"show", refB, pane}, []string{"show", "--json", refB, pane})
	}
	for _, args := range commands {
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		out := r.stdout + r.stderr
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("%v printed a secret (%.8s…)", args, s)
			}
		}
	}
	// The secret did travel with the image: the pulled ledger still has it.
	pst, err := store.Open(pulled)
	if err != nil {
		t.Fatal(err)
	}
	testimages.SecretValues(t, pst, b)
}
