package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/contenttest"
	_ "pf-registry/registry/file"
	"pf-registry/signing"
	"pf-registry/store"
)

var (
	demoOnce sync.Once
	demoRes  *demo.Result
	demoErr  error
	demoDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	os.Exit(code)
}

// demoRegistry is one demo registry shared by the tests of this package
// (generating it takes about a second).
func demoRegistry(t *testing.T) *demo.Result {
	t.Helper()
	demoOnce.Do(func() {
		if demoDir, demoErr = os.MkdirTemp("", "pf-registry-content-"); demoErr == nil {
			demoRes, demoErr = demo.Generate(filepath.Join(demoDir, "reg"))
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoRes
}

func openContent(t *testing.T, ref string) *registry.Content {
	t.Helper()
	reg, r, err := registry.ForRef(ref, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.OpenContent(t.Context(), reg, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContentPanesOnDemo(t *testing.T) {
	res := demoRegistry(t)
	ctx := t.Context()
	c := openContent(t, res.Root+"/alice/refactor-agent/v2")
	if c.Inspection().ImageID != res.Images["alice/refactor-agent/v2"] || c.Inspection().Signature.Status() != signing.DefaultKey {
		t.Fatalf("inspection: %+v", c.Inspection())
	}
	tr, err := c.Trace(ctx)
	if err != nil || len(tr.Messages) != 40 || tr.Messages[0].Role != "system" || tr.Messages[1].Role != "user" ||
		len(tr.Messages[2].Parts) != 2 || tr.Messages[2].Parts[1].Type != "tool_use" || tr.Messages[3].Parts[0].Type != "tool_result" {
		t.Fatalf("trace: %v %+v", err, tr)
	}
	l, err := c.Effects(ctx)
	if err != nil || l.Header == nil || !l.Header.SessionSecret || l.Header.Entries != int64(len(l.Entries)) || len(l.Entries) != 13 {
		t.Fatalf("effects: %v %+v", err, l)
	}
	env, err := c.Env(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := env.Value("GITHUB_TOKEN"); v != model.RedactedValue {
		t.Errorf("forgotten token not masked: %q", v)
	}
	if v, _ := env.Value("GIT_BRANCH"); v != "refactor/cache-pages" || env.Cwd != "/workspace/pf-cli" {
		t.Errorf("env: %+v", env)
	}
	cs, err := c.Cache(ctx)
	if err != nil || cs.Empty || cs.Pages != 6 || cs.PageBytes != 256<<10 || cs.Bytes != 6*2*256<<10 || cs.TokensHeld != 5*64+1+(40*37)%64 {
		t.Fatalf("cache: %v %+v", err, cs)
	}
	mi, err := c.Model(ctx)
	if err != nil || mi.BaseText != "base:claude-code" || mi.Diff == nil || mi.Diff.Kind != "lora" || len(mi.Diff.Adapters) != 1 || mi.Diff.Adapters[0].Name != "refactor-style" {
		t.Fatalf("model: %v %+v", err, mi)
	}
	p, err := c.Procs(ctx)
	if err != nil || p.Kind != model.ProcsRespawn || len(p.Commands) != 2 || strings.Contains(strings.Join(p.Commands, " "), "not-a-real-token") {
		t.Fatalf("procs: %v %+v", err, p)
	}
	nightly := res.Root + "/ci/nightly/2026-11-27"
	reg, ref, _ := registry.ForRef(nightly, registry.Config{})
	src, _ := reg.Source(ctx, ref)
	nc, err := registry.NewContent(ctx, src, nil, signing.RequireAny) // a trusted source: no signature check
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := nc.Cache(ctx); err != nil || !cs.Empty || cs.Note == "" {
		t.Fatalf("image without KV cache: %v %+v", err, cs)
	}
}

func TestContentFilePreview(t *testing.T) {
	res := demoRegistry(t)
	ctx := t.Context()
	c := openContent(t, res.Root+"/alice/refactor-agent/v2")
	cases := []struct {
		path, kind, desc string
		fetched, binary  bool
	}{
		{"README.md", "file", "text", true, false},
		{"docs/architecture.png", "file", "PNG image", true, true},
		{"docs/index.md", "symlink", "symbolic link to README.md", false, false},
		{"src/agent", "dir", "directory, 4 entries", false, false}, // __init__, planner, tools, memory
	}
	for _, tc := range cases {
		fp, err := c.Preview(ctx, tc.path, 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if fp.Kind != tc.kind || fp.Description != tc.desc || fp.Fetched != tc.fetched || fp.Binary != tc.binary {
			t.Errorf("%s: %+v", tc.path, fp)
		}
	}
	fp, err := c.Preview(ctx, "README.md", 0, 10)
	if err != nil || !strings.HasPrefix(fp.Text, "# README") || len(fp.Text) != 10 || !fp.Truncated {
		t.Errorf("text cap: %v %+v", err, fp)
	}
	fp, err = c.Preview(ctx, "README.md", 16, 0)
	if err != nil || fp.Fetched || fp.Text != "" || !strings.Contains(fp.Description, "over the 16-byte preview limit") {
		t.Errorf("fetch cap: %v %+v", err, fp)
	}
	if _, err := c.Preview(ctx, "no/such/file", 0, 0); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("missing path: %v", err)
	}
}

func TestContentRefusesImagesThatWouldNotPull(t *testing.T) {
	res := demoRegistry(t)
	for _, ref := range []string{res.Tampered, res.Root + "/bob/research-agent/unsigned"} {
		reg, r, _ := registry.ForRef(ref, registry.Config{})
		if _, err := registry.OpenContent(t.Context(), reg, r); !errors.Is(err, fault.ErrIntegrity) {
			t.Errorf("%s: %v, want an integrity error", ref, err)
		}
	}
	reg, r, _ := registry.ForRef(res.Root+"/ci/nightly/2026-11-25", registry.Config{Policy: registry.Policy{Require: signing.RequireSigned}})
	if _, err := registry.OpenContent(t.Context(), reg, r); !errors.Is(err, fault.ErrIntegrity) {
		t.Errorf("open of a default-key image under --require signed: %v", err)
	}
}

func TestContentBlobCapsAndCancels(t *testing.T) {
	res := demoRegistry(t)
	c := openContent(t, res.Root+"/alice/refactor-agent/v3")
	m := c.Manifest()
	if _, err := c.Blob(t.Context(), m.Trace.Messages, "trace.messages", 1024); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("trace under a 1 KiB cap: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Effects(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	if _, err := c.Effects(t.Context()); err != nil {
		t.Fatalf("after a cancelled read: %v", err)
	}
}

// dirBlobs is the stored size of every blob file of a file:// image
// directory, by digest: an account of the image independent of the walk.
func dirBlobs(t *testing.T, dir string) map[model.Digest]int64 {
	t.Helper()
	out := map[model.Digest]int64{}
	err := filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		dg, err := model.DigestFromShardPath(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		fi, err := d.Info()
		out[dg] = fi.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestContentOfLocalStoreImage(t *testing.T) {
	dir := t.TempDir()
	st, id := contenttest.Image(t, filepath.Join(dir, "src"))
	// The store source keeps no signature: it is trusted (key nil), as
	// for a push.
	src, err := registry.StoreSource(st, id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.NewContent(t.Context(), src, nil, signing.RequireAny)
	if err != nil {
		t.Fatal(err)
	}
	if tr, err := c.Trace(t.Context()); err != nil || len(tr.Messages) != 16 {
		t.Fatalf("trace of a local image: %v", err)
	}
}

func TestPullCost(t *testing.T) {
	res := demoRegistry(t)
	ctx := t.Context()
	dir := strings.TrimPrefix(res.Root, "file://")
	v1, v2 := dirBlobs(t, filepath.Join(dir, "alice/refactor-agent/v1")), dirBlobs(t, filepath.Join(dir, "alice/refactor-agent/v2"))
	var total, notInV1 int64
	for d, n := range v2 {
		total += n
		if _, ok := v1[d]; !ok {
			notInV1 += n
		}
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	c := openContent(t, res.Root+"/alice/refactor-agent/v2")
	pc, err := c.PullCost(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Blobs != len(v2) || pc.Bytes != total || pc.FetchBytes != total || pc.LocalBlobs != 0 || pc.UnknownSizes != 0 {
		t.Fatalf("empty store: %+v, want %d blobs, %d bytes", pc, len(v2), total)
	}
	reg, ref, _ := registry.ForRef(res.Root+"/alice/refactor-agent/v1", registry.Config{})
	if _, err := reg.Pull(ctx, ref, st, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	pc, err = c.PullCost(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if pc.FetchBytes != notInV1 || pc.LocalBytes != total-notInV1 || pc.FetchBlobs+pc.LocalBlobs != len(v2) || notInV1 >= total {
		t.Fatalf("with v1 in the store: %+v, want %d bytes to fetch of %d", pc, notInV1, total)
	}
}

func TestHugeImagePanesFetchLittle(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	key := signing.ForBackend("file")
	id, pageStored, err := demo.SparseImage(dir, 1<<30, key)
	if err != nil {
		t.Fatal(err)
	}
	if pageStored < 4<<20 {
		t.Fatalf("pages store only %d bytes: fetching them would not show", pageStored)
	}
	reg, ref, _ := registry.ForRef("file://"+dir, registry.Config{})
	src, err := reg.Source(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	cs := &contenttest.CountingSource{Source: src}
	c, err := registry.NewContent(ctx, cs, &registry.Verifier{Key: key}, signing.RequireAny)
	if err != nil || c.Inspection().ImageID != id {
		t.Fatalf("open: %v", err)
	}
	// Every pane, every file preview, and the pull cost.
	sum, err := c.Cache(ctx)
	if err != nil || sum.Bytes < 1<<30 {
		t.Fatalf("cache pane: %v %+v (not a 1 GiB image)", err, sum)
	}
	_, err1 := c.Trace(ctx)
	_, err2 := c.Effects(ctx)
	_, err3 := c.Env(ctx)
	_, err4 := c.Procs(ctx)
	_, err5 := c.Model(ctx)
	tree, err6 := c.FsTree(ctx)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		t.Fatal(err)
	}
	for _, e := range tree.Entries {
		if _, err := c.Preview(ctx, e.Path, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := c.PullCost(ctx, nil)
	if err != nil || pc.Bytes < pageStored {
		t.Fatalf("pull cost: %v %+v", err, pc)
	}
	pages := map[model.Digest]bool{}
	blobs, _ := c.Blobs(ctx)
	for _, b := range blobs {
		if strings.HasPrefix(b.Role, "page:") {
			pages[b.Digest] = true
		}
	}
	if len(pages) < 512 || slices.ContainsFunc(cs.Opened(), func(d model.Digest) bool { return pages[d] }) {
		t.Fatalf("%d pages; a KV page was opened while browsing", len(pages))
	}
	if cs.Bytes() >= 1<<20 {
		t.Fatalf("browsing a 1 GiB image fetched %d bytes, want < 1 MiB", cs.Bytes())
	}
	t.Logf("browsing every pane fetched %d bytes of %d stored", cs.Bytes(), pc.Bytes)
	// The counter does see page reads: one page adds its stored size.
	before := cs.Bytes()
	if _, err := c.Blob(ctx, blobs[len(blobs)-1].Digest, "page", 4<<20); err != nil {
		t.Fatal(err)
	}
	if got := cs.Bytes() - before; got != blobs[len(blobs)-1].StoredSize {
		t.Fatalf("reading one page counted %d bytes, want %d", got, blobs[len(blobs)-1].StoredSize)
	}
}
