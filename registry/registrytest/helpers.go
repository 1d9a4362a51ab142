package registrytest

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/demo"
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
func MustRef(t testing.TB, s string) registry.Ref { return must(t, s, registry.ParseRef) }

// MustRoot parses a listing root.
func MustRoot(t testing.TB, s string) registry.Ref { return must(t, s, registry.ParseRoot) }

func must(t testing.TB, s string, parse func(string) (registry.Ref, error)) registry.Ref {
	t.Helper()
	r, err := parse(s)
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

// CopyAlong copies an image from refs[0] to refs[1], then on to refs[2] and
// so on: every copy is complete, keeps the image ID want and verifies deep
// at its destination, where then (if set) checks more. open opens a
// reference (nil: Open with the default configuration).
func CopyAlong(t testing.TB, want model.Digest, open func(string) (registry.Registry, registry.Ref), then func(dst registry.Ref), refs ...string) {
	t.Helper()
	if open == nil {
		open = func(s string) (registry.Registry, registry.Ref) { return Open(t, s, registry.Config{}) }
	}
	ctx := context.Background()
	for i := 0; i+1 < len(refs); i++ {
		sreg, sr := open(refs[i])
		dreg, dr := open(refs[i+1])
		rep, err := registry.Copy(ctx, sreg, sr, dreg, dr, registry.TransferOptions{})
		if err != nil || !rep.Complete || rep.Inspection.ImageID != want {
			t.Fatalf("copy %s → %s: %v (image %v)", refs[i], refs[i+1], err, rep.Inspection)
		}
		vr, err := dreg.Verify(ctx, dr, registry.VerifyOptions{Deep: true})
		if err != nil || !vr.Complete || vr.Inspection.ImageID != want {
			t.Fatalf("deep verify %s: %v", refs[i+1], err)
		}
		if then != nil {
			then(dr)
		}
	}
}

// ReadAll reads a stream a call opened (with err) to its end and closes it;
// any failure fails the test.
func ReadAll(t testing.TB, rc io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SmallImage builds a small demo image (a few files and KV pages) in a
// fresh store; seed picks its content.
func SmallImage(t testing.TB, seed uint64) (*store.Store, model.Digest) {
	t.Helper()
	st := NewStore(t)
	return st, AddSmallImage(t, st, seed)
}

// AddSmallImage builds a small demo image in st.
func AddSmallImage(t testing.TB, st *store.Store, seed uint64) model.Digest {
	t.Helper()
	id, err := demo.Build(st, demo.ImageSpec{Seed: seed, Files: 6, Pages: 2, Messages: 5})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// BigImage builds a benchmark's image of size logical bytes
// (demo.BigImage) in a fresh store.
func BigImage(b testing.TB, size int64) (st *store.Store, id model.Digest) {
	b.Helper()
	start := time.Now()
	st = NewStore(b)
	id, err := demo.BigImage(st, size, 7)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built a %d MiB image in %s", size>>20, time.Since(start).Round(time.Millisecond))
	return st, id
}

// Push pushes image id of st to ref, failing the test on an error.
func Push(t testing.TB, reg registry.Registry, st *store.Store, id model.Digest, ref string) *registry.Report {
	t.Helper()
	rep, err := reg.Push(context.Background(), st, id, MustRef(t, ref), registry.TransferOptions{})
	if err != nil {
		t.Fatalf("push to %s: %v", ref, err)
	}
	return rep
}

// ReadManifest reads and parses the manifest of image id in st.
func ReadManifest(t testing.TB, st *store.Store, id model.Digest) *model.Manifest {
	t.Helper()
	raw, err := st.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
