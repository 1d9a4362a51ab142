package file_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// A push into a directory whose image is being deleted keeps the blobs it
// found there: the sink refreshes them, so the sweep's grace period covers
// them, while the old image's own blobs go.
func TestPushDuringDeletionKeepsFoundBlobs(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "img")
	reg, ref := registrytest.Open(t, "file://"+dir, registry.Config{})
	st := registrytest.NewStore(t)
	ids := registrytest.SharedImages(t, st, 2, registrytest.Rand(t))
	if _, err := reg.Push(ctx, st, ids[0], ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return err
	})
	if err := registry.BackendOf(reg).(registry.Deleter).DeleteImage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	// The push of image 1 starts: it asks for each of its blobs.
	sink, err := reg.Sink(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	src, err := registry.StoreSource(st, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	walk, err := registry.Transfer(ctx, registry.OpVerify, src, nil, registry.DiscardSink(), nil, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, b := range walk.Blobs {
		if has, _ := sink.HasBlob(ctx, b.Digest); has {
			found++
		}
	}
	if found == 0 {
		t.Fatal("the two images share no blob; the test needs some")
	}
	rep, err := reg.Delete(ctx, []registry.Ref{ref}, registry.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Kept) != found || len(rep.Blobs) == 0 {
		t.Fatalf("the sweep kept %d blobs (the push found %d) and removed %d", len(rep.Kept), found, len(rep.Blobs))
	}
	if _, err := reg.Push(ctx, st, ids[1], ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Verify(ctx, ref, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatalf("the pushed image: %v", err)
	}
}
