package ipfs

import (
	"context"
	"strings"
	"testing"
	"time"

	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/signing"
)

// TestSignByCID: signing an image read by its CID makes a new directory
// (the bundle added, the blobs linked, not copied) with a new CID; the old
// one is unchanged.
func TestSignByCID(t *testing.T) {
	needDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keys := registrytest.NewKeys(t)
	reg := openIPFS(t, registry.Config{Keys: keys.Trusting})
	st, id := registrytest.SmallImage(t, 903)
	rep, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "ipfs://new"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old := registrytest.MustRef(t, rep.Destination)
	in, err := reg.Sign(ctx, old, []*signing.PrivateKey{keys.Alice})
	if err != nil {
		t.Fatal(err)
	}
	if in.Signature.Status() != signing.Trusted || in.ImageID != id || !strings.HasPrefix(in.Ref, "ipfs://") || in.Ref == old.Raw {
		t.Fatalf("signed by CID: %s %s %s", in.Ref, in.ImageID, in.Signature.Status())
	}
	if before, err := reg.Inspect(ctx, old); err != nil || before.Signature.Status() != signing.DefaultKey {
		t.Fatalf("the old CID changed: %v", err)
	}
}
