package registrytest

import (
	"bytes"
	"fmt"
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
	// OneFrame is one frame with content size and checksum.
	OneFrame = iota
	// OneFrameNoCheck is one frame without checksum or content size, as the
	// Rust tool's streaming encoder writes them.
	OneFrameNoCheck
	// TwoFrames is two concatenated frames with checksums.
	TwoFrames
	// TwoFramesNoCheck is two concatenated frames without checksums.
	TwoFramesNoCheck
	numFrameKinds
)

// CLIFrames compresses logical[i] with the zstd CLI at level 19 as
// kinds[i] says (one CLI run per kind) and checks that every frame carries
// the flags claimed.
func CLIFrames(t testing.TB, logical [][]byte, kinds []int) [][]byte {
	t.Helper()
	out := make([][]byte, len(logical))
	for kind := range numFrameKinds {
		var parts [][]byte
		var owner []int
		for i, b := range logical {
			if kinds[i] != kind {
				continue
			}
			if kind == TwoFrames || kind == TwoFramesNoCheck {
				parts, owner = append(parts, b[:len(b)/2], b[len(b)/2:]), append(owner, i, i)
			} else {
				parts, owner = append(parts, b), append(owner, i)
			}
		}
		for j, f := range cliRun(t, parts, kind) {
			checkFrameFlags(t, f, kind)
			out[owner[j]] = append(out[owner[j]], f...)
		}
	}
	return out
}

// cliRun compresses each part to one frame in one run of the CLI.
func cliRun(t testing.TB, parts [][]byte, kind int) [][]byte {
	t.Helper()
	if len(parts) == 0 {
		return nil
	}
	args := map[int][]string{
		OneFrame:         {},
		OneFrameNoCheck:  {"--no-check", "--no-content-size"},
		TwoFrames:        {"--no-content-size"},
		TwoFramesNoCheck: {"--no-check"},
	}[kind]
	in, out := dirs(t)
	args = append([]string{"-19", "-q", "--output-dir-flat", out}, args...)
	for j, p := range parts {
		name := filepath.Join(in, fmt.Sprint(j))
		if err := os.WriteFile(name, p, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, name)
	}
	Zstd(t, nil, args...)
	frames := make([][]byte, len(parts))
	for j := range parts {
		var err error
		if frames[j], err = os.ReadFile(filepath.Join(out, fmt.Sprint(j)+".zst")); err != nil {
			t.Fatal(err)
		}
	}
	return frames
}

// checkFrameFlags reads a frame header descriptor: the checksum flag and
// whether a content size is recorded.
func checkFrameFlags(t testing.TB, f []byte, kind int) {
	t.Helper()
	hasCheck, hasSize := f[4]&0x04 != 0, f[4]>>6 != 0 || f[4]&0x20 != 0
	wantCheck := kind == OneFrame || kind == TwoFrames
	wantSize := kind == OneFrame || kind == TwoFramesNoCheck
	if hasCheck != wantCheck || hasSize != wantSize {
		t.Fatalf("zstd frame of kind %d: checksum %v, content size %v", kind, hasCheck, hasSize)
	}
}

// dirs makes an input and an output directory (zstd 1.5.4 crashes on a
// missing output directory).
func dirs(t testing.TB) (in, out string) {
	t.Helper()
	in, out = filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	for _, d := range []string{in, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return in, out
}

// CheckCLIDecodes decodes stored blobs with one run of `zstd -d` and checks
// that each one's output hashes to its digest.
func CheckCLIDecodes(t testing.TB, blobs map[model.Digest][]byte) {
	t.Helper()
	if len(blobs) == 0 {
		t.Fatal("no blobs to decode")
	}
	in, out := dirs(t)
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
