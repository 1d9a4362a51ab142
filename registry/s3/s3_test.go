package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/registry/s3"
	"pf-registry/registry/s3/bucket"
	"pf-registry/registry/s3/s3test"
)

func TestMain(m *testing.M) {
	registrytest.CrashChild()
	s3test.Main(m, func(s *s3test.Server) { srv = s })
}

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
	registrytest.SameRef
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
	case registrytest.Bundle:
		return r.S3Key(o.Name)
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

// Leftovers are multipart uploads under the prefix never completed, and
// a commit journal.
func (h *harness) Leftovers(t testing.TB, r registry.Ref) []string {
	ups, err := srv.IncompleteUploads(context.Background(), h.bucket, r.S3KeyPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := h.client(t).Head(context.Background(), r.S3Key(".pf-commit.json")); err != nil || found {
		ups = append(ups, fmt.Sprintf(".pf-commit.json (%v)", err))
	}
	return ups
}

// Environ is the server's environment, for the crash loop's children.
func (h *harness) Environ() []string {
	var out []string
	for k, v := range srv.Env() {
		out = append(out, k+"="+v)
	}
	return out
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, &harness{bucket: newBucket(t)})
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
