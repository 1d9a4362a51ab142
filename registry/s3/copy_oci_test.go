package s3_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/oci"
	"pf-registry/registry/oci/ocitest"
)

// The fixture goes file → s3 → oci → s3 → oci-layout → s3 → file; the
// image ID never changes and every s3 copy verifies deeply.
func TestCopyThroughOCIKeepsImageID(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	host := ocitest.Distribution(t)
	dir := t.TempDir()
	fixture := vectors.FixtureDir()
	raw, err := os.ReadFile(filepath.Join(fixture, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := model.FromBytes(raw)
	s3reg := openReg(t, nil)
	open := func(s string) (registry.Registry, registry.Ref) {
		r := ref(t, s)
		if r.Scheme == "s3" {
			return s3reg, r
		}
		reg, err := registry.Open(r.Scheme, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return reg, r
	}
	steps := []struct{ from, to string }{
		{"file://" + fixture, "s3://" + bkt + "/a"},
		{"s3://" + bkt + "/a", "oci://" + host + "/pf/img:1"},
		{"oci://" + host + "/pf/img:1", "s3://" + bkt + "/b"},
		{"s3://" + bkt + "/b", "oci-layout:" + dir + "/layout#x"},
		{"oci-layout:" + dir + "/layout#x", "s3://" + bkt + "/c"},
		{"s3://" + bkt + "/c", "file://" + dir + "/back"},
	}
	for _, s := range steps {
		sreg, sr := open(s.from)
		dreg, dr := open(s.to)
		rep, err := registry.Copy(ctx, sreg, sr, dreg, dr, registry.TransferOptions{})
		if err != nil {
			t.Fatalf("copy %s → %s: %v", s.from, s.to, err)
		}
		if rep.Inspection.ImageID != want || !rep.Complete {
			t.Fatalf("copy %s → %s: id %s (want %s), complete %v", s.from, s.to, rep.Inspection.ImageID, want, rep.Complete)
		}
		if dr.Scheme == "s3" {
			vr, err := dreg.Verify(ctx, dr, registry.VerifyOptions{Deep: true})
			if err != nil || !vr.Complete || vr.Inspection.ImageID != want {
				t.Fatalf("verify %s: %v", s.to, err)
			}
		}
	}
	back, _ := os.ReadFile(filepath.Join(dir, "back", "manifest.json"))
	if string(back) != string(raw) {
		t.Error("manifest bytes changed on the way")
	}
}
