package registry_test

import (
	"path/filepath"
	"testing"

	"pf-registry/demo"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
)

// The file backend answers the credentials capability, and WalkSource
// lists every blob of a demo image with its stored size and the metadata
// the walk read.
func TestCapabilities(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	res, err := demo.Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, ref, err := registry.ForRef(res.Root+"/ci/nightly/2026-11-25", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := registry.Credentials(reg); got != "local files" {
		t.Errorf("file credentials = %q", got)
	}
	in, err := reg.Inspect(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	src, err := reg.Source(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	w, err := registry.WalkSource(t.Context(), src, in.Manifest, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Blobs) < len(in.Blobs) {
		t.Fatalf("walk has %d blobs, fewer than the %d top-level ones", len(w.Blobs), len(in.Blobs))
	}
	for _, b := range w.Blobs {
		if b.StoredSize <= 0 || b.Role == "" {
			t.Fatalf("blob %+v lacks its size or role", b)
		}
	}
	if _, ok := w.Metadata[in.Manifest.World.FS]; !ok {
		t.Fatal("the fs tree the walk read is not returned")
	}
	// No stat budget: sizes of non-metadata blobs are unknown.
	w0, err := registry.WalkSource(t.Context(), src, in.Manifest, 0)
	if err != nil {
		t.Fatal(err)
	}
	unknown := 0
	for _, b := range w0.Blobs {
		if b.StoredSize < 0 {
			unknown++
		}
	}
	if unknown == 0 {
		t.Fatal("a zero stat budget still looked sizes up")
	}
}
