package hubtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// moduleRoot walks up from the package directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// TestOfficialClientContract runs the official @huggingface/hub client
// (scripts/hf-contract, installed by scripts/provision.d/70-hf.sh) against
// the test hub. Every protocol path it takes is then checked in Stats.
func TestOfficialClientContract(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), "scripts", "hf-contract")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@huggingface", "hub", "package.json")); err != nil {
		t.Fatal("@huggingface/hub not found in scripts/hf-contract/node_modules: run ./test.sh once, it installs it")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: run ./test.sh once, it installs it")
	}
	h, err := New(Options{Dir: t.TempDir(), TreePageSize: 3, ListPageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.AddToken("hf_contract", "pf-contract", true)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "contract.mjs", h.URL(), "hf_contract")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("official client contract failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "contract ok:") {
		t.Fatalf("contract script did not report success:\n%s", out)
	}
	t.Log(strings.TrimSpace(string(out)))

	s := h.Stats()
	for _, c := range []struct {
		name string
		got  int64
	}{
		{"regular files committed", s.RegularFiles},
		{"LFS files committed", s.LFSFiles},
		{"single-PUT LFS uploads", s.BasicUploads},
		{"multipart LFS uploads", s.MultipartUploads},
		{"tree pages beyond the first", s.TreePages - 1},
		{"listing pages beyond the first", s.ListPages - 1},
		{"ranged reads", s.RangeRequests},
		{"redirects to storage", s.RedirectsToStorage},
	} {
		if c.got < 1 {
			t.Errorf("the official client never exercised %s (stats %+v)", c.name, s)
		}
	}
	if s.PartsUploaded < 3 {
		t.Errorf("multipart upload of 12.5 MB in 5 MiB parts: %d parts, want 3", s.PartsUploaded)
	}
}
