package s3_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/registry/s3"
	"pf-registry/registry/s3/bucket"
	"pf-registry/registry/s3/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m, func(s *s3test.Server) { srv = s }) }

// srv is the versitygw every test of the package uses.
var srv *s3test.Server

// openReg opens the backend against the test server; listings ask for
// pages of 2 keys, so that every listing follows continuation tokens.
func openReg(t testing.TB, over map[string]string) registry.Registry {
	t.Helper()
	return openWith(t, registry.Config{}, over)
}

func openWith(t testing.TB, cfg registry.Config, over map[string]string) registry.Registry {
	t.Helper()
	cfg.Timeout, cfg.UserAgent = 20*time.Second, "pf-registry/test"
	b, err := s3.New(cfg, srv.Getenv(over), s3.WithListPageSize(2))
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(b, cfg)
}

// newBucket creates a bucket named after the test.
func newBucket(t testing.TB) string { return srv.NewBucket(t) }

// harness: images under prefixes of one bucket, changed through the S3
// API with the project's bucket client.
type harness struct {
	bucket string
	seq    atomic.Int64
}

func (h *harness) Open(t testing.TB, cfg registry.Config) registry.Registry {
	return openWith(t, cfg, nil)
}

func (h *harness) NewRef(t testing.TB) registry.Ref {
	return registrytest.MustRef(t, fmt.Sprintf("s3://%s/img%d", h.bucket, h.seq.Add(1)))
}

func (h *harness) Namespace(t testing.TB) registrytest.Namespace {
	root := fmt.Sprintf("s3://%s/ns%d", h.bucket, h.seq.Add(1))
	return registrytest.Namespace{
		Root:       registrytest.MustRoot(t, root),
		Repo:       func(repo string) registry.Ref { return registrytest.MustRoot(t, root+"/"+repo) },
		Image:      func(repo, tag string) registry.Ref { return registrytest.MustRef(t, root+"/"+repo+"/"+tag) },
		ServerPage: 2,
	}
}

func (h *harness) client(t testing.TB) *bucket.Client {
	t.Helper()
	cfg, err := bucket.ConfigFromEnv(srv.Getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := bucket.New(cfg, h.bucket, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func objectKey(r registry.Ref, o registrytest.Object) string {
	switch o.Kind {
	case registrytest.Manifest:
		return r.S3Key("manifest.json")
	case registrytest.Signature:
		return r.S3Key("manifest.json.sig")
	}
	return r.S3Key(o.Digest.ShardPath())
}

func (h *harness) Read(t testing.TB, r registry.Ref, o registrytest.Object) ([]byte, bool) {
	b, err := h.client(t).GetBytes(context.Background(), objectKey(r, o), 1<<30)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

func (h *harness) Write(t testing.TB, r registry.Ref, o registrytest.Object, b []byte) {
	if err := h.client(t).Put(context.Background(), objectKey(r, o), bytes.NewReader(b), int64(len(b)), bucket.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) Remove(t testing.TB, r registry.Ref, o registrytest.Object) {
	if err := h.client(t).Remove(context.Background(), objectKey(r, o)); err != nil {
		t.Fatal(err)
	}
}

// Leftovers are multipart uploads under the prefix never completed.
func (h *harness) Leftovers(t testing.TB, r registry.Ref) []string {
	ups, err := srv.IncompleteUploads(context.Background(), h.bucket, r.S3KeyPrefix())
	if err != nil {
		t.Fatal(err)
	}
	return ups
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, &harness{bucket: newBucket(t)})
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
	slices.Sort(keys)
	return keys
}

// A push of the fixture to s3://<bucket>/alice/sess// writes exactly the
// keys of the spec's vector s3_keys_for_prefix_alice_sess (trailing
// slashes trimmed, spec §9.3), the blobs in the vector's (walk) order, each
// with its content type; awscli sees the same.
func TestPushWritesTheSpecKeys(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st, id := registrytest.FixtureStore(t)
	rep, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "s3://"+bkt+"/alice/sess//"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := vectors.LoadFixture(t).S3Keys
	for i, b := range rep.Blobs {
		if k := "alice/sess/" + b.Digest.ShardPath(); want[i+2] != k {
			t.Errorf("blob %d (%s) is %s, the vector says %s", i, b.Role, k, want[i+2])
		}
	}
	if got := listKeysAWS(t, bkt, ""); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("keys seen by aws:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ls := string(awsCLI(t, "s3", "ls", "s3://"+bkt+"/alice/sess/"))
	for _, w := range []string{"PRE blobs/", "manifest.json", "manifest.json.sig"} {
		if !strings.Contains(ls, w) {
			t.Errorf("aws s3 ls lacks %q:\n%s", w, ls)
		}
	}
	checkContentTypes(t, bkt, want)
}

// checkContentTypes reads every object's metadata back from the server.
func checkContentTypes(t *testing.T, bkt string, keys []string) {
	t.Helper()
	mc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		want := "application/zstd"
		if strings.HasSuffix(k, "/manifest.json") || strings.HasSuffix(k, "/manifest.json.sig") {
			want = "application/json"
		}
		info, err := mc.StatObject(context.Background(), bkt, k, minio.StatObjectOptions{})
		if err != nil || info.ContentType != want {
			t.Errorf("%s: content type %q (%v), want %q", k, info.ContentType, err, want)
		}
	}
	var head struct{ ContentType string }
	if err := json.Unmarshal(awsCLI(t, "s3api", "head-object", "--bucket", bkt, "--key", keys[0]), &head); err != nil || head.ContentType != "application/json" {
		t.Errorf("aws s3api head-object %s: content type %q (%v)", keys[0], head.ContentType, err)
	}
}

// An image directly under a listing root is the repository "." of it.
func TestImageAtTheRootListsAsDot(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := registrytest.NewStore(t)
	id := registrytest.AddSmallImage(t, st, 1)
	for _, p := range []string{"solo", "alice/agent/v1", "alice/agent/v2"} {
		if _, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "s3://"+bkt+"/"+p), registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := reg.List(ctx, registrytest.MustRoot(t, "s3://"+bkt), registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range ls.Repos {
		got = append(got, fmt.Sprintf("%s=%s%v", r.Name, r.Ref, r.Tags))
	}
	want := []string{".=s3://" + bkt + "[solo]", "alice/agent=s3://" + bkt + "/alice/agent[v1 v2]"}
	if !slices.Equal(got, want) || ls.Image {
		t.Errorf("ls = %v (image %v), want %v", got, ls.Image, want)
	}
	if img, err := reg.List(ctx, registrytest.MustRef(t, "s3://"+bkt+"/alice/agent/v1/"), registry.ListOptions{}); err != nil || !img.Image {
		t.Fatalf("ls of an image with a trailing slash: %+v %v", img, err)
	}
	tags, err := reg.Tags(ctx, registrytest.MustRef(t, "s3://"+bkt+"/alice/agent"), registry.ListOptions{})
	if err != nil || len(tags.Tags) != 2 || tags.Tags[1].Ref != "s3://"+bkt+"/alice/agent/v2" || tags.Tags[0].Updated.IsZero() {
		t.Errorf("tags = %+v, %v; want v1 and v2 with their times", tags, err)
	}
}

// Credentials from a shared credentials file and AWS_PROFILE work against
// the real server; a profile with wrong keys is refused.
func TestSharedCredentialsFileAndProfile(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	st := registrytest.NewStore(t)
	id := registrytest.AddSmallImage(t, st, 10)
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
	if _, err := openReg(t, with("ci")).Push(ctx, st, id, registrytest.MustRef(t, "s3://"+bkt+"/p"), registry.TransferOptions{}); err != nil {
		t.Fatalf("push with profile ci: %v", err)
	}
	_, err := openReg(t, with("bad")).Pull(ctx, registrytest.MustRef(t, "s3://"+bkt+"/p"), registrytest.NewStore(t), registry.TransferOptions{})
	if !errors.Is(err, fault.ErrAuth) {
		t.Fatalf("pull with profile bad: %v, want an authentication error", err)
	}
}

func TestPullImageUploadedByAWSCLI(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	awsCLI(t, "s3", "cp", "--recursive", "--only-show-errors", vectors.FixtureDir(), "s3://"+bkt+"/fixture/")
	want := model.Digest(vectors.LoadFixture(t).ImageCID)
	reg := openReg(t, nil)
	vr, err := reg.Verify(ctx, registrytest.MustRef(t, "s3://"+bkt+"/fixture"), registry.VerifyOptions{Deep: true})
	if err != nil || !vr.Complete {
		t.Fatalf("verify: %v", err)
	}
	st := registrytest.NewStore(t)
	rep, err := reg.Pull(ctx, registrytest.MustRef(t, "s3://"+bkt+"/fixture"), st, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inspection.ImageID != want || !st.HasImage(want) || len(rep.Blobs) != 13 {
		t.Fatalf("pulled %s (want %s), %d blobs (want 13)", rep.Inspection.ImageID, want, len(rep.Blobs))
	}
}

func TestLargeBlobGoesUpInPartsWithProgress(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	reg := openReg(t, nil)
	st := registrytest.NewStore(t)
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
	small := registrytest.AddSmallImage(t, st, 8)
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
	_, err = reg.Push(ctx, st, id, registrytest.MustRef(t, "s3://"+bkt+"/big"), registry.TransferOptions{Progress: func(e registry.Event) {
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
	dst := registrytest.NewStore(t)
	if _, err := reg.Pull(ctx, registrytest.MustRef(t, "s3://"+bkt+"/big"), dst, registry.TransferOptions{}); err != nil || !dst.HasImage(id) {
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
	st := registrytest.NewStore(t)
	id := registrytest.AddSmallImage(t, st, 5)
	if _, err := openReg(t, nil).Push(ctx, st, id, registrytest.MustRef(t, "s3://"+bkt+"/img"), registry.TransferOptions{}); err != nil {
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
			r := registrytest.MustRef(t, "s3://"+tc.bucket+"/img")
			pullStore := registrytest.NewStore(t)
			before, beforePush := snapshot(t, pullStore.Root()), snapshot(t, st.Root())
			_, pullErr := reg.Pull(ctx, r, pullStore, registry.TransferOptions{})
			_, pushErr := reg.Push(ctx, st, id, registrytest.MustRef(t, "s3://"+tc.bucket+"/other"), registry.TransferOptions{})
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
