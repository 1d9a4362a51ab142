package hf

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"pf-registry/blob"
	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/signing"
	"pf-registry/store"
)

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
	t.Setenv("HF_ENDPOINT", h.URL())
	t.Setenv("HF_TOKEN", tok)
	t.Setenv("HF_HOME", t.TempDir()) // no token file from the machine
	t.Setenv("HF_TOKEN_PATH", "")
	reg, err := registry.Open("hf", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func ref(t testing.TB, s string) registry.Ref {
	t.Helper()
	r, err := registry.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// smallImage builds a demo image in a fresh store.
func smallImage(t testing.TB, seed uint64) (*store.Store, model.Digest) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := demo.Build(st, demo.ImageSpec{Seed: seed, Files: 6, Pages: 2, Messages: 5})
	if err != nil {
		t.Fatal(err)
	}
	return st, id
}

func TestPushListInspectVerifyPull(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, id := smallImage(t, 1)

	rep, err := reg.Push(ctx, st, id, ref(t, "hf://alice/agents:v1"), registry.TransferOptions{})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if !rep.Complete || rep.Transferred == 0 {
		t.Fatalf("push report: complete=%v transferred=%d", rep.Complete, rep.Transferred)
	}
	s := h.Stats()
	if s.Commits != 1 || s.LFSFiles != int64(rep.Transferred) || s.RegularFiles != 2 {
		t.Errorf("want one commit with 2 inline files and %d LFS blobs, hub saw %+v", rep.Transferred, s)
	}

	// A second push of the same image uploads no blob again.
	rep2, err := reg.Push(ctx, st, id, ref(t, "hf://alice/agents:v1"), registry.TransferOptions{})
	if err != nil {
		t.Fatalf("second push: %v", err)
	}
	if rep2.Transferred != 0 || rep2.Skipped != rep.Transferred {
		t.Errorf("second push moved %d blobs, skipped %d; want 0 and %d", rep2.Transferred, rep2.Skipped, rep.Transferred)
	}
	if got := h.Stats().BasicUploads + h.Stats().MultipartUploads; got != s.BasicUploads+s.MultipartUploads {
		t.Errorf("second push uploaded LFS objects again (%d → %d)", s.BasicUploads+s.MultipartUploads, got)
	}

	if ok, err := reg.Exists(ctx, ref(t, "hf://alice/agents:v1")); err != nil || !ok {
		t.Errorf("Exists(v1) = %v, %v", ok, err)
	}
	if ok, err := reg.Exists(ctx, ref(t, "hf://alice/agents")); err != nil || ok {
		t.Errorf("Exists(main) = %v, %v; main holds no image", ok, err)
	}

	root, err := registry.ParseRoot("hf://alice")
	if err != nil {
		t.Fatal(err)
	}
	ls, err := reg.List(ctx, root, registry.ListOptions{})
	if err != nil {
		t.Fatalf("ls: %v", err)
	}
	if len(ls.Repos) != 1 || ls.Repos[0].Name != "alice/agents" || strings.Join(ls.Repos[0].Tags, ",") != "v1" {
		t.Errorf("ls hf://alice = %+v", ls.Repos)
	}

	tags, err := reg.Tags(ctx, ref(t, "hf://alice/agents"), registry.ListOptions{})
	if err != nil {
		t.Fatalf("tags: %v", err)
	}
	got := map[string]bool{}
	for _, tg := range tags.Tags {
		got[tg.Name] = !tg.Foreign
		if tg.Name == "v1" && (tg.Ref != "hf://alice/agents:v1" || tg.Updated.IsZero()) {
			t.Errorf("tag v1 = %+v", tg)
		}
	}
	if !got["v1"] || got["main"] || len(got) != 2 {
		t.Errorf("tags = %+v; want v1 (image) and main (no image)", tags.Tags)
	}

	in, err := reg.Inspect(ctx, ref(t, "hf://alice/agents:v1"))
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if in.ImageID != id || in.Signature.Status != signing.DefaultKey {
		t.Errorf("inspect: id %s (want %s), signature %s", in.ImageID, id, in.Signature.Status)
	}
	for _, deep := range []bool{false, true} {
		vr, err := reg.Verify(ctx, ref(t, "hf://alice/agents:v1"), registry.VerifyOptions{Deep: deep})
		if err != nil || !vr.Complete {
			t.Errorf("verify deep=%v: %v (complete %v)", deep, err, vr != nil && vr.Complete)
		}
	}

	st2, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pr, err := reg.Pull(ctx, ref(t, "hf://alice/agents:v1"), st2, registry.TransferOptions{})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if !pr.Complete || !st2.HasImage(id) {
		t.Errorf("pull: complete=%v, image in store=%v", pr.Complete, st2.HasImage(id))
	}
	if h.Stats().RedirectsToStorage == 0 {
		t.Error("pull never followed a resolve redirect to LFS storage")
	}

	// The repository was created private: invisible without a token.
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
	st, id := smallImage(t, 2)
	rep, err := reg.Push(context.Background(), st, id, ref(t, "hf://alice/layout"), registry.TransferOptions{})
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

func TestCopyFileToHubAndBack(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	dir := t.TempDir()
	fileReg, err := registry.Open("file", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, want := smallImage(t, 11)
	srcRef := ref(t, "file://"+filepath.ToSlash(filepath.Join(dir, "src")))
	if _, err := fileReg.Push(ctx, st, want, srcRef, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, err := registry.Copy(ctx, fileReg, srcRef, reg, ref(t, "hf://alice/refactor-agent:v2"), registry.TransferOptions{}); err != nil {
		t.Fatalf("copy file → hf: %v", err)
	}
	back := ref(t, "file://"+filepath.ToSlash(filepath.Join(dir, "back")))
	if _, err := registry.Copy(ctx, reg, ref(t, "hf://alice/refactor-agent:v2"), fileReg, back, registry.TransferOptions{}); err != nil {
		t.Fatalf("copy hf → file: %v", err)
	}
	for _, r := range []struct {
		reg registry.Registry
		ref registry.Ref
	}{{reg, ref(t, "hf://alice/refactor-agent:v2")}, {fileReg, back}} {
		in, err := r.reg.Inspect(ctx, r.ref)
		if err != nil {
			t.Fatalf("inspect %s: %v", r.ref, err)
		}
		if in.ImageID != want || !in.Signature.OK() {
			t.Errorf("%s: image %s (signature %s), want %s", r.ref, in.ImageID, in.Signature.Status, want)
		}
	}
	vr, err := fileReg.Verify(ctx, back, registry.VerifyOptions{Deep: true})
	if err != nil || !vr.Complete {
		t.Errorf("deep verify of the copy back: %v", err)
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
	if _, err := reg.Push(ctx, st, id, ref(t, "hf://alice/big"), opt); err != nil {
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
	st2, _ := store.Open(t.TempDir())
	if _, err := reg.Pull(ctx, ref(t, "hf://alice/big"), st2, registry.TransferOptions{}); err != nil || !st2.HasImage(id) {
		t.Fatalf("pull of the multipart image: %v", err)
	}
}

// TestErrors: each failure is one line, of the right class, and never
// shows the token.
func TestErrors(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	st, id := smallImage(t, 3)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, ref(t, "hf://alice/private:img"), registry.TransferOptions{}); err != nil {
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
			st2, _ := store.Open(t.TempDir())
			_, err := reg.Pull(context.Background(), ref(t, c.ref), st2, registry.TransferOptions{})
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
		_, err := open(t, h, "").Push(context.Background(), st, id, ref(t, "hf://alice/x"), registry.TransferOptions{})
		if !errors.Is(err, fault.ErrAuth) {
			t.Errorf("push without token: %v", err)
		}
	})
	t.Run("push with a read token", func(t *testing.T) {
		_, err := open(t, h, readToken_).Push(context.Background(), st, id, ref(t, "hf://bob/x"), registry.TransferOptions{})
		if !errors.Is(err, fault.ErrAuth) || strings.Contains(err.Error(), readToken_) {
			t.Errorf("push with a read-only token: %v", err)
		}
	})
	t.Run("push to a tag", func(t *testing.T) {
		reg := open(t, h, aliceToken)
		hb, _ := New(registry.Config{})
		if err := hb.CreateTag(context.Background(), ref(t, "hf://alice/private"), "v1"); err != nil {
			t.Fatal(err)
		}
		_, err := reg.Push(context.Background(), st, id, ref(t, "hf://alice/private:v1"), registry.TransferOptions{})
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

// TestTampered: a changed blob or manifest on the Hub is an integrity
// error, and nothing enters the local store.
func TestTampered(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, id := smallImage(t, 4)
	rep, err := reg.Push(ctx, st, id, ref(t, "hf://alice/t1"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, st, id, ref(t, "hf://alice/t2"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	// t1: a blob replaced by a valid zstd frame of other bytes.
	victim := rep.Blobs[len(rep.Blobs)-1].Digest
	if err := h.WriteFile("datasets", "alice/t1", "main", victim.ShardPath(), blob.CompressBytes([]byte("evil"), 1), true); err != nil {
		t.Fatal(err)
	}
	// t2: the manifest edited after signing.
	raw, err := st.Manifest(id)
	if err != nil {
		t.Fatal(err)
	}
	evil := strings.Replace(string(raw), "pf-cli", "pf-evil", 1)
	if evil == string(raw) {
		t.Fatal("could not tamper with the manifest")
	}
	if err := h.WriteFile("datasets", "alice/t2", "main", "manifest.json", []byte(evil), false); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"hf://alice/t1", "hf://alice/t2"} {
		st2, _ := store.Open(t.TempDir())
		_, err := reg.Pull(ctx, ref(t, r), st2, registry.TransferOptions{})
		if !errors.Is(err, fault.ErrIntegrity) {
			t.Errorf("pull %s: %v, want an integrity error", r, err)
		}
		if imgs, _ := st2.Images(); len(imgs) != 0 {
			t.Errorf("pull %s stored an image despite tampering", r)
		}
	}
}

// TestRevisions: a new revision becomes a branch; PF_HF_TAG tags the push.
func TestRevisions(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, id := smallImage(t, 5)
	t.Setenv("PF_HF_TAG", "release-1")
	if _, err := reg.Push(ctx, st, id, ref(t, "hf://alice/rev:feature"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"hf://alice/rev:feature", "hf://alice/rev:release-1"} {
		in, err := reg.Inspect(ctx, ref(t, r))
		if err != nil || in.ImageID != id {
			t.Errorf("inspect %s: %v", r, err)
		}
	}
	if ok, _ := reg.Exists(ctx, ref(t, "hf://alice/rev")); ok {
		t.Error("push to a new branch also changed main")
	}
}

// TestTokenFile: without HF_TOKEN the token file under HF_HOME is used.
func TestTokenFile(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	st, id := smallImage(t, 6)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, ref(t, "hf://alice/tf"), registry.TransferOptions{}); err != nil {
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
	if ok, err := reg.Exists(context.Background(), ref(t, "hf://alice/tf")); err != nil || !ok {
		t.Errorf("with the token file: exists=%v err=%v", ok, err)
	}
}

// TestSourcePinsCommit: once the manifest is read, blobs come from the same
// commit even if the branch moves (a concurrent push cannot mix images).
func TestSourcePinsCommit(t *testing.T) {
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	stA, idA := smallImage(t, 9)
	stB, idB := smallImage(t, 10)
	if _, err := reg.Push(ctx, stA, idA, ref(t, "hf://alice/pin"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := reg.Source(ctx, ref(t, "hf://alice/pin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.FetchManifest(ctx); err != nil {
		t.Fatal(err)
	}
	repB, err := reg.Push(ctx, stB, idB, ref(t, "hf://alice/pin"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	onlyB := repB.Blobs[len(repB.Blobs)-1].Digest // a KV page of B, not in A
	if _, err := src.(registry.BlobStater).StatBlob(ctx, onlyB); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("pinned source sees a blob of the later push: %v", err)
	}
	fresh, _ := reg.Source(ctx, ref(t, "hf://alice/pin"))
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
	st, id := smallImage(t, 13)
	if _, err := open(t, h, aliceToken).Push(context.Background(), st, id, ref(t, "hf://alice/open"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	st2, _ := store.Open(t.TempDir())
	if _, err := open(t, h, "").Pull(context.Background(), ref(t, "hf://alice/open"), st2, registry.TransferOptions{}); err != nil || !st2.HasImage(id) {
		t.Errorf("anonymous pull of a public push: %v", err)
	}
}
