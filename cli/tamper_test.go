package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/vectors"
)

// Every kind of tampering the core promises to catch exits 4, for verify
// --deep and for pull, and the pull leaves no image in the store.
func TestTamperingExitsFour(t *testing.T) {
	fx := vectors.LoadFixture(t)
	page := fx.WalkOrder[11].Path // page 0 K
	tests := []struct {
		name   string
		env    string
		tamper func(dir string) error
	}{
		{"changed manifest byte", "", func(dir string) error {
			p := filepath.Join(dir, "manifest.json")
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), `"parents":[]`, `"parents":[ ]`, 1)), 0o644)
		}},
		{"wrong key", "test-key", func(string) error { return nil }},
		{"flipped blob byte", "", func(dir string) error {
			p := filepath.Join(dir, page)
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 0x80
			return os.WriteFile(p, b, 0o644)
		}},
		{"deleted blob", "", func(dir string) error { return os.Remove(filepath.Join(dir, page)) }},
		{"blob in the wrong shard", "", func(dir string) error {
			to := filepath.Join(dir, "blobs", "sha256", "ff", filepath.Base(page))
			os.MkdirAll(filepath.Dir(to), 0o755)
			return os.Rename(filepath.Join(dir, page), to)
		}},
		{"missing signature", "", func(dir string) error { return os.Remove(filepath.Join(dir, "manifest.json.sig")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PF_FILE_REG_SIGN_KEY", tc.env)
			if tc.env == "" {
				os.Unsetenv("PF_FILE_REG_SIGN_KEY")
			}
			dir := vectors.CopyFixture(t)
			if err := tc.tamper(dir); err != nil {
				t.Fatal(err)
			}
			ref := "file://" + dir
			if r := run(t, "--progress", "none", "verify", "--deep", ref); r.code != 4 {
				t.Fatalf("verify --deep: exit %d, want 4\n%s", r.code, r.stderr)
			}
			store := filepath.Join(t.TempDir(), "store")
			r := run(t, "--store", store, "--progress", "none", "pull", ref)
			if r.code != 4 || r.stdout != "" {
				t.Fatalf("pull: exit %d, want 4; stdout %q\n%s", r.code, r.stdout, r.stderr)
			}
			if ents, _ := os.ReadDir(filepath.Join(store, "images")); len(ents) != 0 {
				t.Fatal("a tampered image entered the store")
			}
		})
	}
}
