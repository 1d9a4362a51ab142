package oci

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
)

// TestBuildManifestMatchesFixture builds the OCI manifest from the fixture's
// stored bytes and compares it byte for byte with the vector.
func TestBuildManifestMatchesFixture(t *testing.T) {
	fx := vectors.LoadFixture(t)
	man, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), "manifest.json.sig"))
	if err != nil {
		t.Fatal(err)
	}
	var layers []Layer
	for _, w := range fx.WalkOrder {
		stored, err := os.ReadFile(filepath.Join(vectors.FixtureDir(), w.Path))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(model.FromBytes(stored)); got != w.StoredSHA256 {
			t.Fatalf("%s: stored digest %s, vector says %s", w.Path, got, w.StoredSHA256)
		}
		layers = append(layers, Layer{Logical: model.Digest(w.Digest), Stored: Descriptor{
			MediaType: MediaTypeLayer, Size: int64(len(stored)), Digest: w.StoredSHA256}})
	}
	got := BuildManifest(
		Descriptor{MediaType: MediaTypeConfig, Size: int64(len(man)), Digest: string(model.FromBytes(man))},
		Descriptor{MediaType: MediaTypeSignature, Size: int64(len(sig)), Digest: string(model.FromBytes(sig))},
		layers)
	if string(got) != fx.OCIManifest {
		t.Fatalf("OCI manifest differs from the vector\n got: %s\nwant: %s", got, fx.OCIManifest)
	}
	if d := string(model.FromBytes(got)); d != fx.OCIManifestDigest {
		t.Fatalf("manifest digest %s, want %s", d, fx.OCIManifestDigest)
	}

	// And it parses back into the same layers.
	im, err := ParseImage(got)
	if err != nil {
		t.Fatal(err)
	}
	if im.Config.Digest != fx.ImageCID || im.Signature == nil || len(im.Layers) != len(layers) {
		t.Fatalf("parsed back wrong: config %s, sig %v, %d layers", im.Config.Digest, im.Signature, len(im.Layers))
	}
	for i, l := range layers {
		got, ok := im.Layer(l.Logical)
		if !ok || got.Stored.Digest != l.Stored.Digest || im.Layers[i].Logical != l.Logical {
			t.Fatalf("layer %d: %+v", i, got)
		}
	}
}

func TestParseImageRejects(t *testing.T) {
	fx := vectors.LoadFixture(t)
	good := fx.OCIManifest
	firstPath := fx.WalkOrder[0].Path
	cases := []struct {
		name      string
		raw       string
		integrity bool // else: a foreign (non-ProcessFork) manifest
	}{
		{"not json", "{", true},
		{"container image", strings.Replace(good, MediaTypeConfig, "application/vnd.oci.image.config.v1+json", 1), false},
		{"index", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, false},
		{"schema 1", strings.Replace(good, `"schemaVersion":2`, `"schemaVersion":1`, 1), true},
		{"docker media type", strings.Replace(good, MediaTypeManifest, "application/vnd.docker.distribution.manifest.v2+json", 1), true},
		{"traversal", strings.Replace(good, firstPath, "blobs/sha256/../../../etc/passwd.zst", 1), true},
		{"unsharded", strings.Replace(good, firstPath, strings.Replace(firstPath, "/a8/", "/", 1), 1), true},
		{"wrong shard", strings.Replace(good, firstPath, strings.Replace(firstPath, "/a8/", "/a9/", 1), 1), true},
		{"uppercase hex", strings.Replace(good, firstPath, strings.ToUpper(firstPath[:len(firstPath)-4])+".zst", 1), true},
		{"absolute", strings.Replace(good, firstPath, "/"+firstPath, 1), true},
		{"missing annotation", strings.Replace(good, `,"annotations":{"org.processfork.path":"`+firstPath+`"}`, "", 1), true},
		{"bad layer digest", strings.Replace(good, fx.WalkOrder[0].StoredSHA256, "sha256:abc", 1), true},
		{"bad config digest", strings.Replace(good, fx.ImageCID, "sha256:"+strings.Repeat("G", 64), 1), true},
	}
	noMediaType := strings.Replace(good, `"mediaType":"`+MediaTypeManifest+`",`, "", 1)
	if im, err := ParseImage([]byte(noMediaType)); err != nil || len(im.Layers) != len(fx.WalkOrder) || noMediaType == good {
		t.Fatalf("manifest without mediaType: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.raw == good {
				t.Fatal("case did not change the manifest")
			}
			_, err := ParseImage([]byte(c.raw))
			if err == nil {
				t.Fatal("accepted")
			}
			var foreign *errNotProcessFork
			if got := errors.As(err, &foreign); got == c.integrity {
				t.Fatalf("foreign=%v, want %v: %v", got, !c.integrity, err)
			}
			if c.integrity && !errors.Is(err, fault.ErrIntegrity) {
				t.Fatalf("not an integrity error: %v", err)
			}
		})
	}
}
