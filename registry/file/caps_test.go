package file_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
	"pf-registry/store"
)

// Caps on what a hostile image can make a pull decompress and store.

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// zeroBlob is n zero bytes: their digest and their stored (zstd) form,
// a few KiB whatever n is.
func zeroBlob(t *testing.T, n int64) (model.Digest, []byte) {
	t.Helper()
	var stored bytes.Buffer
	if _, err := blob.Compress(&stored, io.LimitReader(zeros{}, n), 3); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(zeros{}, n)); err != nil {
		t.Fatal(err)
	}
	return model.FromHash(h), stored.Bytes()
}

// writeStored puts stored bytes at the sharded path of d.
func writeStored(t *testing.T, dir string, d model.Digest, stored []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(d.ShardPath()))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, stored, 0o644); err != nil {
		t.Fatal(err)
	}
}

// resign rewrites the manifest of an image directory and signs it.
func resign(t *testing.T, dir string, edit func(*model.Manifest)) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	raw = m.Encode()
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json.sig"), signing.SignBytes(raw, signing.Default()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pullWith pulls the image of dir under cfg into a fresh store.
func pullWith(t *testing.T, dir string, cfg registry.Config) (*store.Store, error) {
	t.Helper()
	reg, ref, err := registry.ForRef("file://"+dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := registrytest.NewStore(t)
	_, err = reg.Pull(context.Background(), ref, st, registry.TransferOptions{})
	return st, err
}

func wantTooLarge(t *testing.T, err error, mention string) {
	t.Helper()
	t.Logf("pull: %v", err)
	if !errors.Is(err, fault.ErrIntegrity) || !errors.Is(err, blob.ErrTooLarge) || !strings.Contains(err.Error(), mention) {
		t.Fatalf("pull: %v; want an integrity error over the size cap mentioning %q", err, mention)
	}
}

// TestMetadataCapFollowsMaxBlobSize: --max-blob-size lowers the cap on the
// fs tree too (it used to be a fixed 256 MiB whatever the flag said).
func TestMetadataCapFollowsMaxBlobSize(t *testing.T) {
	dir := vectors.CopyFixture(t)
	rewriteFsTree(t, dir, func(tree *model.FsTree) {
		for i := range 4000 {
			tree.Entries = append(tree.Entries, model.FsEntry{Path: "d/" + strings.Repeat("x", 300) + "/" + string(rune('a'+i%26)) + strings.Repeat("y", i%7), Mode: "0755", Kind: "dir"})
		}
	})
	// A quick verify reads the tree into memory (to walk it) and moves
	// nothing: the cap must hold there too.
	reg, ref, err := registry.ForRef("file://"+dir, registry.Config{MaxBlobSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.Verify(context.Background(), ref, registry.VerifyOptions{})
	wantTooLarge(t, err, "1048576")
	_, err = pullWith(t, dir, registry.Config{MaxBlobSize: 1 << 20})
	wantTooLarge(t, err, "1048576")
	if _, err := pullWith(t, dir, registry.Config{}); err != nil {
		t.Fatalf("the same image under the default caps: %v", err)
	}
}

// TestFileCapIsDeclaredSize: an fs-tree file blob may not decompress to
// more than the size its entry declares.
func TestFileCapIsDeclaredSize(t *testing.T) {
	dir := vectors.CopyFixture(t)
	d, stored := zeroBlob(t, 1<<20)
	writeStored(t, dir, d, stored)
	rewriteFsTree(t, dir, func(tree *model.FsTree) {
		tree.Entries = append(tree.Entries, model.FsEntry{Path: "zz/small.txt", Mode: "0644", Size: 3, Kind: "file", Blob: string(d)})
	})
	_, err := pullWith(t, dir, registry.Config{})
	wantTooLarge(t, err, "3 bytes")
}

// TestPageCapIsGeometry: a KV page may not decompress to more than the
// page manifest's geometry says a page holds.
func TestPageCapIsGeometry(t *testing.T) {
	dir := vectors.CopyFixture(t)
	d, stored := zeroBlob(t, 1<<20)
	writeStored(t, dir, d, stored)
	pm := &model.PageManifest{Layout: "paged-batchinvariant-v1", PageSizeTokens: 2, NLayers: 1, NHeads: 2, HeadDim: 4, Dtype: "bf16",
		Pages: []model.Page{{Ix: 0, K: string(d), V: string(d)}}}
	enc := pm.Encode()
	pmd := model.FromBytes(enc)
	putBlob(t, dir, pmd, enc)
	resign(t, dir, func(m *model.Manifest) { m.Cache.Manifest = pmd })
	_, err := pullWith(t, dir, registry.Config{})
	wantTooLarge(t, err, "32 bytes") // 1 layer × 2 tokens × 2 heads × 4 dims × 2 bytes
}

// TestUndeclaredBombCapped: a blob whose size nothing declares (here the
// trace) may not decompress to more than 256 times its stored size (at
// least 64 MiB) unless --max-blob-size says otherwise: a 66 MiB bomb of
// a few KiB is stopped; with the flag raised it is accepted.
func TestUndeclaredBombCapped(t *testing.T) {
	dir := vectors.CopyFixture(t)
	d, stored := zeroBlob(t, 66<<20)
	writeStored(t, dir, d, stored)
	resign(t, dir, func(m *model.Manifest) { m.Trace.Messages = d })
	_, err := pullWith(t, dir, registry.Config{})
	wantTooLarge(t, err, "trace.messages")
	if _, err := pullWith(t, dir, registry.Config{MaxBlobSize: 256 << 20}); err != nil {
		t.Fatalf("with --max-blob-size raised: %v", err)
	}
}

// TestSkippablePaddingRefused: a stored blob padded with skippable zstd
// frames (valid zstd, no content) far beyond its content is refused and
// not stored.
func TestSkippablePaddingRefused(t *testing.T) {
	fx := vectors.LoadFixture(t)
	dir := vectors.CopyFixture(t)
	w := fx.WalkOrder[0]
	p := filepath.Join(dir, filepath.FromSlash(w.Path))
	stored, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pad := make([]byte, 8+8<<20)
	binary.LittleEndian.PutUint32(pad, 0x184D2A50)
	binary.LittleEndian.PutUint32(pad[4:], uint32(len(pad)-8))
	if err := os.WriteFile(p, append(stored, pad...), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := pullWith(t, dir, registry.Config{})
	t.Logf("pull: %v", err)
	if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), "padding") {
		t.Fatalf("pull of a padded blob: %v; want an integrity error about padding", err)
	}
	if st.HasBlob(model.Digest(w.Digest)) {
		t.Fatal("the padded blob was stored")
	}
}
