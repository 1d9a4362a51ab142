package oci

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// TestLayoutMarkerMended: regclient rewrites a layout's oci-layout file in
// place on every index update, so a writer killed at the wrong moment
// leaves it empty (the conformance crash loop met this). The next use
// restores it and the image is whole; read-only mode writes nothing and
// says how to mend it; a directory that is not a layout is left alone.
func TestLayoutMarkerMended(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "layout")
	marker := filepath.Join(dir, "oci-layout")
	st, id := registrytest.SmallImage(t, 5)
	reg, ref := open(t, "oci-layout:"+dir+"#v1")
	if _, err := reg.Push(ctx, st, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, damage := range []string{"", `{"imageLayoutVer`} {
		if err := os.WriteFile(marker, []byte(damage), 0o644); err != nil {
			t.Fatal(err)
		}
		ro, _ := registrytest.Open(t, ref.Raw, registry.Config{ReadOnly: true})
		_, err := ro.Inspect(ctx, ref)
		if err == nil || !strings.Contains(err.Error(), "oci-layout file is damaged") || !errors.Is(err, fault.ErrReadOnly) ||
			!strings.Contains(fault.Hint(err), "--readonly") {
			t.Fatalf("read-only inspect of a damaged layout (%q): %v (hint %q)", damage, err, fault.Hint(err))
		}
		if b, _ := os.ReadFile(marker); string(b) != damage {
			t.Fatalf("read-only mode wrote the marker: %q", b)
		}
		rep, err := reg.Verify(ctx, ref, registry.VerifyOptions{Deep: true})
		if err != nil || !rep.Complete || rep.Inspection.ImageID != id {
			t.Fatalf("verify after the marker was damaged (%q): %v", damage, err)
		}
		if b, _ := os.ReadFile(marker); string(b) != layoutMarker {
			t.Fatalf("marker after the mend: %q", b)
		}
	}

	// A push to a damaged layout leaves one that opens, with the tags
	// already there kept (regclient alone leaves the marker damaged).
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st2, id2 := registrytest.SmallImage(t, 6)
	ref2 := registrytest.MustRef(t, "oci-layout:"+dir+"#v2")
	if _, err := reg.Push(ctx, st2, id2, ref2, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	for r, want := range map[registry.Ref]model.Digest{ref: id, ref2: id2} {
		in, err := reg.Inspect(ctx, r)
		if err != nil || in.ImageID != want {
			t.Fatalf("%s after a push to the damaged layout: %v", r.Raw, err)
		}
	}

	// No index beside it: not a layout this tool vouches for.
	other := filepath.Join(t.TempDir(), "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "oci-layout"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	oreg, oref := open(t, "oci-layout:"+other+"#v1")
	if _, err := oreg.Inspect(ctx, oref); err == nil || !strings.Contains(fault.Hint(err), "OCI image layout") {
		t.Fatalf("inspect of a directory with an empty marker and no index: %v (hint %q)", err, fault.Hint(err))
	}
	if b, err := os.ReadFile(filepath.Join(other, "oci-layout")); err != nil || len(b) != 0 {
		t.Fatalf("the marker of a directory without an index was touched: %q %v", b, err)
	}
}
