package file_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/registry"
	"pf-registry/registry/file"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
)

// harness: images are directories in temp dirs, read and changed on disk.
type harness struct{}

func (harness) Open(_ testing.TB, cfg registry.Config) registry.Registry {
	return registry.New(file.New(cfg), cfg)
}

func (harness) NewRef(t testing.TB) registry.Ref {
	return registrytest.MustRef(t, registrytest.FileRef(t))
}

func (harness) Namespace(t testing.TB) registrytest.Namespace {
	root := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "ns"))
	return registrytest.Namespace{
		Root:  registrytest.MustRoot(t, root),
		Repo:  func(repo string) registry.Ref { return registrytest.MustRoot(t, root+"/"+repo) },
		Image: func(repo, tag string) registry.Ref { return registrytest.MustRef(t, root+"/"+repo+"/"+tag) },
	}
}

func objectPath(ref registry.Ref, o registrytest.Object) string {
	switch o.Kind {
	case registrytest.Manifest:
		return filepath.Join(ref.Path, "manifest.json")
	case registrytest.Signature:
		return filepath.Join(ref.Path, "manifest.json.sig")
	case registrytest.Bundle:
		return filepath.Join(ref.Path, o.Name)
	}
	return filepath.Join(ref.Path, filepath.FromSlash(o.Digest.ShardPath()))
}

func (harness) Read(t testing.TB, ref registry.Ref, o registrytest.Object) ([]byte, bool) {
	b, err := os.ReadFile(objectPath(ref, o))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return b, err == nil
}

func (harness) Write(t testing.TB, ref registry.Ref, o registrytest.Object, b []byte) {
	p := objectPath(ref, o)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (harness) Remove(t testing.TB, ref registry.Ref, o registrytest.Object) {
	if err := os.Remove(objectPath(ref, o)); err != nil {
		t.Fatal(err)
	}
}

// Leftovers are the files in the image directory's staging area.
func (harness) Leftovers(_ testing.TB, ref registry.Ref) []string {
	ents, _ := os.ReadDir(filepath.Join(ref.Path, ".pf-staging"))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, harness{})
}

// tree renders every file under dir with its bytes.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A push of the fixture writes exactly the fixture directory (spec §9.1),
// byte for byte, and nothing else (no staging directory).
func TestPushWritesTheFixtureLayout(t *testing.T) {
	st, id := registrytest.FixtureStore(t)
	reg, ref := registrytest.Open(t, registrytest.FileRef(t), registry.Config{})
	if _, err := reg.Push(context.Background(), st, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	got, want := tree(t, ref.Path), tree(t, vectors.FixtureDir())
	if len(got) != len(want) {
		t.Errorf("pushed %d files and directories, the fixture has %d", len(got), len(want))
	}
	for p, b := range want {
		if got[p] != b {
			t.Errorf("%s differs from the fixture's", p)
		}
	}
}

// A blob in the wrong shard directory is not found: the image is
// incomplete (Rust fails the whole pull the same way, spec §9.1).
func TestBlobInTheWrongShard(t *testing.T) {
	dir := vectors.CopyFixture(t)
	someBlob := vectors.LoadFixture(t).WalkOrder[12].Path
	to := filepath.Join(dir, "blobs", "sha256", "00", filepath.Base(someBlob))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, someBlob), to); err != nil {
		t.Fatal(err)
	}
	reg, ref := registrytest.Open(t, "file://"+dir, registry.Config{})
	st := registrytest.NewStore(t)
	_, err := reg.Pull(context.Background(), ref, st, registry.TransferOptions{})
	if !errors.Is(err, fault.ErrIntegrity) || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("pull: %v, want an incomplete image", err)
	}
	registrytest.CheckStoreClean(t, st)
	if _, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true}); !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("deep verify: %v, want an integrity error", err)
	}
}

// A partial blob a non-atomic writer (the Rust tool) left at the
// destination is re-verified and replaced, not trusted.
func TestPartialBlobAtDestinationIsReplaced(t *testing.T) {
	fx := vectors.LoadFixture(t)
	st, id := registrytest.FixtureStore(t)
	reg, ref := registrytest.Open(t, registrytest.FileRef(t), registry.Config{})
	victim := filepath.Join(ref.Path, fx.WalkOrder[3].Path)
	if err := os.MkdirAll(filepath.Dir(victim), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("half a bl"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Push(context.Background(), st, id, ref, registry.TransferOptions{})
	if err != nil || rep.Transferred != 13 {
		t.Fatalf("push over a partial blob: %+v, %v", rep, err)
	}
	if _, err := reg.Verify(context.Background(), ref, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); bytes.Equal(b, []byte("half a bl")) {
		t.Fatal("the partial blob is still there")
	}
}

func TestListAndTagsOnDemo(t *testing.T) {
	ctx := context.Background()
	res, err := demo.Generate(filepath.Join(t.TempDir(), "reg"))
	if err != nil {
		t.Fatal(err)
	}
	reg, root, err := registry.ForRoot(res.Root, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := reg.List(ctx, root, registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range l.Repos {
		names = append(names, r.Name+"="+strings.Join(r.Tags, ","))
	}
	want := "alice/refactor-agent=v1,v2,v3 bob/research-agent=experiment,main,unsigned ci/nightly=2026-11-25,2026-11-26,2026-11-27 team/merge-bot=merged"
	if strings.Join(names, " ") != want {
		t.Fatalf("List = %v\nwant %s", names, want)
	}
	repoRef, _ := registry.ParseRoot(l.Repos[2].Ref)
	tags, err := reg.Tags(ctx, repoRef, registry.ListOptions{})
	if err != nil || len(tags.Tags) != 3 || tags.Tags[1].Name != "2026-11-26" || tags.Tags[1].Ref != res.Tampered {
		t.Fatalf("Tags = %+v, %v", tags, err)
	}
	// Verdicts across the demo: one invalid, one missing, the rest default-key.
	got := map[signing.Status]int{}
	for _, r := range l.Repos {
		for _, tag := range r.Tags {
			in, err := reg.Inspect(ctx, registrytest.MustRef(t, r.Ref+"/"+tag))
			if err != nil {
				t.Fatal(err)
			}
			got[in.Signature.Status()]++
		}
	}
	if got[signing.Invalid] != 1 || got[signing.Missing] != 1 || got[signing.DefaultKey] != 8 {
		t.Fatalf("demo verdicts %v", got)
	}
	missing := registrytest.MustRoot(t, "file://"+filepath.Join(t.TempDir(), "nope"))
	if _, err := reg.List(ctx, missing, registry.ListOptions{}); !errors.Is(err, fault.ErrNotFound) || fault.Hint(err) == "" {
		t.Fatalf("missing root: %v", err)
	}
}
