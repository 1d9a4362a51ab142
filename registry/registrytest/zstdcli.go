package registrytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"pf-registry/internal/testenv"
	"pf-registry/model"
)

// Zstd runs the reference zstd CLI (Debian's zstd, provisioned by
// scripts/provision.d/00-base.sh) with stdin and returns its output.
func Zstd(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.MustTool(t, "zstd"), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("zstd %v: %v: %s", args, err, errb.String())
	}
	return out.Bytes()
}

// CLIFrame kinds: what the zstd CLI writes at level 19, the level the Rust
// tool uses (spec §6).
const (
	// OneFrame is one frame with content size and checksum (a file input).
	OneFrame = iota
	// OneFrameNoCheck is one frame without checksum or content size (from
	// a stream, as the Rust tool's encoder writes them).
	OneFrameNoCheck
	// TwoFrames is two concatenated frames with checksums.
	TwoFrames
	// TwoFramesNoCheck is two concatenated frames without checksums.
	TwoFramesNoCheck
	numFrameKinds
)

// CLIFrame compresses logical with the zstd CLI at level 19 as kind says
// and checks that the frames carry the flags claimed.
func CLIFrame(t testing.TB, logical []byte, kind int) []byte {
	t.Helper()
	check := kind == OneFrame || kind == TwoFrames
	parts := [][]byte{logical}
	if kind == TwoFrames || kind == TwoFramesNoCheck {
		parts = [][]byte{logical[:len(logical)/2], logical[len(logical)/2:]}
	}
	var out []byte
	for _, p := range parts {
		f := cliFrame(t, p, check, kind == OneFrame)
		hasCheck, hasSize := f[4]&0x04 != 0, f[4]>>6 != 0 || f[4]&0x20 != 0
		if hasCheck != check || hasSize != (kind == OneFrame) {
			t.Fatalf("zstd frame kind %d: checksum %v, content size %v", kind, hasCheck, hasSize)
		}
		out = append(out, f...)
	}
	return out
}

// cliFrame runs the CLI once: from a file (the frame then records the
// content size) or from stdin.
func cliFrame(t testing.TB, logical []byte, check, fromFile bool) []byte {
	t.Helper()
	args := []string{"-19", "-q", "-c"}
	if !check {
		args = append(args, "--no-check")
	}
	if !fromFile {
		return Zstd(t, logical, args...)
	}
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, logical, 0o600); err != nil {
		t.Fatal(err)
	}
	return Zstd(t, nil, append(args, p)...)
}

// CheckCLIDecodes decodes stored blobs with one run of `zstd -d` and checks
// that each one's output hashes to its digest.
func CheckCLIDecodes(t testing.TB, blobs map[model.Digest][]byte) {
	t.Helper()
	if len(blobs) == 0 {
		t.Fatal("no blobs to decode")
	}
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	for _, dir := range []string{in, out} { // zstd 1.5.4 crashes on a missing output dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-d", "-q", "--output-dir-flat", out}
	for d, b := range blobs {
		p := filepath.Join(in, d.Hex()+".zst")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	Zstd(t, nil, args...)
	for d := range blobs {
		logical, err := os.ReadFile(filepath.Join(out, d.Hex()))
		if err != nil {
			t.Fatalf("zstd -d wrote no output for %s: %v", d.Short(), err)
		}
		if got := model.FromBytes(logical); got != d {
			t.Errorf("zstd -d of blob %s gives content hashing to %s", d.Short(), got.Short())
		}
	}
}
