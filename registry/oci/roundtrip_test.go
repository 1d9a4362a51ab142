package oci

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// rawManifest reads the OCI manifest bytes at a reference through the
// backend's own client.
func rawManifest(t testing.TB, ref string) []byte {
	t.Helper()
	r := registrytest.MustRef(t, ref)
	b := New(registry.Config{})
	if r.Scheme == registry.LayoutScheme {
		b = NewLayout(registry.Config{})
	}
	l, err := b.locate(r)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := getManifest(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestManifestIsTheVector: the fixture's stored bytes pass through a push
// unchanged, so the OCI manifest is the spec's vector byte for byte, on
// every registry and after a second push; the tag shows the image's
// creation time, and the digest reference reads the same image.
func TestManifestIsTheVector(t *testing.T) {
	fx := vectors.LoadFixture(t)
	for _, name := range []string{distributionV3, dockerRegistry, relativeUploads} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			host := server(t, name).Host
			st, id := registrytest.FixtureStore(t)
			ref := "oci://" + host + "/pf/vector:v1"
			reg, r := open(t, ref)
			for i := 0; i < 2; i++ {
				if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
					t.Fatalf("push %d: %v", i+1, err)
				}
				if got := string(rawManifest(t, ref)); got != fx.OCIManifest {
					t.Fatalf("push %d: OCI manifest differs from the vector:\n%s", i+1, got)
				}
			}
			tags, err := reg.Tags(ctx, registrytest.MustRef(t, "oci://"+host+"/pf/vector"), registry.ListOptions{})
			if err != nil || len(tags.Tags) != 1 || tags.Tags[0].Ref != ref {
				t.Fatalf("tags: %+v, %v", tags, err)
			}
			if got := tags.Tags[0].Updated.UTC().Format(time.RFC3339Nano); got != "2026-05-06T12:34:56.123456789Z" {
				t.Fatalf("tag created at %s", got)
			}
			dreg, dr := open(t, "oci://"+host+"/pf/vector@"+fx.OCIManifestDigest)
			if dr.Digest == "" {
				t.Fatalf("digest ref not parsed: %+v", dr)
			}
			if in, err := dreg.Inspect(ctx, dr); err != nil || in.ImageID != id {
				t.Fatalf("inspect by digest: %v", err)
			}
		})
	}
}

// TestCopyMatrix copies the fixture between oci://, oci-layout: and file://
// in every direction; the image ID never changes, and every OCI copy has
// the vector's manifest.
func TestCopyMatrix(t *testing.T) {
	fx := vectors.LoadFixture(t)
	ctx := context.Background()
	host := server(t, distributionV3).Host
	dir := t.TempDir()
	fixture := vectors.FixtureDir()
	vectorManifest := func(dst registry.Ref) {
		if dst.Scheme == "file" {
			return
		}
		if got := string(rawManifest(t, dst.Raw)); got != fx.OCIManifest {
			t.Fatalf("%s: OCI manifest differs from the vector:\n%s", dst.Raw, got)
		}
	}
	id := model.Digest(fx.ImageCID)
	registrytest.CopyAlong(t, id, nil, vectorManifest,
		"file://"+fixture,
		"oci://"+host+"/copy/a:1",
		"oci-layout:"+dir+"/layout#a",
		"file://"+dir+"/file-a",
		"oci-layout:"+dir+"/layout#b",
		"oci://"+host+"/copy/b:1",
		"file://"+dir+"/file-b")
	registrytest.CopyAlong(t, id, nil, vectorManifest, "oci://"+host+"/copy/a:1", "oci://"+host+"/copy/c:1")

	// The layout lists both tags as images.
	lreg, lr := open(t, "oci-layout:"+filepath.Join(dir, "layout"))
	tags, err := lreg.Tags(ctx, lr, registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range tags.Tags {
		if tg.Foreign {
			t.Fatalf("layout tag %s marked foreign", tg.Name)
		}
		names = append(names, tg.Name)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("layout tags %v", names)
	}
}
