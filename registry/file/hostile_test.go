package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// putBlob writes logical bytes as a stored blob at the sharded path of d
// (which may differ from their digest).
func putBlob(t *testing.T, dir string, d model.Digest, logical []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(d.ShardPath()))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, blob.CompressBytes(logical, 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readLogical reads a blob of a file registry.
func readLogical(t *testing.T, dir string, d model.Digest) []byte {
	t.Helper()
	stored, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(d.ShardPath())))
	if err != nil {
		t.Fatal(err)
	}
	b, err := blob.DecodeVerified(stored, d, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewriteFsTree replaces the fixture's fs tree in an image directory and
// re-signs the manifest that points at the new tree.
func rewriteFsTree(t *testing.T, dir string, edit func(*model.FsTree)) {
	t.Helper()
	resign(t, dir, func(m *model.Manifest) {
		tree, err := model.ParseFsTree(readLogical(t, dir, m.World.FS))
		if err != nil {
			t.Fatal(err)
		}
		edit(tree)
		enc := tree.Encode()
		m.World.FS = model.FromBytes(enc)
		putBlob(t, dir, m.World.FS, enc)
	})
}

// TestUppercaseFsTreeDigest: an fs-tree entry whose digest has uppercase
// hex is part of the walk (Rust parses it) but can never verify. A quick
// verify must say so as pull does, even when a file sits at that path.
func TestUppercaseFsTreeDigest(t *testing.T) {
	dir := vectors.CopyFixture(t)
	var upper model.Digest
	rewriteFsTree(t, dir, func(tree *model.FsTree) {
		for i, e := range tree.Entries {
			if e.Kind == "file" {
				upper = model.Digest("sha256:" + strings.ToUpper(model.Digest(e.Blob).Hex()))
				putBlob(t, dir, upper, readLogical(t, dir, model.Digest(e.Blob)))
				tree.Entries[i].Blob = string(upper)
				return
			}
		}
	})
	if upper == "" {
		t.Fatal("fixture has no file entry")
	}
	reg, ref := registrytest.Open(t, "file://"+dir, registry.Config{})
	_, pullErr := reg.Pull(context.Background(), ref, registrytest.NewStore(t), registry.TransferOptions{})
	_, verifyErr := reg.Verify(context.Background(), ref, registry.VerifyOptions{})
	_, deepErr := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true})
	for name, err := range map[string]error{"pull": pullErr, "verify": verifyErr, "verify --deep": deepErr} {
		if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), "uppercase") {
			t.Errorf("%s: %v, want an integrity error about the uppercase digest", name, err)
		}
	}
}

// TestSpecialFilesRefused: a FIFO or a device where a manifest, signature
// or blob should be is refused at once with a clear error, instead of
// blocking the pull (a FIFO) or reading forever (/dev/zero).
func TestSpecialFilesRefused(t *testing.T) {
	fx := vectors.LoadFixture(t)
	targets := map[string]string{
		"manifest":  "manifest.json",
		"signature": "manifest.json.sig",
		"fs tree":   fx.WalkOrder[3].Path,
		"page":      fx.WalkOrder[12].Path,
	}
	for name, rel := range targets {
		for _, kind := range []string{"fifo", "device"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				dir := vectors.CopyFixture(t)
				p := filepath.Join(dir, filepath.FromSlash(rel))
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if kind == "fifo" {
					if err := syscall.Mkfifo(p, 0o644); err != nil {
						t.Fatal(err)
					}
				} else if err := os.Symlink("/dev/zero", p); err != nil {
					t.Fatal(err)
				}
				reg, ref := registrytest.Open(t, "file://"+dir, registry.Config{})
				errc := make(chan error, 1)
				go func() {
					_, err := reg.Pull(context.Background(), ref, registrytest.NewStore(t), registry.TransferOptions{})
					errc <- err
				}()
				select {
				case err := <-errc:
					if err == nil || !strings.Contains(err.Error(), "not a regular file") {
						t.Fatalf("pull: %v, want a not-a-regular-file error", err)
					}
				case <-time.After(20 * time.Second):
					// Unblock the reader so the test process can end.
					if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
						f.Close()
					}
					t.Fatal("pull still blocked on a special file after 20s")
				}
			})
		}
	}
}

// TestPushNeverWritesThroughSymlinks: a symlink inside the destination
// image directory that leads out of it (blobs/, a shard, the staging
// directory) makes the push fail; nothing is written outside.
func TestPushNeverWritesThroughSymlinks(t *testing.T) {
	fx := vectors.LoadFixture(t)
	st := registrytest.NewStore(t)
	reg, src := registrytest.Open(t, "file://"+vectors.CopyFixture(t), registry.Config{})
	if _, err := reg.Pull(context.Background(), src, st, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Dir(filepath.FromSlash(fx.WalkOrder[0].Path))
	for _, link := range []string{"blobs", filepath.Join("blobs", "sha256"), shard, ".pf-staging"} {
		t.Run(link, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "img")
			outside := t.TempDir()
			p := filepath.Join(dest, link)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, p); err != nil {
				t.Fatal(err)
			}
			_, ref := registrytest.Open(t, "file://"+dest, registry.Config{})
			_, err := reg.Push(context.Background(), st, model.Digest(fx.ImageCID), ref, registry.TransferOptions{})
			if err == nil || !strings.Contains(err.Error(), "symlink") {
				t.Errorf("push through a symlink leaving the image directory: %v, want a refusal naming the symlink", err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("push wrote outside the image directory: %v", names(ents))
			}
		})
	}
}
