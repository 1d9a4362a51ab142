package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regclient/regclient"
	"github.com/regclient/regclient/types/descriptor"
	"github.com/regclient/regclient/types/errs"
	"github.com/regclient/regclient/types/manifest"
	"github.com/regclient/regclient/types/mediatype"
	v1 "github.com/regclient/regclient/types/oci/v1"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/registry/oci/ocitest"
	"pf-registry/registry/registrytest"
)

// deleting: the registries with deletes enabled (the conformance suite's
// own, whose deletion property runs there too).
var deleting = []string{distributionV3, dockerRegistry}

// seq makes repository names unique on the servers, which the package's
// tests share (under -count=N too).
var seq atomic.Int64

// The signatures of a deleted manifest go with it: a referrer (an artifact
// whose subject is the manifest) and a cosign-style sha256-<hex>.sig tag.
func TestDeleteRemovesSignatures(t *testing.T) {
	for _, name := range deleting {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			host := server(t, name).Host
			st, id := registrytest.FixtureStore(t)
			reg, r := open(t, fmt.Sprintf("oci://%s/signed%d:v1", host, seq.Add(1)))
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
			referrer := putSignature(t, l, &subject, "")
			sigTag := "sha256-" + strings.TrimPrefix(subject.Digest.String(), "sha256:") + ".sig"
			putSignature(t, l, nil, sigTag)
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

// putSignature pushes a small OCI artifact standing for a signature, as a
// referrer of subject or under tag, and returns its digest.
func putSignature(t *testing.T, l location, subject *descriptor.Descriptor, tag string) string {
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

// A registry that refuses deletes (distribution's default, and
// docker-registry configured so) gives one clear line, and the image stays
// whole.
func TestDeleteRefusedByRegistry(t *testing.T) {
	for name, start := range map[string]func() (*ocitest.Server, error){
		distributionV3: func() (*ocitest.Server, error) { return ocitest.StartDistributionWith(0, false), nil },
		dockerRegistry: func() (*ocitest.Server, error) { return ocitest.StartDebianWith("", false) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv, err := start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Stop)
			st, id := registrytest.FixtureStore(t)
			reg, r := open(t, "oci://"+srv.Host+"/kept:v1")
			if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
				t.Fatal(err)
			}
			_, err = reg.Delete(ctx, []registry.Ref{r}, registry.DeleteOptions{})
			if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "refuses to delete") ||
				!strings.Contains(err.Error(), "405") || fault.Hint(err) == "" {
				t.Fatalf("delete on a registry without deletes: %v (hint %q)", err, fault.Hint(err))
			}
			if _, err := reg.Verify(ctx, r, registry.VerifyOptions{Deep: true}); err != nil {
				t.Fatalf("the image was damaged by a refused delete: %v", err)
			}
		})
	}
}

// Retag puts the same manifest under a new tag (one digest, so every
// signature still applies); another repository is refused.
func TestRetagSameDigest(t *testing.T) {
	ctx := context.Background()
	host := server(t, dockerRegistry).Host
	st, id := registrytest.FixtureStore(t)
	n := seq.Add(1)
	reg, r := open(t, fmt.Sprintf("oci://%s/agent%d:v1", host, n))
	if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	_, dst := open(t, fmt.Sprintf("oci://%s/agent%d:stable", host, n))
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
	_, other := open(t, fmt.Sprintf("oci://%s/elsewhere%d:v1", host, n))
	if _, err := reg.Retag(ctx, r, other); !errors.Is(err, fault.ErrUsage) {
		t.Fatalf("retag to another repository: %v", err)
	}
}
