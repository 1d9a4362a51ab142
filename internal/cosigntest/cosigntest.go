// Package cosigntest runs the real cosign CLI (built by
// scripts/provision.d/80-cosign.sh) for the interop tests: offline, with a
// test passphrase, no home directory of the user's, and a proxy that
// refuses every connection, so the offline flags are proven enough.
package cosigntest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Passphrase is what cosign is given in COSIGN_PASSWORD: a test value, not
// a secret.
const Passphrase = "pf-registry test passphrase"

// Offline are the flags that make cosign sign without Sigstore's services.
var Offline = []string{"--use-signing-config=false", "--tlog-upload=false"}

// Cosign runs the CLI in its own directory.
type Cosign struct {
	t   testing.TB
	bin string
	// Dir is the working directory: files named by relative paths live
	// there.
	Dir string
}

// New finds the CLI (PATH, then $PF_CACHE_DIR/bin or ~/.cache/pf-registry/bin)
// and fails the test, saying how to get it, when it is missing.
func New(t testing.TB) *Cosign {
	t.Helper()
	return &Cosign{t: t, bin: Binary(t), Dir: t.TempDir()}
}

// Binary is the path of the cosign CLI.
func Binary(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("cosign"); err == nil {
		return bin
	}
	cache := os.Getenv("PF_CACHE_DIR")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "pf-registry")
	}
	bin := filepath.Join(cache, "bin", "cosign")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the cosign CLI is needed for the interop tests and is neither on PATH nor in $PF_CACHE_DIR/bin: run ./test.sh (scripts/provision.d/80-cosign.sh builds it)")
	}
	return bin
}

// Run runs cosign with args and returns its combined output.
func (c *Cosign) Run(args ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.Dir
	cmd.Env = []string{
		"COSIGN_PASSWORD=" + Passphrase,
		"HOME=" + c.Dir,
		"PATH=" + os.Getenv("PATH"),
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost",
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustRun runs cosign and fails the test when it fails.
func (c *Cosign) MustRun(args ...string) string {
	c.t.Helper()
	out, err := c.Run(args...)
	if err != nil {
		c.t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Write puts a file in the working directory and returns its name.
func (c *Cosign) Write(name string, data []byte) string {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.Dir, name), data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return name
}

// Read returns a file of the working directory.
func (c *Cosign) Read(name string) []byte {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// Path is the absolute path of a file of the working directory.
func (c *Cosign) Path(name string) string { return filepath.Join(c.Dir, name) }
