// Package contenttest checks, against any backend, what browsing an image
// must do: every pane decodes to what the pushed image holds, no KV page
// is ever opened, and the pull cost matches the local store. The
// conformance suite (registrytest) runs Check on every backend's real
// server.
package contenttest

import (
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
)

// CountingSource counts the stored bytes a Source hands out (manifest,
// signature and blob reads) and records the blobs it opens.
type CountingSource struct {
	registry.Source
	mu     sync.Mutex
	bytes  int64
	opened []model.Digest
}

// Bytes is the number of bytes read through the source so far.
func (c *CountingSource) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Opened lists the blobs opened so far.
func (c *CountingSource) Opened() []model.Digest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.opened)
}

func (c *CountingSource) add(n int) {
	c.mu.Lock()
	c.bytes += int64(n)
	c.mu.Unlock()
}

// FetchManifest implements registry.Source.
func (c *CountingSource) FetchManifest(ctx context.Context) ([]byte, []byte, error) {
	m, s, err := c.Source.FetchManifest(ctx)
	c.add(len(m) + len(s))
	return m, s, err
}

// OpenBlob implements registry.Source.
func (c *CountingSource) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	rc, n, err := c.Source.OpenBlob(ctx, d)
	if err != nil {
		return nil, n, err
	}
	c.mu.Lock()
	c.opened = append(c.opened, d)
	c.mu.Unlock()
	return &countingBody{rc, c}, n, nil
}

// StatBlob passes the capability through when the source has it.
func (c *CountingSource) StatBlob(ctx context.Context, d model.Digest) (int64, error) {
	if s, ok := c.Source.(registry.BlobStater); ok {
		return s.StatBlob(ctx, d)
	}
	rc, n, err := c.Source.OpenBlob(ctx, d)
	if err != nil {
		return 0, err
	}
	rc.Close()
	return n, nil
}

type countingBody struct {
	io.ReadCloser
	c *CountingSource
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.add(n)
	return n, err
}

// Image builds a small demo image with files, KV pages, a conversation
// with tool calls and a ledger in a new store under dir.
func Image(t testing.TB, dir string) (*store.Store, model.Digest) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := demo.Build(st, demo.ImageSpec{Seed: 314, Files: 8, Pages: 3, SharedPages: 1, Messages: 16})
	if err != nil {
		t.Fatal(err)
	}
	return st, id
}

// Check pushes image id of st to ref, then browses it through reg and
// compares every pane with the store's own copy of the blobs.
func Check(t testing.TB, reg registry.Registry, st *store.Store, id model.Digest, ref registry.Ref) {
	t.Helper()
	ctx := context.Background()
	if _, err := reg.Push(ctx, st, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatalf("push: %v", err)
	}
	if rr := ref.Raw; strings.HasPrefix(rr, "ipfs://new") {
		t.Fatal("give a named IPFS reference: browsing reads it back")
	}
	src, err := reg.Source(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	cs := &CountingSource{Source: src}
	c, err := registry.NewContent(ctx, cs, &registry.Verifier{Key: reg.SignKey()}, signing.RequireAny)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	raw, err := st.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseManifest(raw)
	if err != nil || c.Inspection().ImageID != id {
		t.Fatalf("opened %s, pushed %s (%v)", c.Inspection().ImageID, id, err)
	}
	checkPanes(t, ctx, c, st, m)
	checkCost(t, ctx, c, st, m)
	pages := map[model.Digest]bool{}
	for _, r := range model.Walk(m, func(d model.Digest) ([]byte, error) { return st.ReadBlob(d, model.MaxMetadataSize) }) {
		if strings.HasPrefix(r.Role, "page:") {
			pages[r.Digest] = true
		}
	}
	if len(pages) == 0 || slices.ContainsFunc(cs.Opened(), func(d model.Digest) bool { return pages[d] }) {
		t.Fatalf("%d pages; browsing opened a KV page", len(pages))
	}
}

// same decodes a blob from the store and compares it with a pane.
func same[T any](t testing.TB, what string, got T, err error, st *store.Store, d model.Digest, decode func([]byte) (T, error)) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	b, err := st.ReadBlob(d, model.MaxDocSize)
	if err != nil {
		t.Fatal(err)
	}
	want, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s through the registry differs from the pushed image", what)
	}
}

func checkPanes(t testing.TB, ctx context.Context, c *registry.Content, st *store.Store, m *model.Manifest) {
	t.Helper()
	tr, err := c.Trace(ctx)
	same(t, "trace", tr, err, st, m.Trace.Messages, model.ParseTrace)
	l, err := c.Effects(ctx)
	same(t, "effects", l, err, st, m.Effects.Ledger, model.ParseLedger)
	env, err := c.Env(ctx)
	same(t, "env", env, err, st, m.World.Env, model.ParseEnv)
	cache, err := c.Cache(ctx)
	same(t, "cache", cache, err, st, m.Cache.Manifest, model.SummarizeCache)
	procs, err := c.Procs(ctx)
	same(t, "procs", procs, err, st, m.World.Procs, model.ParseProcs)
	tree, err := c.FsTree(ctx)
	same(t, "fs tree", tree, err, st, m.World.FS, model.ParseFsTree)
	mi, err := c.Model(ctx)
	if err != nil {
		t.Fatalf("model: %v", err)
	}
	same(t, "model diff", mi.Diff, nil, st, m.Model.Diff, model.ParseModelDiff)
	if len(tr.Messages) == 0 || len(l.Entries) == 0 || cache.Pages == 0 || mi.BaseText == "" {
		t.Fatalf("the test image is too small to prove anything: %d messages, %d effects, %d pages", len(tr.Messages), len(l.Entries), cache.Pages)
	}
	files := 0
	for _, e := range tree.Entries {
		fp, err := c.Preview(ctx, e.Path, 0, 0)
		if err != nil {
			t.Fatalf("preview %s: %v", e.Path, err)
		}
		if e.Kind != "file" || fp.Binary {
			continue
		}
		b, err := st.ReadBlob(model.Digest(e.Blob), model.MaxDocSize)
		if err != nil || fp.Text != string(b) {
			t.Fatalf("preview of %s differs from the file (%v)", e.Path, err)
		}
		files++
	}
	if files == 0 {
		t.Fatal("no text file previewed")
	}
}

func checkCost(t testing.TB, ctx context.Context, c *registry.Content, st *store.Store, m *model.Manifest) {
	t.Helper()
	full, err := c.PullCost(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	none, err := c.PullCost(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	walk := model.Walk(m, func(d model.Digest) ([]byte, error) { return st.ReadBlob(d, model.MaxMetadataSize) })
	if full.Blobs != len(walk) || full.FetchBlobs != 0 || full.LocalBlobs != len(walk) || none.FetchBlobs != len(walk) ||
		none.FetchBytes != full.LocalBytes || (none.UnknownSizes == 0 && none.FetchBytes <= 0) {
		t.Fatalf("pull cost with the image local %+v, with an empty store %+v (walk has %d blobs)", full, none, len(walk))
	}
}
