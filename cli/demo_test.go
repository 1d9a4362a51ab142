package cli_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pf-registry/ui"
)

// TestDemoRemembersItsRoot: the default demo's root joins the config's
// roots once, so that `pf-registry` alone lists it; a demo made in a
// directory the caller names is not remembered.
func TestDemoRemembersItsRoot(t *testing.T) {
	data, conf := t.TempDir(), t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("XDG_CONFIG_HOME", conf)
	cfgPath := filepath.Join(conf, "pf-registry", "config.yaml")
	roots := func() []string {
		t.Helper()
		c, err := ui.LoadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		return c.Roots
	}

	r := run(t, "demo", "--no-ui")
	root := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(root, "file://"+data) || !strings.Contains(r.stderr, "added the demo root") {
		t.Fatalf("demo: exit %d, root %q\n%s", r.code, root, r.stderr)
	}
	if got := roots(); !slices.Equal(got, []string{root}) {
		t.Fatalf("roots after the demo: %q, want [%s]", got, root)
	}
	r = run(t, "demo", "--no-ui")
	if r.code != 0 || strings.Contains(r.stderr, "added the demo root") {
		t.Fatalf("second demo: exit %d\n%s", r.code, r.stderr)
	}
	if got := roots(); len(got) != 1 {
		t.Fatalf("roots after a second demo: %q", got)
	}

	r = run(t, "demo", "--no-ui", filepath.Join(t.TempDir(), "mine"))
	if r.code != 0 || strings.Contains(r.stderr, "added the demo root") {
		t.Fatalf("demo in a named directory: exit %d\n%s", r.code, r.stderr)
	}
	if got := roots(); len(got) != 1 {
		t.Fatalf("a demo in a named directory was remembered: %q", got)
	}
}
