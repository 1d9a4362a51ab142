package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/testimages"
	"pf-registry/store"
)

// TestHostileStringsAreSanitised: text read from an image reaches the
// terminal without a single control character.
func TestHostileStringsAreSanitised(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	id := testimages.HostileImage(t, st)
	root := "file://" + filepath.Join(dir, "reg")
	ref := root + "/evil/repo/x"
	if r := run(t, "--store", st.Root(), "push", id.String(), ref); r.code != 0 {
		t.Fatalf("push: %s", r.stderr)
	}
	commands := [][]string{{"diff", ref, ref}, {"log", root}, {"show", ref, "file"},
		{"show", ref, "file", "evil" + testimages.Hostile + ".txt"}, {"show", ref, "file", "link"}}
	for _, pane := range []string{"trace", "effects", "env", "cache", "model", "procs"} {
		commands = append(commands, []string{"show", ref, pane})
	}
	for _, args := range commands {
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
		}
		out := r.stdout + r.stderr
		if i := strings.IndexFunc(out, func(c rune) bool {
			return (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f) || c == '\u202e'
		}); i >= 0 {
			t.Fatalf("%q printed a control character at %d: %q", args[:2], i, out[max(0, i-20):min(len(out), i+20)])
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%q: the hostile text is not shown at all:\n%s", args[:2], out)
		}
	}
}
