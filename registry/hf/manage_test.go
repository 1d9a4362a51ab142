package hf

import (
	"context"
	"errors"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
)

// Retag to a new revision makes a branch at the image's commit; to an
// existing branch it commits the image's LFS files by reference. Neither
// uploads a blob, and a read-only token or another dataset is refused.
func TestRetagMovesNoBlob(t *testing.T) {
	ctx := context.Background()
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	st, id := registrytest.SmallImage(t, 3)
	src := registrytest.MustRef(t, "hf://alice/agent:main")
	if _, err := reg.Push(ctx, st, id, src, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	st2, id2 := registrytest.SmallImage(t, 4)
	existing := registrytest.MustRef(t, "hf://alice/agent:old")
	if _, err := reg.Push(ctx, st2, id2, existing, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	before := h.Stats()
	for _, dst := range []registry.Ref{registrytest.MustRef(t, "hf://alice/agent:stable"), existing} {
		if _, err := reg.Retag(ctx, src, dst); err != nil {
			t.Fatalf("retag to %s: %v", dst.Raw, err)
		}
		v, err := reg.Verify(ctx, dst, registry.VerifyOptions{Deep: true})
		if err != nil || v.Inspection.ImageID != id {
			t.Fatalf("%s after retag: %v", dst.Raw, err)
		}
	}
	after := h.Stats()
	if after.BasicUploads != before.BasicUploads || after.MultipartUploads != before.MultipartUploads {
		t.Fatalf("retag uploaded blobs: %+v → %+v", before, after)
	}
	if _, err := reg.Retag(ctx, src, registrytest.MustRef(t, "hf://alice/other:main")); !errors.Is(err, fault.ErrUsage) {
		t.Fatalf("retag to another dataset: %v", err)
	}
	ro := open(t, h, readToken_)
	if _, err := ro.Retag(ctx, src, registrytest.MustRef(t, "hf://alice/agent:x")); err == nil {
		t.Fatal("retag with a read-only token succeeded")
	}
}

// Deleting an image at a tag deletes the tag; the branch it was taken from
// keeps the image.
func TestDeleteTag(t *testing.T) {
	ctx := context.Background()
	h := startHub(t, hubtest.Options{})
	reg := open(t, h, aliceToken)
	st, id := registrytest.SmallImage(t, 8)
	main := registrytest.MustRef(t, "hf://alice/tagged:main")
	t.Setenv("PF_HF_TAG", "v1")
	if _, err := reg.Push(ctx, st, id, main, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	tag := registrytest.MustRef(t, "hf://alice/tagged:v1")
	rep, err := reg.Delete(ctx, []registry.Ref{tag}, registry.DeleteOptions{Grace: registry.NoGrace})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 1 || rep.Images[0].ImageID != id || len(rep.Blobs) != 0 {
		t.Fatalf("report: %+v", rep)
	}
	if ok, _ := reg.Exists(ctx, tag); ok {
		t.Fatal("the tag still serves the image")
	}
	if _, err := reg.Verify(ctx, main, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatalf("the branch lost its image: %v", err)
	}
}
