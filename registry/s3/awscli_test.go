package s3_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"pf-registry/blob"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// Tests that read what the backend wrote with the peer client (the Debian
// awscli) and the server's own metadata.

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
