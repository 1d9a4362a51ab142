package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"pf-registry/blob"
	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/registry/s3"
	"pf-registry/registry/s3/s3test"
	"pf-registry/signing"
	"pf-registry/store"
)

var srv *s3test.Server

func TestMain(m *testing.M) {
	s, err := s3test.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// env is the server's environment with overrides ("" removes a variable).
func env(over map[string]string) func(string) string {
	m := srv.Env()
	for k, v := range over {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

func openReg(t testing.TB, over map[string]string) registry.Registry {
	t.Helper()
	cfg := registry.Config{Timeout: 20 * time.Second, UserAgent: "pf-registry/test"}
	b, err := s3.New(cfg, env(over))
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(b, cfg)
}

// newBucket creates a bucket named after the test.
func newBucket(t testing.TB) string { return srv.NewBucket(t) }

func ref(t testing.TB, s string) registry.Ref {
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

func smallImage(t testing.TB, st *store.Store, seed uint64) model.Digest {
	t.Helper()
	id, err := demo.Build(st, demo.ImageSpec{Seed: seed, Files: 4, Pages: 2, Messages: 5})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// walkKeys is the set of object keys a push of id must create (spec §9.3).
func walkKeys(t testing.TB, st *store.Store, id model.Digest, prefix string) []string {
	t.Helper()
	rep, err := registry.Transfer(context.Background(), "verify", mustSource(t, st, id), nil, discard{}, nil, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{prefix + "/manifest.json", prefix + "/manifest.json.sig"}
	for _, b := range rep.Blobs {
		keys = append(keys, prefix+"/"+b.Digest.ShardPath())
	}
	sort.Strings(keys)
	return keys
}

func mustSource(t testing.TB, st *store.Store, id model.Digest) registry.Source {
	src, err := registry.StoreSource(st, id)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// discard is a sink that reads every blob to its verified end.
type discard struct{}

func (discard) Describe() string                                    { return "discard" }
func (discard) HasBlob(context.Context, model.Digest) (bool, error) { return false, nil }
func (discard) Commit(context.Context, []byte, []byte) error        { return nil }
func (discard) PutBlob(_ context.Context, b *registry.Blob) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// awsCLI runs the Debian awscli v2 against the test server.
func awsCLI(t testing.TB, args ...string) []byte {
	t.Helper()
	const bin = "/usr/bin/aws"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found: run ./test.sh once, it installs it (Debian awscli)", bin)
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", srv.Endpoint, "--no-cli-pager", "--output", "json"}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	for k, v := range srv.Env() {
		if k != "AWS_ENDPOINT_URL" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws %v: %v: %s", args, err, stderr.String())
	}
	return out
}

func listKeysAWS(t testing.TB, bkt, prefix string) []string {
	t.Helper()
	out := awsCLI(t, "s3api", "list-objects-v2", "--bucket", bkt, "--prefix", prefix)
	var res struct{ Contents []struct{ Key string } }
	if len(bytes.TrimSpace(out)) > 0 {
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("aws list output: %v: %s", err, out)
		}
	}
	var keys []string
	for _, c := range res.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

func TestRoundTripPushListTagsInspectVerifyPull(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := newStore(t)
	id1, id2 := smallImage(t, st, 1), smallImage(t, st, 2)

	for tag, id := range map[string]model.Digest{"v1": id1, "v2": id2} {
		rep, err := reg.Push(ctx, st, id, ref(t, "s3://"+bkt+"/alice/agent/"+tag), registry.TransferOptions{})
		if err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
		if !rep.Complete || rep.Transferred == 0 {
			t.Fatalf("push %s: complete=%v transferred=%d", tag, rep.Complete, rep.Transferred)
		}
	}
	if _, err := reg.Push(ctx, st, id1, ref(t, "s3://"+bkt+"/solo"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}

	ok, err := reg.Exists(ctx, ref(t, "s3://"+bkt+"/alice/agent/v1"))
	if err != nil || !ok {
		t.Fatalf("exists: %v %v", ok, err)
	}
	ok, err = reg.Exists(ctx, ref(t, "s3://"+bkt+"/alice/agent/v9"))
	if err != nil || ok {
		t.Fatalf("exists missing: %v %v", ok, err)
	}

	root, err := registry.ParseRoot("s3://" + bkt)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := reg.List(ctx, root, registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range ls.Repos {
		got = append(got, fmt.Sprintf("%s=%s%v", r.Name, r.Ref, r.Tags))
	}
	want := []string{
		".=s3://" + bkt + "[solo]",
		"alice/agent=s3://" + bkt + "/alice/agent[v1 v2]",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || ls.Image {
		t.Errorf("ls = %v (image %v), want %v", got, ls.Image, want)
	}
	// Paging by repository name.
	p1, err := reg.List(ctx, root, registry.ListOptions{Limit: 1})
	if err != nil || len(p1.Repos) != 1 || p1.Next == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := reg.List(ctx, root, registry.ListOptions{Limit: 1, After: p1.Next})
	if err != nil || len(p2.Repos) != 1 || p2.Repos[0].Name != "alice/agent" || p2.Next != "" {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	// A root that is an image says so.
	img, err := reg.List(ctx, ref(t, "s3://"+bkt+"/alice/agent/v1/"), registry.ListOptions{})
	if err != nil || !img.Image {
		t.Fatalf("ls of an image: %+v %v", img, err)
	}

	tags, err := reg.Tags(ctx, ref(t, "s3://"+bkt+"/alice/agent"), registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 2 || tags.Tags[0].Name != "v1" || tags.Tags[1].Ref != "s3://"+bkt+"/alice/agent/v2" || tags.Tags[0].Updated.IsZero() {
		t.Errorf("tags = %+v", tags.Tags)
	}

	in, err := reg.Inspect(ctx, ref(t, "s3://"+bkt+"/alice/agent/v2"))
	if err != nil {
		t.Fatal(err)
	}
	if in.ImageID != id2 || !in.Signature.OK() {
		t.Errorf("inspect: id %s (want %s), signature %+v", in.ImageID, id2, in.Signature)
	}

	vr, err := reg.Verify(ctx, ref(t, "s3://"+bkt+"/alice/agent/v2"), registry.VerifyOptions{Deep: true})
	if err != nil || !vr.Complete {
		t.Fatalf("verify: %v complete=%v", err, vr != nil && vr.Complete)
	}

	dst := newStore(t)
	pr, err := reg.Pull(ctx, ref(t, "s3://"+bkt+"/alice/agent/v2"), dst, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Complete || pr.Inspection.ImageID != id2 || !dst.HasImage(id2) {
		t.Fatalf("pull: complete=%v id=%s has=%v", pr.Complete, pr.Inspection.ImageID, dst.HasImage(id2))
	}
	// Pulled manifest is byte-identical.
	a, _ := st.Manifest(id2)
	b, _ := dst.Manifest(id2)
	if !bytes.Equal(a, b) {
		t.Error("pulled manifest differs from the pushed one")
	}
}

// Credentials from a shared credentials file and AWS_PROFILE work against
// the real server; a profile with wrong keys is refused.
func TestSharedCredentialsFileAndProfile(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	st := newStore(t)
	id := smallImage(t, st, 10)
	file := filepath.Join(t.TempDir(), "credentials")
	body := fmt.Sprintf("[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n[bad]\naws_access_key_id = %s\naws_secret_access_key = nope\n",
		s3test.AccessKey, s3test.SecretKey, s3test.AccessKey)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": file, "AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none")}
	with := func(profile string) map[string]string {
		m := map[string]string{"AWS_PROFILE": profile}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	if _, err := openReg(t, with("ci")).Push(ctx, st, id, ref(t, "s3://"+bkt+"/p"), registry.TransferOptions{}); err != nil {
		t.Fatalf("push with profile ci: %v", err)
	}
	_, err := openReg(t, with("bad")).Pull(ctx, ref(t, "s3://"+bkt+"/p"), newStore(t), registry.TransferOptions{})
	if !errors.Is(err, fault.ErrAuth) {
		t.Fatalf("pull with profile bad: %v, want an authentication error", err)
	}
}

func TestPushWritesExactlyTheSpecKeysAWSCLISeesThem(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := newStore(t)
	id := smallImage(t, st, 3)
	// Trailing slashes are trimmed from the prefix (spec §9.3).
	if _, err := reg.Push(ctx, st, id, ref(t, "s3://"+bkt+"/team/img//"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	got := listKeysAWS(t, bkt, "")
	want := walkKeys(t, st, id, "team/img")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("keys seen by aws:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// `aws s3 ls` shows the layout too.
	ls := string(awsCLI(t, "s3", "ls", "s3://"+bkt+"/team/img/"))
	for _, w := range []string{"PRE blobs/", "manifest.json", "manifest.json.sig"} {
		if !strings.Contains(ls, w) {
			t.Errorf("aws s3 ls lacks %q:\n%s", w, ls)
		}
	}
	// The manifest object holds the exact manifest bytes, the signature
	// verifies under the s3 key, and a blob object is the store's zstd
	// frame of the logical bytes.
	dir := t.TempDir()
	awsCLI(t, "s3api", "get-object", "--bucket", bkt, "--key", "team/img/manifest.json", filepath.Join(dir, "m"))
	awsCLI(t, "s3api", "get-object", "--bucket", bkt, "--key", "team/img/manifest.json.sig", filepath.Join(dir, "s"))
	m, _ := os.ReadFile(filepath.Join(dir, "m"))
	sig, _ := os.ReadFile(filepath.Join(dir, "s"))
	local, _ := st.Manifest(id)
	if !bytes.Equal(m, local) || model.FromBytes(m) != id {
		t.Error("manifest object differs from the local manifest")
	}
	if v := signing.Verify(m, sig, signing.ForBackend("s3")); !v.OK() {
		t.Errorf("signature object does not verify: %+v", v)
	}
	pm, _ := model.ParseManifest(m)
	key := "team/img/" + pm.World.FS.ShardPath()
	awsCLI(t, "s3api", "get-object", "--bucket", bkt, "--key", key, filepath.Join(dir, "b"))
	stored, _ := os.ReadFile(filepath.Join(dir, "b"))
	if _, err := blob.DecodeVerified(stored, pm.World.FS, blob.DefaultMaxLogicalSize); err != nil {
		t.Errorf("blob object %s: %v", key, err)
	}
}

func TestPullImageUploadedByAWSCLI(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	fixture, err := filepath.Abs("../../testdata/file-registry-example")
	if err != nil {
		t.Fatal(err)
	}
	awsCLI(t, "s3", "cp", "--recursive", "--only-show-errors", fixture, "s3://"+bkt+"/fixture/")
	raw, err := os.ReadFile(filepath.Join(fixture, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := model.FromBytes(raw)

	reg := openReg(t, nil)
	vr, err := reg.Verify(ctx, ref(t, "s3://"+bkt+"/fixture"), registry.VerifyOptions{Deep: true})
	if err != nil || !vr.Complete {
		t.Fatalf("verify: %v", err)
	}
	st := newStore(t)
	rep, err := reg.Pull(ctx, ref(t, "s3://"+bkt+"/fixture"), st, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inspection.ImageID != want || !st.HasImage(want) || len(rep.Blobs) != 13 {
		t.Fatalf("pulled %s (want %s), %d blobs (want 13)", rep.Inspection.ImageID, want, len(rep.Blobs))
	}
}

func TestCopyToAndFromFileKeepsImageID(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	s3reg := openReg(t, nil)
	fileReg, err := registry.Open("file", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fixture, _ := filepath.Abs("../../testdata/file-registry-example")
	raw, _ := os.ReadFile(filepath.Join(fixture, "manifest.json"))
	want := model.FromBytes(raw)

	up, err := registry.Copy(ctx, fileReg, ref(t, "file://"+fixture), s3reg, ref(t, "s3://"+bkt+"/copied"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "back")
	down, err := registry.Copy(ctx, s3reg, ref(t, "s3://"+bkt+"/copied"), fileReg, ref(t, "file://"+out), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, rep := range map[string]*registry.Report{"file→s3": up, "s3→file": down} {
		if !rep.Complete || rep.Inspection.ImageID != want {
			t.Errorf("%s: complete=%v id=%s want %s", name, rep.Complete, rep.Inspection.ImageID, want)
		}
	}
	back, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if !bytes.Equal(back, raw) {
		t.Error("manifest changed on the way file → s3 → file")
	}
}

func TestSecondPushUploadsNothing(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := newStore(t)
	id := smallImage(t, st, 4)
	r := ref(t, "s3://"+bkt+"/again")
	first, err := reg.Push(ctx, st, id, r, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var puts []string
	var mu sync.Mutex
	second, err := reg.Push(ctx, st, id, r, registry.TransferOptions{Progress: func(e registry.Event) {
		if e.Kind == registry.KindBlob && e.Phase == registry.PhaseTransferring {
			mu.Lock()
			puts = append(puts, e.Role)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Transferred != len(first.Blobs) || first.Skipped != 0 {
		t.Errorf("first push: %d transferred, %d skipped of %d", first.Transferred, first.Skipped, len(first.Blobs))
	}
	if second.Transferred != 0 || second.Skipped != len(second.Blobs) || second.Bytes != 0 || len(puts) != 0 {
		t.Errorf("second push: %d transferred (%v), %d skipped of %d, %d bytes", second.Transferred, puts, second.Skipped, len(second.Blobs), second.Bytes)
	}
}

func TestLargeBlobGoesUpInPartsWithProgress(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := newStore(t)
	// A small image whose model.base is a 64 MiB blob, stored as a zstd
	// frame of raw blocks (cheap to build, even under -race).
	logical := make([]byte, 64<<20)
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i < len(logical); i += 8 {
		binary.LittleEndian.PutUint64(logical[i:], rng.Uint64())
	}
	big := model.FromBytes(logical)
	stored := rawZstdFrame(logical)
	if err := st.PutStored(big, blob.NewVerifier(bytes.NewReader(stored), big, 0)); err != nil {
		t.Fatal(err)
	}
	small := smallImage(t, st, 8)
	raw, _ := st.Manifest(small)
	m, _ := model.ParseManifest(raw)
	m.Model.Base = big
	id, err := st.PutImage(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(st.BlobPath(big))
	if err != nil || fi.Size() != int64(len(stored)) {
		t.Fatalf("stored blob: %v", err)
	}

	var mu sync.Mutex
	steps := map[int64]bool{}
	_, err = reg.Push(ctx, st, id, ref(t, "s3://"+bkt+"/big"), registry.TransferOptions{Progress: func(e registry.Event) {
		if e.Kind == registry.KindBlob && e.Digest == big && e.Done > 0 {
			mu.Lock()
			steps[e.Done] = true
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 3 || !steps[fi.Size()] {
		t.Errorf("progress of the 64 MiB blob in %d steps (end reached: %v); want ≥ 3", len(steps), steps[fi.Size()])
	}
	// The object's ETag names the number of parts: "<md5>-<n>".
	out := awsCLI(t, "s3api", "head-object", "--bucket", bkt, "--key", "big/"+big.ShardPath())
	var head struct {
		ETag          string
		ContentLength int64
	}
	if err := json.Unmarshal(out, &head); err != nil {
		t.Fatal(err)
	}
	etag := strings.Trim(head.ETag, `"`)
	var parts int
	if i := strings.LastIndex(etag, "-"); i >= 0 {
		fmt.Sscanf(etag[i+1:], "%d", &parts)
	}
	t.Logf("64 MiB blob: %d stored bytes, %d progress steps, ETag %s", fi.Size(), len(steps), head.ETag)
	if parts < 3 || head.ContentLength != fi.Size() {
		t.Errorf("ETag %s, length %d: want a multipart upload of ≥ 3 parts and %d bytes", head.ETag, head.ContentLength, fi.Size())
	}
	// And it comes back whole.
	dst := newStore(t)
	if _, err := reg.Pull(ctx, ref(t, "s3://"+bkt+"/big"), dst, registry.TransferOptions{}); err != nil || !dst.HasImage(id) {
		t.Fatalf("pull: %v", err)
	}
}

// snapshot lists every file of a directory tree with its size.
func snapshot(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		fmt.Fprintf(&b, "%s %d\n", p, info.Size())
		return nil
	})
	return b.String()
}

func TestFailuresAreOneLineExit1AndLeaveStoreUntouched(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	st := newStore(t)
	id := smallImage(t, st, 5)
	if _, err := openReg(t, nil).Push(ctx, st, id, ref(t, "s3://"+bkt+"/img"), registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		over   map[string]string
		bucket string
		want   string
	}{
		{"wrong credentials", map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong-secret-value"}, bkt, "credentials"},
		{"missing bucket", nil, "no-such-bucket", "does not exist"},
		{"unreachable endpoint", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, bkt, "cannot reach"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := openReg(t, tc.over)
			r := ref(t, "s3://"+tc.bucket+"/img")
			pullStore := newStore(t)
			before, beforePush := snapshot(t, pullStore.Root()), snapshot(t, st.Root())
			_, pullErr := reg.Pull(ctx, r, pullStore, registry.TransferOptions{})
			_, pushErr := reg.Push(ctx, st, id, ref(t, "s3://"+tc.bucket+"/other"), registry.TransferOptions{})
			_, lsErr := reg.List(ctx, r, registry.ListOptions{})
			for op, err := range map[string]error{"pull": pullErr, "push": pushErr, "ls": lsErr} {
				if err == nil {
					t.Errorf("%s: no error", op)
					continue
				}
				msg := err.Error() + "; " + fault.Hint(err)
				if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) || fault.Hint(err) == "" {
					t.Errorf("%s: %q: want one line with %q and a hint", op, msg, tc.want)
				}
				// Exit 1: neither integrity (4) nor usage (2).
				if errors.Is(err, fault.ErrIntegrity) || errors.Is(err, fault.ErrUsage) || errors.Is(err, fault.ErrUnsupportedScheme) {
					t.Errorf("%s: %q has the wrong class", op, msg)
				}
				if strings.Contains(msg, "wrong-secret-value") || strings.Contains(msg, s3test.SecretKey) {
					t.Errorf("%s: error shows a secret", op)
				}
			}
			if after := snapshot(t, pullStore.Root()); after != before {
				t.Errorf("pull store changed:\n%s\nwas:\n%s", after, before)
			}
			if after := snapshot(t, st.Root()); after != beforePush {
				t.Errorf("push store changed")
			}
		})
	}
}

func TestTamperedObjectsAreIntegrityErrors(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := newStore(t)
	id := smallImage(t, st, 6)
	raw, _ := st.Manifest(id)
	m, _ := model.ParseManifest(raw)
	dir := t.TempDir()
	put := func(key string, data []byte) {
		p := filepath.Join(dir, "obj")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		awsCLI(t, "s3", "cp", "--only-show-errors", p, "s3://"+bkt+"/"+key)
	}
	tests := []struct {
		name   string
		tamper func(prefix string)
		// bad is the blob that must not reach the store; "" when nothing
		// may be downloaded at all (the signature fails first).
		bad model.Digest
	}{
		{"blob replaced by other content", func(p string) {
			put(p+"/"+m.World.Env.ShardPath(), blob.CompressBytes([]byte(`{"kind":"env.v1","evil":true}`), 3))
		}, m.World.Env},
		{"blob not zstd", func(p string) { put(p+"/"+m.Trace.Messages.ShardPath(), []byte("plain text")) }, m.Trace.Messages},
		{"manifest edited", func(p string) {
			put(p+"/manifest.json", bytes.Replace(raw, []byte("claude-code"), []byte("claude-kode"), 1))
		}, ""},
		{"signature missing", func(p string) { awsCLI(t, "s3", "rm", "--only-show-errors", "s3://"+bkt+"/"+p+"/manifest.json.sig") }, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("img%d", i)
			r := ref(t, "s3://"+bkt+"/"+prefix)
			if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			tc.tamper(prefix)
			dst := newStore(t)
			before := snapshot(t, dst.Root())
			_, err := reg.Pull(ctx, r, dst, registry.TransferOptions{})
			if !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("pull: %v, want an integrity error", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
			if dst.HasImage(id) {
				t.Error("the tampered image entered the local store")
			}
			// Blobs that verified may stay (a later pull resumes); the bad
			// one never enters, and nothing does when the signature fails.
			if tc.bad != "" && dst.HasBlob(tc.bad) {
				t.Error("the tampered blob entered the local store")
			}
			if tc.bad == "" && snapshot(t, dst.Root()) != before {
				t.Error("the local store changed")
			}
			// Copying the tampered image elsewhere fails the same way.
			out := filepath.Join(t.TempDir(), "copy")
			fileReg, _ := registry.Open("file", registry.Config{})
			if _, err := registry.Copy(ctx, reg, r, fileReg, ref(t, "file://"+out), registry.TransferOptions{}); !errors.Is(err, fault.ErrIntegrity) {
				t.Errorf("copy: %v, want an integrity error", err)
			}
			if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
				t.Error("copy committed a tampered image")
			}
		})
	}
}

// A blob stream that fails verification must not leave an object behind.
func TestPutBlobKeepsNothingThatFailsVerification(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	good := []byte("the real content")
	d := model.FromBytes(good)
	for _, size := range []int{100, 9 << 20} { // single PUT and multipart
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			noise := make([]byte, size)
			rand.Read(noise)
			evil := blob.CompressBytes(noise, 1)
			r := ref(t, fmt.Sprintf("s3://%s/bad%d", bkt, size))
			sink, err := reg.Sink(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			b := registry.NewBlob(d, "test", int64(len(evil)), func() (io.ReadCloser, error) {
				return blob.NewVerifier(bytes.NewReader(evil), d, 0), nil
			})
			if err := sink.PutBlob(ctx, b); !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("PutBlob: %v, want an integrity error", err)
			}
			if has, err := sink.HasBlob(ctx, d); err != nil || has {
				t.Errorf("object left behind: has=%v err=%v", has, err)
			}
		})
	}
}

// rawZstdFrame wraps data in one zstd frame of raw (stored) blocks: no
// content size, no checksum, 128 KiB window (spec §6: any conforming frame
// must be accepted).
func rawZstdFrame(data []byte) []byte {
	const block = 128 << 10
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3} // magic, FHD, window 2^(10+7)
	for {
		n := min(len(data), block)
		hdr := uint32(n) << 3 // type 0 = raw
		last := n == len(data)
		if last {
			hdr |= 1
		}
		out = append(out, byte(hdr), byte(hdr>>8), byte(hdr>>16))
		out = append(out, data[:n]...)
		data = data[n:]
		if last {
			return out
		}
	}
}
