package ipfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/internal/testenv"
	"pf-registry/internal/vectors"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// fixtureID is the image ID of testdata/file-registry-example.
const fixtureID = "sha256:a4c1232b1e3cb3701d3e4a98ddebc638c3bb8c443585547a9d46fd23f18b723f"

func openIPFS(t testing.TB, cfg registry.Config) registry.Registry {
	t.Helper()
	reg, err := registry.Open(Scheme, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// entryNames lists a directory with the ipfs CLI (a peer client).
func entryNames(t testing.TB, k *kubo, cid string) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(k.ipfs(t, "ls", "--resolve-type=false", "--size=false", cid), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[len(f)-1])
		}
	}
	sort.Strings(names)
	return names
}

// wantEntries is the Rust layout of an image: its blobs plus manifest and
// signature.
func wantEntries(t testing.TB, rep *registry.Report) []string {
	t.Helper()
	names := []string{ManifestEntry, SignatureEntry}
	for _, b := range rep.Blobs {
		names = append(names, "blob_"+b.Digest.Hex()+".zst")
	}
	sort.Strings(names)
	return names
}

func cidOf(t testing.TB, ref string) string {
	t.Helper()
	cid, ok := strings.CutPrefix(ref, "ipfs://")
	if !ok || len(cid) < 46 {
		t.Fatalf("push reported %q, want ipfs://<CID>", ref)
	}
	return cid
}

// runSeq makes names unique across repeated runs (-count) in one daemon.
var runSeq atomic.Int64

// harness: images named in the shared daemon's MFS index, read and
// changed in place there (their directory, and so their CID, changes;
// the name follows).
type harness struct {
	registrytest.SameRef
	k *kubo
}

func (h *harness) Open(t testing.TB, cfg registry.Config) registry.Registry {
	needDaemon(t)
	return openIPFS(t, cfg)
}

func (h *harness) NewRef(t testing.TB) registry.Ref {
	return registrytest.MustRef(t, fmt.Sprintf("ipfs://conformance-%d:v1", runSeq.Add(1)))
}

func (h *harness) Namespace(t testing.TB) registrytest.Namespace {
	ns := fmt.Sprintf("ns%d", runSeq.Add(1))
	return registrytest.Namespace{
		Root:   registrytest.MustRoot(t, "ipfs://"),
		Repo:   func(repo string) registry.Ref { return registrytest.MustRoot(t, "ipfs://"+ns+"-"+repo) },
		Image:  func(repo, tag string) registry.Ref { return registrytest.MustRef(t, "ipfs://"+ns+"-"+repo+":"+tag) },
		Shared: true, // one index per daemon
	}
}

// entryPath is the MFS path of an object of a named image.
func entryPath(t testing.TB, ref registry.Ref, o registrytest.Object) string {
	t.Helper()
	tg, err := parseTarget(ref)
	if err != nil || !tg.named() {
		t.Fatalf("%s: not a name (%v)", ref.Raw, err)
	}
	name := map[registrytest.ObjectKind]string{registrytest.Manifest: ManifestEntry, registrytest.Signature: SignatureEntry}[o.Kind]
	switch o.Kind {
	case registrytest.Blob:
		name = blobEntry(o.Digest)
	case registrytest.Bundle:
		name = o.Name
	}
	return tg.indexPath() + "/" + name
}

func (h *harness) backend(t testing.TB) *Backend {
	t.Helper()
	needDaemon(t)
	b, err := New(registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h *harness) Read(t testing.TB, ref registry.Ref, o registrytest.Object) ([]byte, bool) {
	rc, err := h.backend(t).c.call(withTimeout(t, time.Minute), "files/read", args("arg", entryPath(t, ref, o)), nil)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, false
	}
	return registrytest.ReadAll(t, rc, err), true
}

func (h *harness) Write(t testing.TB, ref registry.Ref, o registrytest.Object, data []byte) {
	ctx, b, p := withTimeout(t, time.Minute), h.backend(t), entryPath(t, ref, o)
	cid, err := b.add(ctx, path.Base(p), bytes.NewReader(data))
	if err == nil {
		err = b.c.callJSON(ctx, "files/cp", args("arg", "/ipfs/"+cid, "arg", p, "force", "true"), nil, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) Remove(t testing.TB, ref registry.Ref, o registrytest.Object) {
	if err := h.backend(t).c.callJSON(withTimeout(t, time.Minute), "files/rm", args("arg", entryPath(t, ref, o)), nil, nil); err != nil {
		t.Fatal(err)
	}
}

// Leftovers are staging directories in MFS: none once a push has ended
// (the tests push one at a time). An interrupted push's directory goes
// when its context ends, concurrently with the engine's return: wait for
// that a while.
func (h *harness) Leftovers(t testing.TB, _ registry.Ref) []string {
	var out []string
	for wait := 10 * time.Millisecond; wait < 10*time.Second; wait *= 2 {
		entries, err := h.backend(t).filesLs(withTimeout(t, time.Minute), stagingRoot)
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			t.Fatal(err)
		}
		if out = nil; len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			out = append(out, e.Name)
		}
		time.Sleep(wait)
	}
	return out
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, &harness{k: needDaemon(t)})
}

// TestPushWritesTheRustLayout pushes the fixture by name: the directory
// holds exactly the entries of the spec's vector ipfs_link_names_in_order,
// the blobs in its order, and is the directory the ipfs CLI makes of the
// Rust layout (same CID); it is pinned once, recursively, named in the MFS
// index, and readable by CID, name and /ipfs/ path. A copy to ipfs://new
// makes the same directory without a name.
func TestPushWritesTheRustLayout(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := registrytest.FixtureStore(t)
	repo := fmt.Sprintf("agent-%d", runSeq.Add(1))
	named := "ipfs://" + repo + ":v1"
	rep := registrytest.Push(t, reg, st, id, named)
	cid := cidOf(t, rep.Destination)
	want := vectors.LoadFixture(t).IPFSLinkNames
	for i, b := range rep.Blobs {
		if want[i+2] != blobEntry(b.Digest) {
			t.Errorf("blob %d (%s) is %s, the vector says %s", i, b.Role, blobEntry(b.Digest), want[i+2])
		}
	}
	if got := entryNames(t, k, cid); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("pushed directory holds\n%v\nwant exactly\n%v", got, want)
	}
	if rust := handBuilt(t, k, nil); rust != cid {
		t.Errorf("pushed directory %s, the ipfs CLI makes %s of the Rust layout", cid, rust)
	}
	// One recursive pin for the directory, no per-file pins.
	if pins := k.ipfs(t, "pin", "ls", "--type=recursive", "-q"); !strings.Contains(pins, cid) {
		t.Fatalf("directory %s not pinned recursively: %s", cid, pins)
	}
	if out := k.ipfs(t, "files", "stat", "--hash", IndexRoot+"/"+repo+"/v1"); out != cid {
		t.Fatalf("MFS index %s/%s/v1 is %s, want %s", IndexRoot, repo, out, cid)
	}
	if out := k.ipfs(t, "files", "ls", IndexRoot+"/.staging"); out != "" {
		t.Fatalf("staging area not cleaned: %q", out)
	}
	for _, ref := range []string{"ipfs://" + cid, named, "ipfs:///ipfs/" + cid} {
		in, err := reg.Inspect(ctx, registrytest.MustRef(t, ref))
		if err != nil || in.ImageID != id || !in.Signature.OK() {
			t.Fatalf("inspect %s: %v", ref, err)
		}
	}
	fileReg, fileRef := registrytest.Open(t, registrytest.FileRef(t), registry.Config{})
	if _, err := registry.Copy(ctx, reg, registrytest.MustRef(t, named), fileReg, fileRef, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	crep, err := registry.Copy(ctx, fileReg, fileRef, reg, registrytest.MustRef(t, "ipfs://new"), registry.TransferOptions{})
	if err != nil || crep.Destination != "ipfs://"+cid {
		t.Fatalf("copy from file:// gave %s (%v), want ipfs://%s", crep.Destination, err, cid)
	}
	if out, _ := k.run("files", "stat", IndexRoot+"/new"); !strings.Contains(out, "does not exist") {
		t.Fatalf("ipfs://new created an index entry: %s", out)
	}
}

func TestRePushSameRepoCopiesBlobs(t *testing.T) {
	needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := registrytest.SmallImage(t, 202)
	first := registrytest.Push(t, reg, st, id, "ipfs://repush")
	second := registrytest.Push(t, reg, st, id, "ipfs://repush:again")
	if second.Skipped != len(second.Blobs) || second.Transferred != 0 {
		t.Fatalf("re-push under the same repo moved %d blobs, skipped %d of %d", second.Transferred, second.Skipped, len(second.Blobs))
	}
	if first.Destination != second.Destination {
		t.Fatalf("re-push changed the directory: %s vs %s", first.Destination, second.Destination)
	}
	tags, err := reg.Tags(ctx, registrytest.MustRef(t, "ipfs://repush"), registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range tags.Tags {
		names = append(names, tg.Name)
		if tg.Ref != first.Destination {
			t.Fatalf("tag %s refers to %s, want %s", tg.Name, tg.Ref, first.Destination)
		}
	}
	if strings.Join(names, ",") != "again,latest" {
		t.Fatalf("tags %v, want [again latest]", names)
	}
	// The repository as a listing root: an image (its latest tag) ...
	if ls, err := reg.List(ctx, registrytest.MustRef(t, "ipfs://repush"), registry.ListOptions{}); err != nil || !ls.Image {
		t.Fatalf("list ipfs://repush: %+v %v", ls, err)
	}
	// ... and without a latest tag, the repository with its tags.
	registrytest.Push(t, reg, st, id, "ipfs://nolatest:one")
	ls, err := reg.List(ctx, registrytest.MustRef(t, "ipfs://nolatest"), registry.ListOptions{})
	if err != nil || ls.Image || len(ls.Repos) != 1 || strings.Join(ls.Repos[0].Tags, ",") != "one" {
		t.Fatalf("list ipfs://nolatest: %+v %v", ls, err)
	}
}

// handBuilt lays out the fixture image as the Rust tool's IPFS directory
// and adds it with the ipfs CLI; edit may change the files first.
func handBuilt(t testing.TB, k *kubo, edit func(dir string)) string {
	t.Helper()
	src := vectors.FixtureDir()
	dir := filepath.Join(t.TempDir(), "image")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{ManifestEntry, SignatureEntry} {
		copyFile(t, filepath.Join(src, n), filepath.Join(dir, n))
	}
	blobs, err := filepath.Glob(filepath.Join(src, "blobs", "sha256", "*", "*.zst"))
	if err != nil || len(blobs) == 0 {
		t.Fatalf("fixture blobs: %v %v", blobs, err)
	}
	for _, b := range blobs {
		copyFile(t, b, filepath.Join(dir, "blob_"+filepath.Base(b)))
	}
	if edit != nil {
		edit(dir)
	}
	return k.ipfs(t, "add", "-r", "-Q", dir)
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPullHandBuiltRustLayout(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, time.Minute)
	reg := openIPFS(t, registry.Config{})
	cid := handBuilt(t, k, nil)
	st := registrytest.NewStore(t)
	rep, err := reg.Pull(ctx, registrytest.MustRef(t, "ipfs://"+cid), st, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasImage(fixtureID) || !rep.Complete || len(rep.Blobs) != 13 {
		t.Fatalf("pulled fixture: has %v complete %v blobs %d", st.HasImage(fixtureID), rep.Complete, len(rep.Blobs))
	}
	vrep, err := reg.Verify(ctx, registrytest.MustRef(t, "ipfs://"+cid), registry.VerifyOptions{Deep: true})
	if err != nil || !vrep.Complete {
		t.Fatalf("deep verify of hand-built directory: %v", err)
	}
	if ok, err := reg.Exists(ctx, registrytest.MustRef(t, "ipfs://"+cid)); !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
}

// checkOneLine asserts a clear single-line error of a class, in bounded time.
func checkOneLine(t *testing.T, err error, start time.Time, class error, wantText string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("error after %s, want a bounded answer: %v", el, err)
	}
	msg := err.Error()
	t.Logf("error: %s (hint: %s)", msg, fault.Hint(err))
	if strings.Contains(msg, "\n") || !strings.Contains(msg, wantText) {
		t.Fatalf("error %q: want one line containing %q", msg, wantText)
	}
	if class != nil && !errors.Is(err, class) {
		t.Fatalf("error %q is not %v", msg, class)
	}
	if class != fault.ErrIntegrity && errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("error %q is classed as integrity (exit 4), want exit 1", msg)
	}
	if fault.Hint(err) == "" && class != fault.ErrIntegrity {
		t.Fatalf("error %q carries no hint", msg)
	}
}

func TestErrors(t *testing.T) {
	k := needDaemon(t)
	reg := openIPFS(t, registry.Config{})

	t.Run("unknown CID", func(t *testing.T) {
		// A valid CID of content this daemon never saw (offline: answered at once).
		ref := registrytest.MustRef(t, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
		start := time.Now()
		_, err := reg.Pull(withTimeout(t, time.Minute), ref, registrytest.NewStore(t), registry.TransferOptions{})
		checkOneLine(t, err, start, fault.ErrNotFound, "not found")
		if ok, err := reg.Exists(withTimeout(t, time.Minute), ref); ok || err != nil {
			t.Fatalf("exists of unknown CID: %v %v", ok, err)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		start := time.Now()
		_, err := reg.Inspect(withTimeout(t, time.Minute), registrytest.MustRef(t, "ipfs://nobody:v9"))
		checkOneLine(t, err, start, fault.ErrNotFound, "no image named ipfs://nobody:v9")
	})
	t.Run("not a CID", func(t *testing.T) {
		start := time.Now()
		_, err := reg.Inspect(withTimeout(t, time.Minute), registrytest.MustRef(t, "ipfs://this-is-not-a-cid-and-longer-than-forty-chars"))
		checkOneLine(t, err, start, fault.ErrBadRef, "invalid path")
	})
	t.Run("stopped daemon", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there any more
		t.Setenv("IPFS_API", "http://"+addr)
		dead := openIPFS(t, registry.Config{})
		start := time.Now()
		_, err = dead.Inspect(withTimeout(t, time.Minute), registrytest.MustRef(t, "ipfs://agent"))
		checkOneLine(t, err, start, nil, "cannot reach the IPFS daemon at http://"+addr)
		if !strings.Contains(fault.Hint(err), "ipfs daemon") {
			t.Fatalf("hint %q does not say how to start the daemon", fault.Hint(err))
		}
	})
	t.Run("bad blob entry name", func(t *testing.T) {
		cid := handBuilt(t, k, func(dir string) {
			os.WriteFile(filepath.Join(dir, "blob_xyz.zst"), []byte("x"), 0o644)
		})
		start := time.Now()
		_, err := reg.Inspect(withTimeout(t, time.Minute), registrytest.MustRef(t, "ipfs://"+cid))
		checkOneLine(t, err, start, fault.ErrIntegrity, `"blob_xyz.zst"`)
	})
}

// TestUnresponsiveDaemon checks the per-call timeout against an endpoint
// that accepts connections and never answers (what an online daemon does
// while it searches the network for an unknown CID).
func TestUnresponsiveDaemon(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	t.Setenv("IPFS_API", "http://"+l.Addr().String())
	// Short pauses between tries: the timeout is what is checked.
	reg := openIPFS(t, registry.Config{Timeout: 300 * time.Millisecond, Retry: registry.RetryPolicy{Wait: time.Millisecond}})
	start := time.Now()
	_, err = reg.Inspect(context.Background(), registrytest.MustRef(t, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"))
	if err == nil || !strings.Contains(err.Error(), "no answer from the daemon") {
		t.Fatalf("want a timeout error, got %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("timeout took %s", el)
	}
	// Cancellation is honoured as well, without waiting for the timeout.
	reg = openIPFS(t, registry.Config{Timeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = reg.Inspect(ctx, registrytest.MustRef(t, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled inspect: %v after %s", err, time.Since(start))
	}
}

func TestListing(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := registrytest.SmallImage(t, 303)
	named := registrytest.Push(t, reg, st, id, "ipfs://listed:v1")
	st2, id2 := registrytest.SmallImage(t, 304)
	unnamed := registrytest.Push(t, reg, st2, id2, "ipfs://new")
	// A pinned directory that is not an image must not be listed.
	junk := filepath.Join(t.TempDir(), "junk")
	os.MkdirAll(junk, 0o755)
	os.WriteFile(filepath.Join(junk, "a.txt"), []byte("not an image"), 0o644)
	junkCID := k.ipfs(t, "add", "-r", "-Q", junk)

	root, err := registry.ParseRoot("ipfs://")
	if err != nil {
		t.Fatal(err)
	}
	ls, err := reg.List(ctx, root, registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]registry.RepoEntry{}
	for _, r := range ls.Repos {
		byName[r.Name] = r
	}
	if r, ok := byName["listed"]; !ok || r.Ref != "ipfs://listed" || strings.Join(r.Tags, ",") != "v1" {
		t.Fatalf("index repo missing or wrong: %+v in %+v", r, ls.Repos)
	}
	unnamedCID := cidOf(t, unnamed.Destination)
	if r, ok := byName[unnamedCID]; !ok || r.Ref != unnamed.Destination {
		t.Fatalf("pinned unnamed image %s not listed: %+v", unnamedCID, ls.Repos)
	}
	if _, ok := byName[cidOf(t, named.Destination)]; ok {
		t.Fatal("named image listed twice (by name and by pin)")
	}
	if _, ok := byName[junkCID]; ok {
		t.Fatal("a pinned non-image directory was listed")
	}
	if _, ok := byName[".staging"]; ok {
		t.Fatal("staging area listed")
	}
	// An image root lists as an image; tags of a CID repo are the image.
	img, err := reg.List(ctx, registrytest.MustRef(t, unnamed.Destination), registry.ListOptions{})
	if err != nil || !img.Image {
		t.Fatalf("image root: %+v %v", img, err)
	}
	tags, err := reg.Tags(ctx, registrytest.MustRef(t, unnamed.Destination), registry.ListOptions{})
	if err != nil || len(tags.Tags) != 1 || tags.Tags[0].Ref != unnamed.Destination {
		t.Fatalf("tags of a CID: %+v %v", tags, err)
	}
}

func TestEndpointDiscovery(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, time.Minute)
	cid := handBuilt(t, k, nil)
	apiFile, err := os.ReadFile(filepath.Join(k.repo, "api"))
	if err != nil {
		t.Fatal(err)
	}
	gateway, err := os.ReadFile(filepath.Join(k.repo, "gateway"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, api, wantErr string
	}{
		{"api file of IPFS_PATH", "", ""},
		{"IPFS_API as URL", k.api + "/", ""},
		{"IPFS_API as multiaddr", strings.TrimSpace(string(apiFile)), ""},
		{"IPFS_API at the gateway", strings.TrimSpace(string(gateway)), "does not serve the Kubo RPC API"},
		{"IPFS_API malformed", "localhost:5001", `IPFS_API="localhost:5001"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.api != "" {
				t.Setenv("IPFS_API", c.api)
			}
			reg, err := registry.Open(Scheme, registry.Config{})
			if err == nil {
				_, err = reg.Inspect(ctx, registrytest.MustRef(t, "ipfs://"+cid))
			}
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || fault.Hint(err) == "" {
				t.Fatalf("got %v (hint %q), want an error containing %q with a hint", err, fault.Hint(err), c.wantErr)
			}
		})
	}
}

// TestShardedAndNestedDirectories reads an image whose directory Kubo
// stores HAMT-sharded (thousands of entries), addressed by a sub-path of
// an enclosing directory.
func TestShardedAndNestedDirectories(t *testing.T) {
	k := needDaemon(t)
	reg := openIPFS(t, registry.Config{})
	var imageDir string
	handBuilt(t, k, func(dir string) {
		// Unreferenced but well-named entries: ignored by pull, they only
		// make the directory large enough to be sharded.
		for i := 0; i < 3000; i++ {
			name := fmt.Sprintf("blob_%064x.zst", i+1)
			if err := os.WriteFile(filepath.Join(dir, name), []byte{byte(i)}, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		imageDir = dir
	})
	// Add the parent so the image is a sub-path of the added root.
	root := k.ipfs(t, "add", "-r", "-Q", filepath.Dir(imageDir))
	sub := root + "/" + filepath.Base(imageDir)
	var node struct{ Links []json.RawMessage }
	if err := json.Unmarshal([]byte(k.ipfs(t, "dag", "get", sub)), &node); err != nil {
		t.Fatal(err)
	}
	if len(node.Links) > 1024 {
		t.Fatalf("directory of 3013 entries has %d links in its root block: not sharded, the test proves nothing", len(node.Links))
	}
	ctx := withTimeout(t, time.Minute)
	st := registrytest.NewStore(t)
	rep, err := reg.Pull(ctx, registrytest.MustRef(t, "ipfs://"+sub), st, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasImage(fixtureID) || rep.Transferred != 13 {
		t.Fatalf("pulled %d blobs, image present %v", rep.Transferred, st.HasImage(fixtureID))
	}
}

// TestPushShardedDirectory pushes an image whose directory Kubo shards
// (HAMT) while it is staged in MFS, and reads it back. A second daemon with
// a low sharding threshold keeps the image small; its 300+ entries also
// exceed Kubo's limit of 256 unflushed MFS operations.
func TestPushShardedDirectory(t *testing.T) {
	needDaemon(t)
	bin := testenv.MustTool(t, "ipfs")
	repo := t.TempDir()
	k, err := startKubo(bin, repo, []string{"config", "Import.UnixFSHAMTDirectorySizeThreshold", "1KiB"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.stop()
	t.Setenv("IPFS_API", k.api)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st := registrytest.NewStore(t)
	id, err := demo.Build(st, demo.ImageSpec{Seed: 404, Files: 300, Pages: 1, Messages: 3})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "ipfs://sharded"), registry.TransferOptions{Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	cid := cidOf(t, rep.Destination)
	var node struct {
		Data  map[string]map[string]string
		Links []json.RawMessage
	}
	if err := json.Unmarshal([]byte(k.ipfs(t, "dag", "get", cid)), &node); err != nil {
		t.Fatal(err)
	}
	// UnixFS Data starts with field 1 (Type); HAMTShard is 5: bytes 08 05.
	if data := node.Data["/"]["bytes"]; !strings.HasPrefix(data, "CAU") {
		t.Fatalf("pushed directory is not HAMT-sharded (unixfs data %q); the test proves nothing", data)
	}
	if got, want := entryNames(t, k, cid), wantEntries(t, rep); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("sharded directory lists\n%v\nwant\n%v", got, want)
	}
	pulled := registrytest.NewStore(t)
	if _, err := reg.Pull(ctx, registrytest.MustRef(t, "ipfs://sharded"), pulled, registry.TransferOptions{}); err != nil || !pulled.HasImage(id) {
		t.Fatalf("pull of the sharded image: %v", err)
	}
}

func TestStaleStagingRemoved(t *testing.T) {
	k := needDaemon(t)
	old := fmt.Sprintf("%s/%d-deadbeef", stagingRoot, time.Now().Add(-48*time.Hour).Unix())
	fresh := fmt.Sprintf("%s/%d-cafef00d", stagingRoot, time.Now().Add(-time.Minute).Unix())
	for _, d := range []string{old, fresh} {
		k.ipfs(t, "files", "mkdir", "-p", d)
	}
	reg := openIPFS(t, registry.Config{})
	st, id := registrytest.SmallImage(t, 505)
	registrytest.Push(t, reg, st, id, "ipfs://new")
	left := k.ipfs(t, "files", "ls", stagingRoot)
	if strings.Contains(left, "deadbeef") || !strings.Contains(left, "cafef00d") {
		t.Fatalf("staging area after push: %q; want the day-old directory gone, the fresh one (a concurrent push) kept", left)
	}
	k.ipfs(t, "files", "rm", "-r", fresh)
}

// TestPushBatchesSmallBlobs: small blobs reach the daemon in multi-file
// adds that link them into the staging directory. An image of 1,200 small
// files takes a handful of add requests and no files/cp per blob, and the
// directory holds every entry and pulls back whole. Behind a proxy that
// cuts an upload once the daemon starts answering (Go's server without
// full duplex), the push still completes: the cut batch and the blobs
// after it go one by one.
func TestPushBatchesSmallBlobs(t *testing.T) {
	k := needDaemon(t)
	st := registrytest.NewStore(t)
	id, err := demo.Build(st, demo.ImageSpec{Seed: 505, Files: 1200, Pages: 1, Messages: 3})
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(mustURL(t, k.api))
	rp.ErrorLog = log.New(io.Discard, "", 0) // it reports the uploads it cuts
	halfDuplex := httptest.NewServer(rp)
	defer halfDuplex.Close()
	for _, tc := range []struct {
		name     string
		upstream string
		batched  bool
	}{
		{"direct", k.api, true},
		{"half-duplex-proxy", halfDuplex.URL, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := withTimeout(t, 2*time.Minute)
			be := newAt(registry.Config{}, tc.upstream, "the test's daemon")
			calls := &countingTransport{next: be.c.http.Transport, n: map[string]int{}}
			be.c.http.Transport = calls
			reg := registry.New(be, registry.Config{})
			ref := registrytest.MustRef(t, fmt.Sprintf("ipfs://batched-%d:v1", runSeq.Add(1)))
			rep, err := reg.Push(ctx, st, id, ref, registry.TransferOptions{Concurrency: 8})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Blobs) < 1200 {
				t.Fatalf("the image has %d blobs; the test needs over 1,200", len(rep.Blobs))
			}
			alone := 0
			for _, b := range rep.Blobs {
				if b.StoredSize > batchBlobMax {
					alone++
				}
			}
			adds, copies := calls.count("/api/v0/add"), calls.count("/api/v0/files/cp")
			// Batches of at most batchFiles; the large blobs, the
			// signature and the manifest are each added and copied in alone.
			mostAdds, mostCopies := (len(rep.Blobs)+batchFiles-1)/batchFiles+alone+2, alone+2
			switch {
			case tc.batched && (adds > mostAdds || copies > mostCopies):
				t.Fatalf("push of %d blobs sent %d adds and %d files/cp; want at most %d adds and %d copies", len(rep.Blobs), adds, copies, mostAdds, mostCopies)
			case !tc.batched && copies <= mostCopies:
				t.Fatalf("%d adds and %d files/cp through the half-duplex proxy: no blob went alone, the test proves nothing", adds, copies)
			}
			if got, want := entryNames(t, k, cidOf(t, rep.Destination)), wantEntries(t, rep); !slices.Equal(got, want) {
				t.Fatalf("pushed directory holds %d entries, want %d", len(got), len(want))
			}
			pulled := registrytest.NewStore(t)
			if _, err := openIPFS(t, registry.Config{}).Pull(ctx, ref, pulled, registry.TransferOptions{}); err != nil || !pulled.HasImage(id) {
				t.Fatalf("pull of the pushed image: %v", err)
			}
		})
	}
}

// countingTransport counts the RPC requests a client sends, by path.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *countingTransport) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
