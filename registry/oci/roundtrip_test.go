package oci

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// rawManifest reads the OCI manifest bytes at a reference through the
// backend's own client.
func rawManifest(t testing.TB, ref string) []byte {
	t.Helper()
	r, err := registry.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
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

// TestRoundTrip: push → ls → tags → inspect → verify → pull against real
// registries, then a second push that must skip every blob.
func TestRoundTrip(t *testing.T) {
	v := loadVectors(t)
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			ctx := context.Background()
			host := srv.start(t)
			st, id := fixtureStore(t)
			if string(id) != v.Fixture.ImageCID {
				t.Fatalf("fixture id %s", id)
			}
			ref := "oci://" + host + "/pf/fixture:v1"
			reg, r := open(t, ref)

			rep, err := reg.Push(ctx, st, id, r, registry.TransferOptions{})
			if err != nil {
				t.Fatalf("push: %v", err)
			}
			if rep.Transferred != len(v.Fixture.WalkOrder) || rep.Skipped != 0 {
				t.Fatalf("first push: %d transferred, %d skipped", rep.Transferred, rep.Skipped)
			}
			// The stored bytes are the fixture's, so the OCI manifest must be
			// the vector byte for byte.
			if got := string(rawManifest(t, ref)); got != v.Fixture.OCIManifest {
				t.Fatalf("pushed OCI manifest differs from the vector:\n%s", got)
			}

			root, err := registry.ParseRoot("oci://" + host)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := reg.List(ctx, root, registry.ListOptions{})
			if err != nil {
				t.Fatalf("ls: %v", err)
			}
			if !slices.ContainsFunc(ls.Repos, func(e registry.RepoEntry) bool { return e.Name == "pf/fixture" }) {
				t.Fatalf("ls: %+v", ls)
			}

			repoRef, _ := registry.ParseRef("oci://" + host + "/pf/fixture")
			tags, err := reg.Tags(ctx, repoRef, registry.ListOptions{})
			if err != nil {
				t.Fatalf("tags: %v", err)
			}
			if len(tags.Tags) != 1 || tags.Tags[0].Name != "v1" || tags.Tags[0].Foreign || tags.Tags[0].Ref != ref {
				t.Fatalf("tags: %+v", tags)
			}
			if got := tags.Tags[0].Updated.UTC().Format(time.RFC3339Nano); got != "2026-05-06T12:34:56.123456789Z" {
				t.Fatalf("tag created at %s", got)
			}

			in, err := reg.Inspect(ctx, r)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if in.ImageID != id || in.Signature.Status() != signing.DefaultKey {
				t.Fatalf("inspect: id %s, signature %+v", in.ImageID, in.Signature)
			}
			for _, deep := range []bool{false, true} {
				vr, err := reg.Verify(ctx, r, registry.VerifyOptions{Deep: deep})
				if err != nil || !vr.Complete {
					t.Fatalf("verify deep=%v: %v %+v", deep, err, vr)
				}
			}

			dst := newStore(t)
			pr, err := reg.Pull(ctx, r, dst, registry.TransferOptions{})
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if !pr.Complete || pr.Inspection.ImageID != id || !dst.HasImage(id) {
				t.Fatalf("pull: %+v", pr)
			}
			for _, w := range v.Fixture.WalkOrder {
				if !dst.HasBlob(w.Digest) {
					t.Fatalf("pulled store lacks %s", w.Role)
				}
			}

			// Second push: every blob is already there.
			var skippedEvents int
			rep2, err := reg.Push(ctx, st, id, r, registry.TransferOptions{Progress: func(e registry.Event) {
				if e.Kind == registry.KindBlob && e.Phase == registry.PhaseSkipped {
					skippedEvents++
				}
			}})
			if err != nil {
				t.Fatalf("second push: %v", err)
			}
			if rep2.Transferred != 0 || rep2.Skipped != len(v.Fixture.WalkOrder) || skippedEvents != rep2.Skipped {
				t.Fatalf("second push: %d transferred, %d skipped, %d skip events", rep2.Transferred, rep2.Skipped, skippedEvents)
			}
			if got := string(rawManifest(t, ref)); got != v.Fixture.OCIManifest {
				t.Fatalf("second push changed the manifest:\n%s", got)
			}

			// By digest as well as by tag.
			dref := "oci://" + host + "/pf/fixture@" + v.Fixture.OCIManifestDigest
			dreg, dr := open(t, dref)
			if dr.Digest == "" {
				t.Fatalf("digest ref not parsed: %+v", dr)
			}
			in2, err := dreg.Inspect(ctx, dr)
			if err != nil || in2.ImageID != id {
				t.Fatalf("inspect by digest: %v", err)
			}
		})
	}
}

// TestCopyMatrix copies the fixture between oci://, oci-layout: and file://
// in every direction; the image ID never changes.
func TestCopyMatrix(t *testing.T) {
	v := loadVectors(t)
	ctx := context.Background()
	host := startDistribution(t)
	dir := t.TempDir()
	fixture, err := filepath.Abs(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ from, to string }{
		{"file://" + fixture, "oci://" + host + "/copy/a:1"},
		{"oci://" + host + "/copy/a:1", "oci-layout:" + dir + "/layout#a"},
		{"oci-layout:" + dir + "/layout#a", "file://" + dir + "/file-a"},
		{"file://" + dir + "/file-a", "oci-layout:" + dir + "/layout#b"},
		{"oci-layout:" + dir + "/layout#b", "oci://" + host + "/copy/b:1"},
		{"oci://" + host + "/copy/b:1", "file://" + dir + "/file-b"},
		{"oci://" + host + "/copy/a:1", "oci://" + host + "/copy/c:1"},
	}
	for _, s := range steps {
		sreg, sr := open(t, s.from)
		dreg, dr := open(t, s.to)
		rep, err := registry.Copy(ctx, sreg, sr, dreg, dr, registry.TransferOptions{})
		if err != nil {
			t.Fatalf("copy %s → %s: %v", s.from, s.to, err)
		}
		if rep.Inspection.ImageID != model.Digest(v.Fixture.ImageCID) || !rep.Complete {
			t.Fatalf("copy %s → %s: id %s complete %v", s.from, s.to, rep.Inspection.ImageID, rep.Complete)
		}
		in, err := dreg.Inspect(ctx, dr)
		if err != nil || in.ImageID != model.Digest(v.Fixture.ImageCID) || !in.Signature.OK() {
			t.Fatalf("inspect %s: %v %+v", s.to, err, in)
		}
		vr, err := dreg.Verify(ctx, dr, registry.VerifyOptions{Deep: true})
		if err != nil || !vr.Complete {
			t.Fatalf("verify %s: %v", s.to, err)
		}
		if dr.Scheme != "file" {
			// Stored bytes pass through unchanged, so every OCI copy has
			// exactly the vector's manifest.
			if got := string(rawManifest(t, s.to)); got != v.Fixture.OCIManifest {
				t.Fatalf("%s: OCI manifest differs from the vector:\n%s", s.to, got)
			}
		}
	}

	// The layout lists both tags as images.
	lreg, lr := open(t, "oci-layout:"+dir+"/layout")
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
	// Paging through the layout one tag at a time.
	p1, err := lreg.Tags(ctx, lr, registry.ListOptions{Limit: 1})
	if err != nil || len(p1.Tags) != 1 || p1.Tags[0].Name != "a" || p1.Next != "a" {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	p2, err := lreg.Tags(ctx, lr, registry.ListOptions{Limit: 1, After: p1.Next})
	if err != nil || len(p2.Tags) != 1 || p2.Tags[0].Name != "b" {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
}
