package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/minio/minio-go/v7"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/registry/s3"
	"pf-registry/registry/s3/bucket"
	"pf-registry/signing"
	"pf-registry/store"
)

// plantJournal writes a commit journal at ref the way a push killed after
// deciding its switch leaves it.
func plantJournal(t *testing.T, h *harness, ref registry.Ref, replaces model.Digest, manifest, sig []byte) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"replaces": replaces, "manifest": manifest, "sig": sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.client(t).Put(context.Background(), ref.S3Key(".pf-commit.json"), bytes.NewReader(body), int64(len(body)), bucket.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// pair is two images at one prefix: a, the image, pushed over b, so that
// both images' blobs are there.
type pair struct {
	h          *harness
	reg        registry.Registry
	st         *store.Store
	a, b       model.Digest
	rawA, rawB []byte
	ref        registry.Ref
}

func twoImages(t *testing.T, seed uint64) pair {
	t.Helper()
	x := pair{h: &harness{bucket: newBucket(t)}}
	x.reg = x.h.Open(t, registry.Config{})
	x.st, x.a = registrytest.SmallImage(t, seed)
	x.b = registrytest.AddSmallImage(t, x.st, seed+1)
	x.rawA, _ = x.st.Manifest(x.a)
	x.rawB, _ = x.st.Manifest(x.b)
	x.ref = x.h.NewRef(t)
	for _, id := range []model.Digest{x.b, x.a} {
		if _, err := x.reg.Push(context.Background(), x.st, id, x.ref, registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

// A journal decides what readers see only next to the manifest it
// replaces: readers then get the journal's image, judged like any other,
// and the next push finishes or overrides it. A journal next to another
// manifest (another tool pushed since) is ignored.
func TestCommitJournalReadWhereItApplies(t *testing.T) {
	ctx := context.Background()
	x := twoImages(t, 41)
	h, reg, st, a, b, rawA, rawB, ref := x.h, x.reg, x.st, x.a, x.b, x.rawA, x.rawB, x.ref
	key := reg.SignKey()
	inspect := func() *registry.Inspection {
		t.Helper()
		in, err := reg.Inspect(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}

	plantJournal(t, h, ref, model.FromBytes([]byte("another manifest")), rawB, signing.SignBytes(rawB, key))
	if in := inspect(); in.ImageID != a || !in.Signature.OK() {
		t.Fatalf("a journal for another manifest was read: %s, %s", in.ImageID.Short(), in.Signature.Status())
	}

	plantJournal(t, h, ref, a, rawB, signing.SignBytes(rawB, key))
	if in := inspect(); in.ImageID != b || !in.Signature.OK() {
		t.Fatalf("the decided switch is not what readers see: %s, %s", in.ImageID.Short(), in.Signature.Status())
	}
	if rep, err := reg.Verify(ctx, ref, registry.VerifyOptions{Deep: true}); err != nil || rep.Inspection.ImageID != b {
		t.Fatalf("deep verify through the journal: %v", err)
	}

	plantJournal(t, h, ref, a, rawB, signing.SignBytes(rawA, key)) // a forged journal: the signature is judged
	if in := inspect(); in.ImageID != b || in.Signature.Status() != signing.Invalid {
		t.Fatalf("a journal whose signature does not match: %s, %s", in.ImageID.Short(), in.Signature.Status())
	}

	if _, err := reg.Push(ctx, st, a, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if in := inspect(); in.ImageID != a || !in.Signature.OK() {
		t.Fatalf("after the next push: %s, %s", in.ImageID.Short(), in.Signature.Status())
	}
	if left := h.Leftovers(t, ref); len(left) != 0 {
		t.Fatalf("left after the next push: %v", left)
	}
}

// The multipart upload a killed push left under an image is aborted by
// the next push there once it is old enough to be no live push's.
func TestPushAbortsAbandonedUploads(t *testing.T) {
	ctx := context.Background()
	h := &harness{bucket: newBucket(t)}
	st, id := registrytest.SmallImage(t, 43)
	ref := h.NewRef(t)
	mc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	d := model.FromBytes([]byte("a blob of a killed push"))
	if _, err := (minio.Core{Client: mc}).NewMultipartUpload(ctx, h.bucket, ref.S3Key(d.ShardPath()), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if left := h.Leftovers(t, ref); len(left) != 1 {
		t.Fatalf("the test upload is not there: %v", left)
	}
	reg := h.Open(t, registry.Config{})
	if _, err := reg.Push(ctx, st, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if left := h.Leftovers(t, ref); len(left) != 1 {
		t.Fatalf("a push aborted a fresh upload (a live push's): %v", left)
	}
	defer s3.SetStaleUpload(0)()
	if _, err := reg.Push(ctx, st, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if left := h.Leftovers(t, ref); len(left) != 0 {
		t.Fatalf("the abandoned upload is still there after a push: %v", left)
	}
}

// Deleting an image drops a pending journal: it must not apply to the
// same manifest written there again later (by the Rust tool, say).
func TestDeleteDropsThePendingJournal(t *testing.T) {
	ctx := context.Background()
	x := twoImages(t, 44)
	h, reg, a, rawA, rawB, ref := x.h, x.reg, x.a, x.rawA, x.rawB, x.ref
	plantJournal(t, h, ref, a, rawB, signing.SignBytes(rawB, reg.SignKey()))
	if _, err := reg.Delete(ctx, []registry.Ref{ref}, registry.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.Write(t, ref, registrytest.SignatureObject, signing.SignBytes(rawA, reg.SignKey()))
	h.Write(t, ref, registrytest.ManifestObject, rawA)
	if in, err := reg.Inspect(ctx, ref); err != nil || in.ImageID != a {
		t.Fatalf("the manifest written after a delete: %v; want image %s, not the journal's", err, a.Short())
	}
}
