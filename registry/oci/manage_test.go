package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regclient/regclient"
	"github.com/regclient/regclient/types/descriptor"
	"github.com/regclient/regclient/types/errs"
	"github.com/regclient/regclient/types/manifest"
	"github.com/regclient/regclient/types/mediatype"
	v1 "github.com/regclient/regclient/types/oci/v1"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/registry/managetest"
)

// deleting registries: distribution v3 with deletes enabled, and the
// Debian docker-registry (whose configuration enables them).
var deleting = []struct {
	name  string
	start func(testing.TB) string
}{
	{"distribution-v3", func(t testing.TB) string { return startDistributionWith(t, true) }},
	{"docker-registry-2.8", func(t testing.TB) string { return startDebianRegistry(t).host }},
}

// Images of one repository share its blobs, and an image retagged under a
// second tag has one manifest for two tags: deleting any set of tags keeps
// every other one whole.
func TestDeleteKeepsTheRest(t *testing.T) {
	for _, srv := range deleting {
		t.Run(srv.name, func(t *testing.T) {
			host := srv.start(t)
			reg, _ := open(t, "oci://"+host+"/prop:x")
			managetest.DeleteKeepsTheRest(t, reg, func(t testing.TB, i int) registry.Ref {
				_, r := open(t, fmt.Sprintf("oci://%s/prop/r%d:t%03d", host, i/100, i))
				return r
			}, 2)
		})
	}
	t.Run("oci-layout", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "layout")
		reg, _ := open(t, "oci-layout:"+dir+"#x")
		managetest.DeleteKeepsTheRest(t, reg, func(t testing.TB, i int) registry.Ref {
			_, r := open(t, fmt.Sprintf("oci-layout:%s-%d#t%03d", dir, i/100, i))
			return r
		}, 2)
	})
}

// The signatures of a deleted manifest go with it: a referrer (an artifact
// whose subject is the manifest) and a cosign-style sha256-<hex>.sig tag.
func TestDeleteRemovesSignatures(t *testing.T) {
	for _, srv := range deleting {
		t.Run(srv.name, func(t *testing.T) {
			ctx := context.Background()
			host := srv.start(t)
			st, id := fixtureStore(t)
			reg, r := open(t, "oci://"+host+"/signed:v1")
			if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			l, err := New(registry.Config{}).locate(r)
			if err != nil {
				t.Fatal(err)
			}
			m, err := l.rc.ManifestHead(ctx, l.ref, regclient.WithManifestRequireDigest())
			if err != nil {
				t.Fatal(err)
			}
			subject := m.GetDescriptor()
			referrer := putArtifact(t, l, &subject, "")
			sigTag := "sha256-" + strings.TrimPrefix(subject.Digest.String(), "sha256:") + ".sig"
			putArtifact(t, l, nil, sigTag)
			if rl, err := l.rc.ReferrerList(ctx, l.ref.SetDigest(subject.Digest.String())); err != nil || len(rl.Descriptors) != 1 {
				t.Fatalf("the referrer was not recorded: %v %v", rl.Descriptors, err)
			}

			if _, err := reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, what := range []struct {
				name string
				ref  func() error
			}{
				{"image", func() error { _, err := l.rc.ManifestHead(ctx, l.ref.SetDigest(subject.Digest.String())); return err }},
				{"referrer", func() error { _, err := l.rc.ManifestHead(ctx, l.ref.SetDigest(referrer)); return err }},
				{"signature tag", func() error { _, err := l.rc.ManifestHead(ctx, l.ref.SetTag(sigTag)); return err }},
			} {
				if err := what.ref(); !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("%s after the delete: %v, want not found", what.name, err)
				}
			}
		})
	}
}

// putArtifact pushes a small OCI artifact, as a referrer of subject or
// under tag, and returns its digest.
func putArtifact(t *testing.T, l location, subject *descriptor.Descriptor, tag string) string {
	t.Helper()
	ctx := context.Background()
	body := []byte(`{"signature":"not a real one"}`)
	layer, err := l.rc.BlobPut(ctx, l.ref, descriptor.Descriptor{MediaType: "application/json"}, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	empty, err := l.rc.BlobPut(ctx, l.ref, descriptor.Descriptor{MediaType: mediatype.OCI1Empty}, bytes.NewReader(descriptor.EmptyData))
	if err != nil {
		t.Fatal(err)
	}
	empty.MediaType = mediatype.OCI1Empty
	layer.MediaType = "application/json"
	m, err := manifest.New(manifest.WithOrig(v1.Manifest{
		Versioned: v1.ManifestSchemaVersion, MediaType: mediatype.OCI1Manifest,
		ArtifactType: "application/vnd.example.signature", Config: empty,
		Layers: []descriptor.Descriptor{layer}, Subject: subject,
	}))
	if err != nil {
		t.Fatal(err)
	}
	dst := l.ref.SetDigest(m.GetDescriptor().Digest.String())
	if tag != "" {
		dst = l.ref.SetTag(tag)
	}
	if err := l.rc.ManifestPut(ctx, dst, m); err != nil {
		t.Fatal(err)
	}
	return m.GetDescriptor().Digest.String()
}

// A registry that refuses deletes (distribution's default) gives one clear
// line, and the image stays whole.
func TestDeleteRefusedByRegistry(t *testing.T) {
	ctx := context.Background()
	host := startDistribution(t)
	st, id := fixtureStore(t)
	reg, r := open(t, "oci://"+host+"/kept:v1")
	if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "refuses to delete") ||
		!strings.Contains(err.Error(), "405") || fault.Hint(err) == "" {
		t.Fatalf("delete on a registry without deletes: %v (hint %q)", err, fault.Hint(err))
	}
	if _, err := reg.Verify(ctx, r, registry.VerifyOptions{Deep: true}); err != nil {
		t.Fatalf("the image was damaged by a refused delete: %v", err)
	}
}

// Retag puts the same manifest under a new tag (one digest, so every
// signature still applies); another repository is refused.
func TestRetagSameDigest(t *testing.T) {
	ctx := context.Background()
	host := startDebianRegistry(t).host
	st, id := fixtureStore(t)
	reg, r := open(t, "oci://"+host+"/agent:v1")
	if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	_, dst := open(t, "oci://"+host+"/agent:stable")
	if _, err := reg.Retag(ctx, r, dst); err != nil {
		t.Fatal(err)
	}
	a, err := reg.Inspect(ctx, dst)
	if err != nil || a.ImageID != id {
		t.Fatalf("retagged image: %v", err)
	}
	l := func(ref registry.Ref) string {
		loc, _ := New(registry.Config{}).locate(ref)
		m, err := loc.rc.ManifestHead(ctx, loc.ref, regclient.WithManifestRequireDigest())
		if err != nil {
			t.Fatal(err)
		}
		return m.GetDescriptor().Digest.String()
	}
	if l(r) != l(dst) {
		t.Fatal("retag changed the manifest digest")
	}
	_, other := open(t, "oci://"+host+"/elsewhere:v1")
	if _, err := reg.Retag(ctx, r, other); !errors.Is(err, fault.ErrUsage) {
		t.Fatalf("retag to another repository: %v", err)
	}
}
