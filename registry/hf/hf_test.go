package hf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

func TestMain(m *testing.M) {
	registrytest.CrashChild()
	os.Exit(m.Run())
}

const (
	aliceToken = "hf_alice_write_token"
	readToken_ = "hf_bob_read_token"
)

// startHub runs a test hub on loopback with a small tree page size, so
// every listing the backend makes is paginated.
func startHub(t testing.TB, opt hubtest.Options) *hubtest.Hub {
	t.Helper()
	if opt.Dir == "" {
		opt.Dir = t.TempDir()
	}
	if opt.TreePageSize == 0 {
		opt.TreePageSize = 4
	}
	h, err := hubtest.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	h.AddToken(aliceToken, "alice", true)
	h.AddToken(readToken_, "bob", false)
	return h
}

// open builds the hf registry as the command line does, from the
// environment, with token tok ("" for none).
func open(t testing.TB, h *hubtest.Hub, tok string) registry.Registry {
	t.Helper()
	return openWith(t, h, tok, registry.Config{})
}

func openWith(t testing.TB, h *hubtest.Hub, tok string, cfg registry.Config) registry.Registry {
	t.Helper()
	t.Setenv("HF_ENDPOINT", h.URL())
	t.Setenv("HF_TOKEN", tok)
	t.Setenv("HF_HOME", t.TempDir()) // no token file from the machine
	t.Setenv("HF_TOKEN_PATH", "")
	reg, err := registry.Open("hf", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// harness: images in dataset repositories of alice on one test hub, read
// and changed through the hub's direct access (commits on the branch).
type harness struct {
	registrytest.SameRef
	hub *hubtest.Hub
	seq atomic.Int64
}

// Open builds the backend from the environment TestConformance set once
// (the suite's tampering cases run in parallel: no Setenv per test).
func (h *harness) Open(t testing.TB, cfg registry.Config) registry.Registry {
	reg, err := registry.Open("hf", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func (h *harness) NewRef(t testing.TB) registry.Ref {
	return registrytest.MustRef(t, fmt.Sprintf("hf://alice/conformance-%d", h.seq.Add(1)))
}

// Namespace is an organisation alice belongs to: its repositories are
// listed two per page.
func (h *harness) Namespace(t testing.TB) registrytest.Namespace {
	org := fmt.Sprintf("ns%d", h.seq.Add(1))
	h.hub.AddOrg(org, "alice")
	return registrytest.Namespace{
		Root:       registrytest.MustRoot(t, "hf://"+org),
		Repo:       func(repo string) registry.Ref { return registrytest.MustRoot(t, "hf://"+org+"/"+repo) },
		Image:      func(repo, tag string) registry.Ref { return registrytest.MustRef(t, "hf://"+org+"/"+repo+":"+tag) },
		ServerPage: 2,
	}
}

// place is the repository, revision and path of an object.
func place(r registry.Ref, o registrytest.Object) (repoID, rev, p string) {
	rev = "main"
	if r.HasTag {
		rev = r.Tag
	}
	p = map[registrytest.ObjectKind]string{registrytest.Manifest: "manifest.json", registrytest.Signature: "manifest.json.sig"}[o.Kind]
	switch o.Kind {
	case registrytest.Blob:
		p = o.Digest.ShardPath()
	case registrytest.Bundle:
		p = o.Name
	}
	return r.User + "/" + r.Repo, rev, p
}

func (h *harness) Read(t testing.TB, r registry.Ref, o registrytest.Object) ([]byte, bool) {
	repoID, rev, p := place(r, o)
	b, ok, err := h.hub.ReadFile("datasets", repoID, rev, p)
	if err != nil {
		t.Fatal(err)
	}
	return b, ok
}

func (h *harness) Write(t testing.TB, r registry.Ref, o registrytest.Object, b []byte) {
	repoID, rev, p := place(r, o)
	if err := h.hub.WriteFile("datasets", repoID, rev, p, b, o.Kind == registrytest.Blob); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) Remove(t testing.TB, r registry.Ref, o registrytest.Object) {
	repoID, rev, p := place(r, o)
	if err := h.hub.RemoveFile("datasets", repoID, rev, p); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	h := &harness{hub: startHub(t, hubtest.Options{ListPageSize: 2})}
	open(t, h.hub, aliceToken) // sets the environment for the whole suite
	registrytest.Run(t, h)
}

// TestPushUsesTheHubProtocol: a push is one commit with manifest and
// signature inline and every blob through LFS; a second push uploads no LFS
// object again; the repository is created private; a pull follows the
// resolve redirects to LFS storage; main, which holds no image, is listed
// as a foreign revision.
func TestPushUsesTheHubProtocol(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, id := registrytest.SmallImage(t, 1)
	rep, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "hf://alice/agents:v1"), registry.TransferOptions{})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	s := h.Stats()
	if s.Commits != 1 || s.LFSFiles != int64(rep.Transferred) || s.RegularFiles != 2 {
		t.Errorf("want one commit with 2 inline files and %d LFS blobs, hub saw %+v", rep.Transferred, s)
	}
	if _, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "hf://alice/agents:v1"), registry.TransferOptions{}); err != nil {
		t.Fatalf("second push: %v", err)
	}
	if got := h.Stats().BasicUploads + h.Stats().MultipartUploads; got != s.BasicUploads+s.MultipartUploads {
		t.Errorf("second push uploaded LFS objects again (%d → %d)", s.BasicUploads+s.MultipartUploads, got)
	}
	if ok, err := reg.Exists(ctx, registrytest.MustRef(t, "hf://alice/agents")); err != nil || ok {
		t.Errorf("Exists(main) = %v, %v; main holds no image", ok, err)
	}
	tags, err := reg.Tags(ctx, registrytest.MustRef(t, "hf://alice/agents"), registry.ListOptions{})
	if err != nil || len(tags.Tags) != 2 || tags.Tags[0].Name != "main" || !tags.Tags[0].Foreign || tags.Tags[1].Updated.IsZero() {
		t.Errorf("tags = %+v, %v; want main (no image) and v1 (with its time)", tags, err)
	}
	if _, err := reg.Pull(ctx, registrytest.MustRef(t, "hf://alice/agents:v1"), registrytest.NewStore(t), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if h.Stats().RedirectsToStorage == 0 {
		t.Error("pull never followed a resolve redirect to LFS storage")
	}
	resp, err := http.Get(h.URL() + "/api/datasets/alice/agents")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous GET of the new repo: HTTP %d, want 401 (private)", resp.StatusCode)
	}
}

// TestRustLayout checks the files in the repository: exactly the
// file-registry layout of spec §9.2 (plus the Hub's .gitattributes).
func TestRustLayout(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	st, id := registrytest.SmallImage(t, 2)
	rep, err := reg.Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/layout"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := New(registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := hb.listFiles(context.Background(), repoRef{user: "alice", repo: "layout", rev: "main"}, "main", "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{".gitattributes": true, "manifest.json": true, "manifest.json.sig": true}
	for _, bs := range rep.Blobs {
		want[bs.Digest.ShardPath()] = true
	}
	for f := range files {
		if !want[f] {
			t.Errorf("unexpected file %s in the repository", f)
		}
	}
	for f := range want {
		if !files[f] {
			t.Errorf("missing %s in the repository", f)
		}
	}
}

// TestMultipartBlobWithProgress pushes an image with 20 MiB pages: they
// go through multipart LFS, and progress reports bytes as they move.
func TestMultipartBlobWithProgress(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, err := store.Open(t.TempDir(), store.WithLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	spec := demo.ImageSpec{Seed: 7, Files: 2, Pages: 1, Messages: 2, Layers: 16, Tokens: 1024, Heads: 16, HeadDim: 40}
	if spec.PageBytes() != 20<<20 {
		t.Fatalf("page size %d, want 20 MiB", spec.PageBytes())
	}
	id, err := demo.Build(st, spec)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		maxTot int64
		steps  = map[model.Digest][]int64{}
	)
	opt := registry.TransferOptions{Progress: func(ev registry.Event) {
		if ev.Kind != registry.KindBlob {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ev.Total > maxTot {
			maxTot = ev.Total
		}
		steps[ev.Digest] = append(steps[ev.Digest], ev.Done)
	}}
	if _, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "hf://alice/big"), opt); err != nil {
		t.Fatalf("push: %v", err)
	}
	s := h.Stats()
	if s.MultipartUploads < 1 || s.PartsUploaded < 2 {
		t.Fatalf("no multipart LFS upload happened: %+v", s)
	}
	if maxTot <= 8<<20 {
		t.Fatalf("largest stored blob %d bytes, want > 8 MiB (multipart threshold)", maxTot)
	}
	progressed := false
	for _, done := range steps {
		for _, d := range done {
			if d > 0 && d < maxTot {
				progressed = true
			}
		}
	}
	if !progressed {
		t.Error("no progress event between 0 and the full size of a large blob")
	}
	st2 := registrytest.NewStore(t)
	if _, err := reg.Pull(ctx, registrytest.MustRef(t, "hf://alice/big"), st2, registry.TransferOptions{}); err != nil || !st2.HasImage(id) {
		t.Fatalf("pull of the multipart image: %v", err)
	}
}

// TestErrors: each failure is one line, of the right class, and never
// shows the token.
func TestErrors(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	st, id := registrytest.SmallImage(t, 3)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/private:img"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, ref string
		class            error
		mention          string
	}{
		{"missing token on a private repo", "", "hf://alice/private", fault.ErrAuth, "HF_TOKEN"},
		{"wrong token", "hf_not_a_real_token", "hf://alice/private", fault.ErrAuth, "refused the token"},
		{"missing repo", aliceToken, "hf://alice/nope", fault.ErrNotFound, "alice/nope"},
		{"missing revision", aliceToken, "hf://alice/private:nope", fault.ErrNotFound, "revision"},
		{"no image on the revision", aliceToken, "hf://alice/private:main", fault.ErrNotFound, "manifest.json"},
		{"other user's private repo", readToken_, "hf://alice/private", fault.ErrNotFound, "alice/private"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := open(t, h, c.token)
			st2 := registrytest.NewStore(t)
			_, err := reg.Pull(context.Background(), registrytest.MustRef(t, c.ref), st2, registry.TransferOptions{})
			if err == nil {
				t.Fatal("pull succeeded")
			}
			msg := err.Error() + " " + fault.Hint(err)
			if !errors.Is(err, c.class) {
				t.Errorf("error %q is not %v", err, c.class)
			}
			if errors.Is(err, fault.ErrIntegrity) || errors.Is(err, fault.ErrUsage) || errors.Is(err, fault.ErrUnsupportedScheme) {
				t.Errorf("error %q maps to an exit code other than 1", err)
			}
			if strings.Contains(msg, "\n") || !strings.Contains(msg, c.mention) {
				t.Errorf("error %q: want one line mentioning %q", msg, c.mention)
			}
			if c.token != "" && strings.Contains(msg, c.token) {
				t.Errorf("error shows the token: %q", msg)
			}
			if fault.Hint(err) == "" {
				t.Errorf("error %q has no hint", err)
			}
		})
	}

	t.Run("push without token", func(t *testing.T) {
		_, err := open(t, h, "").Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/x"), registry.TransferOptions{})
		if !errors.Is(err, fault.ErrAuth) {
			t.Errorf("push without token: %v", err)
		}
	})
	t.Run("push with a read token", func(t *testing.T) {
		_, err := open(t, h, readToken_).Push(context.Background(), st, id, registrytest.MustRef(t, "hf://bob/x"), registry.TransferOptions{})
		if !errors.Is(err, fault.ErrAuth) || strings.Contains(err.Error(), readToken_) {
			t.Errorf("push with a read-only token: %v", err)
		}
	})
	t.Run("push to a tag", func(t *testing.T) {
		reg := open(t, h, aliceToken)
		hb, _ := New(registry.Config{})
		if err := hb.CreateTag(context.Background(), registrytest.MustRef(t, "hf://alice/private"), "v1"); err != nil {
			t.Fatal(err)
		}
		_, err := reg.Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/private:v1"), registry.TransferOptions{})
		if err == nil || !strings.Contains(err.Error(), "is a tag") {
			t.Errorf("push to a tag: %v", err)
		}
	})
	t.Run("plain http to a remote host with a token", func(t *testing.T) {
		t.Setenv("HF_ENDPOINT", "http://hub.example.invalid")
		t.Setenv("HF_TOKEN", aliceToken)
		_, err := registry.Open("hf", registry.Config{})
		if err == nil || strings.Contains(err.Error(), aliceToken) {
			t.Errorf("want a refusal without the token in it, got %v", err)
		}
	})
}

// TestRevisions: a new revision becomes a branch; PF_HF_TAG tags the push.
func TestRevisions(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, id := registrytest.SmallImage(t, 5)
	t.Setenv("PF_HF_TAG", "release-1")
	if _, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "hf://alice/rev:feature"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"hf://alice/rev:feature", "hf://alice/rev:release-1"} {
		in, err := reg.Inspect(ctx, registrytest.MustRef(t, r))
		if err != nil || in.ImageID != id {
			t.Errorf("inspect %s: %v", r, err)
		}
	}
	if ok, _ := reg.Exists(ctx, registrytest.MustRef(t, "hf://alice/rev")); ok {
		t.Error("push to a new branch also changed main")
	}
}

// TestTokenFile: without HF_TOKEN the token file under HF_HOME is used.
func TestTokenFile(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	st, id := registrytest.SmallImage(t, 6)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/tf"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "token"), []byte(aliceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HOME", home)
	reg, err := registry.Open("hf", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := reg.Exists(context.Background(), registrytest.MustRef(t, "hf://alice/tf")); err != nil || !ok {
		t.Errorf("with the token file: exists=%v err=%v", ok, err)
	}
}

// TestSourcePinsCommit: once the manifest is read, blobs come from the same
// commit even if the branch moves (a concurrent push cannot mix images).
func TestSourcePinsCommit(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	stA, idA := registrytest.SmallImage(t, 9)
	stB, idB := registrytest.SmallImage(t, 10)
	if _, err := reg.Push(ctx, stA, idA, registrytest.MustRef(t, "hf://alice/pin"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := reg.Source(ctx, registrytest.MustRef(t, "hf://alice/pin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.FetchManifest(ctx); err != nil {
		t.Fatal(err)
	}
	repB, err := reg.Push(ctx, stB, idB, registrytest.MustRef(t, "hf://alice/pin"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	onlyB := repB.Blobs[len(repB.Blobs)-1].Digest // a KV page of B, not in A
	if _, err := src.(registry.BlobStater).StatBlob(ctx, onlyB); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("pinned source sees a blob of the later push: %v", err)
	}
	fresh, _ := reg.Source(ctx, registrytest.MustRef(t, "hf://alice/pin"))
	if _, _, err := fresh.FetchManifest(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.(registry.BlobStater).StatBlob(ctx, onlyB); err != nil {
		t.Errorf("fresh source misses the new blob: %v", err)
	}
}

// TestPublicSwitch: PF_HF_PUBLIC=1 creates the repository public, so it
// can be pulled without a token.
func TestPublicSwitch(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	t.Setenv("PF_HF_PUBLIC", "1")
	st, id := registrytest.SmallImage(t, 13)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, registrytest.MustRef(t, "hf://alice/open"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	st2 := registrytest.NewStore(t)
	if _, err := open(t, h, "").Pull(context.Background(), registrytest.MustRef(t, "hf://alice/open"), st2, registry.TransferOptions{}); err != nil || !st2.HasImage(id) {
		t.Errorf("anonymous pull of a public push: %v", err)
	}
}
