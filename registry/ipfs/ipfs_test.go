package ipfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/store"
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

func mustRef(t testing.TB, s string) registry.Ref {
	t.Helper()
	r, err := registry.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// smallImage builds a demo image with files and KV pages in a new store.
func smallImage(t testing.TB, seed uint64) (*store.Store, model.Digest) {
	t.Helper()
	st := newStore(t)
	id, err := demo.Build(st, demo.ImageSpec{Seed: seed, Files: 6, Pages: 2, Messages: 5})
	if err != nil {
		t.Fatal(err)
	}
	return st, id
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

func TestRoundTrip(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := smallImage(t, 101)

	// A name of its own per run: the daemon outlives one run under -count.
	repo := fmt.Sprintf("agent-%d", runSeq.Add(1))
	named := "ipfs://" + repo + ":v1"
	var blobEvents int
	rep, err := reg.Push(ctx, st, id, mustRef(t, named), registry.TransferOptions{Progress: func(e registry.Event) {
		if e.Kind == registry.KindBlob && e.Phase == registry.PhaseDone {
			blobEvents++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	cid := cidOf(t, rep.Destination)
	if blobEvents != len(rep.Blobs) || rep.Transferred != len(rep.Blobs) || len(rep.Blobs) < 10 {
		t.Fatalf("push moved %d blobs with %d done events, walk has %d", rep.Transferred, blobEvents, len(rep.Blobs))
	}
	if got, want := entryNames(t, k, cid), wantEntries(t, rep); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pushed directory holds\n%v\nwant exactly\n%v", got, want)
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
		in, err := reg.Inspect(ctx, mustRef(t, ref))
		if err != nil {
			t.Fatalf("inspect %s: %v", ref, err)
		}
		if in.ImageID != id || !in.Signature.OK() {
			t.Fatalf("inspect %s: id %s signature %s, want %s valid", ref, in.ImageID, in.Signature.Status, id)
		}
	}
	vrep, err := reg.Verify(ctx, mustRef(t, "ipfs://"+cid), registry.VerifyOptions{Deep: true})
	if err != nil || !vrep.Complete {
		t.Fatalf("deep verify: complete=%v err=%v", vrep != nil && vrep.Complete, err)
	}

	pulled := newStore(t)
	prep, err := reg.Pull(ctx, mustRef(t, "ipfs://"+cid), pulled, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !pulled.HasImage(id) || !prep.Complete || prep.Transferred != len(rep.Blobs) {
		t.Fatalf("pull: has image %v, complete %v, %d blobs", pulled.HasImage(id), prep.Complete, prep.Transferred)
	}

	// Copy ipfs → file → ipfs keeps the image ID.
	fileReg, err := registry.Open("file", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.ToSlash(filepath.Join(t.TempDir(), "img"))
	if _, err := registry.Copy(ctx, reg, mustRef(t, "ipfs://"+cid), fileReg, mustRef(t, "file://"+dir), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	in, err := fileReg.Inspect(ctx, mustRef(t, "file://"+dir))
	if err != nil || in.ImageID != id {
		t.Fatalf("copy to file://: id %v err %v, want %s", in, err, id)
	}
	crep, err := registry.Copy(ctx, fileReg, mustRef(t, "file://"+dir), reg, mustRef(t, "ipfs://new"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Same stored bytes, same Kubo defaults: the same directory CID.
	if crep.Destination != "ipfs://"+cid {
		t.Fatalf("copy from file:// gave %s, want ipfs://%s", crep.Destination, cid)
	}
	if out, _ := k.run("files", "stat", IndexRoot+"/new"); !strings.Contains(out, "does not exist") {
		t.Fatalf("ipfs://new created an index entry: %s", out)
	}
}

func TestRePushSameRepoCopiesBlobs(t *testing.T) {
	needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := smallImage(t, 202)
	first, err := reg.Push(ctx, st, id, mustRef(t, "ipfs://repush"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := reg.Push(ctx, st, id, mustRef(t, "ipfs://repush:again"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Skipped != len(second.Blobs) || second.Transferred != 0 {
		t.Fatalf("re-push under the same repo moved %d blobs, skipped %d of %d", second.Transferred, second.Skipped, len(second.Blobs))
	}
	if first.Destination != second.Destination {
		t.Fatalf("re-push changed the directory: %s vs %s", first.Destination, second.Destination)
	}
	tags, err := reg.Tags(ctx, mustRef(t, "ipfs://repush"), registry.ListOptions{})
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
	if ls, err := reg.List(ctx, mustRef(t, "ipfs://repush"), registry.ListOptions{}); err != nil || !ls.Image {
		t.Fatalf("list ipfs://repush: %+v %v", ls, err)
	}
	// ... and without a latest tag, the repository with its tags.
	if _, err := reg.Push(ctx, st, id, mustRef(t, "ipfs://nolatest:one"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	ls, err := reg.List(ctx, mustRef(t, "ipfs://nolatest"), registry.ListOptions{})
	if err != nil || ls.Image || len(ls.Repos) != 1 || strings.Join(ls.Repos[0].Tags, ",") != "one" {
		t.Fatalf("list ipfs://nolatest: %+v %v", ls, err)
	}
}

// handBuilt lays out the fixture image as the Rust tool's IPFS directory
// and adds it with the ipfs CLI; edit may change the files first.
func handBuilt(t testing.TB, k *kubo, edit func(dir string)) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "file-registry-example")
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
	st := newStore(t)
	rep, err := reg.Pull(ctx, mustRef(t, "ipfs://"+cid), st, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasImage(fixtureID) || !rep.Complete || len(rep.Blobs) != 13 {
		t.Fatalf("pulled fixture: has %v complete %v blobs %d", st.HasImage(fixtureID), rep.Complete, len(rep.Blobs))
	}
	vrep, err := reg.Verify(ctx, mustRef(t, "ipfs://"+cid), registry.VerifyOptions{Deep: true})
	if err != nil || !vrep.Complete {
		t.Fatalf("deep verify of hand-built directory: %v", err)
	}
	if ok, err := reg.Exists(ctx, mustRef(t, "ipfs://"+cid)); !ok || err != nil {
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
		ref := mustRef(t, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
		start := time.Now()
		_, err := reg.Pull(withTimeout(t, time.Minute), ref, newStore(t), registry.TransferOptions{})
		checkOneLine(t, err, start, fault.ErrNotFound, "not found")
		if ok, err := reg.Exists(withTimeout(t, time.Minute), ref); ok || err != nil {
			t.Fatalf("exists of unknown CID: %v %v", ok, err)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		start := time.Now()
		_, err := reg.Inspect(withTimeout(t, time.Minute), mustRef(t, "ipfs://nobody:v9"))
		checkOneLine(t, err, start, fault.ErrNotFound, "no image named ipfs://nobody:v9")
	})
	t.Run("not a CID", func(t *testing.T) {
		start := time.Now()
		_, err := reg.Inspect(withTimeout(t, time.Minute), mustRef(t, "ipfs://this-is-not-a-cid-and-longer-than-forty-chars"))
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
		_, err = dead.Inspect(withTimeout(t, time.Minute), mustRef(t, "ipfs://agent"))
		checkOneLine(t, err, start, nil, "cannot reach the IPFS daemon at http://"+addr)
		if !strings.Contains(fault.Hint(err), "ipfs daemon") {
			t.Fatalf("hint %q does not say how to start the daemon", fault.Hint(err))
		}
	})
	t.Run("tampered blob", func(t *testing.T) {
		cid := handBuilt(t, k, func(dir string) {
			matches, _ := filepath.Glob(filepath.Join(dir, "blob_*.zst"))
			sort.Slice(matches, func(i, j int) bool { return size(matches[i]) > size(matches[j]) })
			p := matches[0]
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 0x20 // raw-block frame: still decodes, to other bytes
			os.WriteFile(p, b, 0o644)
		})
		st := newStore(t)
		start := time.Now()
		_, err := reg.Pull(withTimeout(t, time.Minute), mustRef(t, "ipfs://"+cid), st, registry.TransferOptions{})
		checkOneLine(t, err, start, fault.ErrIntegrity, "")
		if st.HasImage(fixtureID) {
			t.Fatal("tampered image entered the store")
		}
	})
	t.Run("bad blob entry name", func(t *testing.T) {
		cid := handBuilt(t, k, func(dir string) {
			os.WriteFile(filepath.Join(dir, "blob_xyz.zst"), []byte("x"), 0o644)
		})
		start := time.Now()
		_, err := reg.Inspect(withTimeout(t, time.Minute), mustRef(t, "ipfs://"+cid))
		checkOneLine(t, err, start, fault.ErrIntegrity, `"blob_xyz.zst"`)
	})
	t.Run("read-only push", func(t *testing.T) {
		ro := openIPFS(t, registry.Config{ReadOnly: true})
		st, id := smallImage(t, 5)
		_, err := ro.Push(withTimeout(t, time.Minute), st, id, mustRef(t, "ipfs://ro"), registry.TransferOptions{})
		if !errors.Is(err, fault.ErrReadOnly) {
			t.Fatalf("read-only push: %v", err)
		}
	})
}

func size(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
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
	reg := openIPFS(t, registry.Config{Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err = reg.Inspect(context.Background(), mustRef(t, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"))
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
	_, err = reg.Inspect(ctx, mustRef(t, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled inspect: %v after %s", err, time.Since(start))
	}
}

func TestListing(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st, id := smallImage(t, 303)
	named, err := reg.Push(ctx, st, id, mustRef(t, "ipfs://listed:v1"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st2, id2 := smallImage(t, 304)
	unnamed, err := reg.Push(ctx, st2, id2, mustRef(t, "ipfs://new"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
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
	// Paging: one at a time walks the same names in order.
	var paged []string
	opt := registry.ListOptions{Limit: 1}
	for i := 0; i < 100; i++ {
		p, err := reg.List(ctx, root, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Repos {
			paged = append(paged, r.Name)
		}
		if p.Next == "" {
			break
		}
		opt.After = p.Next
	}
	var all []string
	for _, r := range ls.Repos {
		all = append(all, r.Name)
	}
	if strings.Join(paged, " ") != strings.Join(all, " ") {
		t.Fatalf("paged listing %v, want %v", paged, all)
	}
	// An image root lists as an image; tags of a CID repo are the image.
	img, err := reg.List(ctx, mustRef(t, unnamed.Destination), registry.ListOptions{})
	if err != nil || !img.Image {
		t.Fatalf("image root: %+v %v", img, err)
	}
	tags, err := reg.Tags(ctx, mustRef(t, unnamed.Destination), registry.ListOptions{})
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
				_, err = reg.Inspect(ctx, mustRef(t, "ipfs://"+cid))
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

func TestMissingSignature(t *testing.T) {
	k := needDaemon(t)
	reg := openIPFS(t, registry.Config{})
	cid := handBuilt(t, k, func(dir string) { os.Remove(filepath.Join(dir, SignatureEntry)) })
	ctx := withTimeout(t, time.Minute)
	in, err := reg.Inspect(ctx, mustRef(t, "ipfs://"+cid))
	if err != nil || in.Signature.Status != "missing" {
		t.Fatalf("inspect unsigned: %+v %v", in, err)
	}
	st := newStore(t)
	_, err = reg.Pull(ctx, mustRef(t, "ipfs://"+cid), st, registry.TransferOptions{})
	if !errors.Is(err, fault.ErrIntegrity) || st.HasImage(fixtureID) {
		t.Fatalf("pull of an unsigned image: %v", err)
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
	st := newStore(t)
	rep, err := reg.Pull(ctx, mustRef(t, "ipfs://"+sub), st, registry.TransferOptions{})
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
	bin, _ := ipfsBinary()
	repo := t.TempDir()
	k, err := startKubo(bin, repo, []string{"config", "Import.UnixFSHAMTDirectorySizeThreshold", "1KiB"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.stop()
	t.Setenv("IPFS_API", k.api)
	ctx := withTimeout(t, 2*time.Minute)
	reg := openIPFS(t, registry.Config{})
	st := newStore(t)
	id, err := demo.Build(st, demo.ImageSpec{Seed: 404, Files: 300, Pages: 1, Messages: 3})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Push(ctx, st, id, mustRef(t, "ipfs://sharded"), registry.TransferOptions{Concurrency: 8})
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
	pulled := newStore(t)
	if _, err := reg.Pull(ctx, mustRef(t, "ipfs://sharded"), pulled, registry.TransferOptions{}); err != nil || !pulled.HasImage(id) {
		t.Fatalf("pull of the sharded image: %v", err)
	}
}

func TestStaleStagingRemoved(t *testing.T) {
	k := needDaemon(t)
	ctx := withTimeout(t, time.Minute)
	old := fmt.Sprintf("%s/%d-deadbeef", stagingRoot, time.Now().Add(-48*time.Hour).Unix())
	fresh := fmt.Sprintf("%s/%d-cafef00d", stagingRoot, time.Now().Add(-time.Minute).Unix())
	for _, d := range []string{old, fresh} {
		k.ipfs(t, "files", "mkdir", "-p", d)
	}
	reg := openIPFS(t, registry.Config{})
	st, id := smallImage(t, 505)
	if _, err := reg.Push(ctx, st, id, mustRef(t, "ipfs://new"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	left := k.ipfs(t, "files", "ls", stagingRoot)
	if strings.Contains(left, "deadbeef") || !strings.Contains(left, "cafef00d") {
		t.Fatalf("staging area after push: %q; want the day-old directory gone, the fresh one (a concurrent push) kept", left)
	}
	k.ipfs(t, "files", "rm", "-r", fresh)
}
