package registrytest

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file" // fixture source and copy target
	"pf-registry/store"
)

// NewStore opens an empty local store in a temp dir.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// MustRef parses an image reference.
func MustRef(t testing.TB, s string) registry.Ref {
	t.Helper()
	r, err := registry.ParseRef(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return r
}

// MustRoot parses a listing root.
func MustRoot(t testing.TB, s string) registry.Ref {
	t.Helper()
	r, err := registry.ParseRoot(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return r
}

// Open opens the registry serving a reference's scheme.
func Open(t testing.TB, ref string, cfg registry.Config) (registry.Registry, registry.Ref) {
	t.Helper()
	reg, r, err := registry.ForRef(ref, cfg)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return reg, r
}

// FileRef is a file:// reference to a fresh directory.
func FileRef(t testing.TB) string {
	return "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "img"))
}

// FixtureStore returns a fresh store holding the fixture image, pulled from
// testdata/file-registry-example so that its stored bytes are the
// fixture's (raw-block frames).
func FixtureStore(t testing.TB) (*store.Store, model.Digest) {
	t.Helper()
	st := NewStore(t)
	reg, r := Open(t, "file://"+filepath.ToSlash(vectors.FixtureDir()), registry.Config{})
	rep, err := reg.Pull(context.Background(), r, st, registry.TransferOptions{})
	if err != nil {
		t.Fatalf("pull the fixture: %v", err)
	}
	return st, rep.Inspection.ImageID
}

// StoredBlobs lists the blobs of a store (or of any directory in the
// sharded layout: a file:// image) by digest.
func StoredBlobs(t testing.TB, root string) []model.Digest {
	t.Helper()
	var out []model.Digest
	err := filepath.WalkDir(filepath.Join(root, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".zst") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		dg, derr := model.DigestFromShardPath(filepath.ToSlash(rel))
		if derr != nil {
			t.Errorf("%s: %v", rel, derr)
			return nil
		}
		out = append(out, dg)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// CheckStoreClean asserts what a failed or cancelled pull may leave in a
// store: no image marker, no staging file, and only blobs that verify.
func CheckStoreClean(t testing.TB, st *store.Store) {
	t.Helper()
	if imgs, _ := st.Images(); len(imgs) != 0 {
		t.Errorf("the store got an image marker: %v", imgs)
	}
	if files, _ := st.StagingFiles(); len(files) != 0 {
		t.Errorf("staging files left in the store: %v", files)
	}
	for _, d := range StoredBlobs(t, st.Root()) {
		if _, err := st.ReadBlob(d, 1<<30); err != nil {
			t.Errorf("the store holds a blob that does not verify: %v", err)
		}
	}
}
