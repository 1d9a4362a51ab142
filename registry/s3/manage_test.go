package s3_test

import (
	"context"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// Retag copies every object server side: the new prefix holds the same
// stored bytes, and the image verifies there under its own name.
func TestRetagCopiesObjectsServerSide(t *testing.T) {
	ctx := context.Background()
	reg := openReg(t, nil)
	bkt := newBucket(t)
	st, id := registrytest.SmallImage(t, 5)
	src := registrytest.MustRef(t, "s3://"+bkt+"/agents/v1")
	if _, err := reg.Push(ctx, st, id, src, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := registrytest.MustRef(t, "s3://"+bkt+"/agents/stable")
	rep, err := reg.Retag(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ImageID != id {
		t.Fatalf("retag reported %s, want %s", rep.ImageID, id)
	}
	want := listKeysAWS(t, bkt, "agents/v1/")
	got := listKeysAWS(t, bkt, "agents/stable/")
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("retag wrote %d objects, the source has %d", len(got), len(want))
	}
	v, err := reg.Verify(ctx, dst, registry.VerifyOptions{Deep: true})
	if err != nil || v.Inspection.ImageID != id {
		t.Fatalf("retagged image: %v", err)
	}
	// Another bucket is refused before any work.
	if _, err := reg.Retag(ctx, src, registrytest.MustRef(t, "s3://other-bucket/x")); err == nil {
		t.Fatal("retag to another bucket succeeded")
	}
}
