package s3_test

import (
	"os"
	"path/filepath"
	"testing"

	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/oci"
	"pf-registry/registry/oci/ocitest"
	"pf-registry/registry/registrytest"
)

// The fixture goes file → s3 → oci → s3 → oci-layout → s3 → file; the
// image ID never changes and every copy verifies deeply.
func TestCopyThroughOCIKeepsImageID(t *testing.T) {
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
		if r := registrytest.MustRef(t, s); r.Scheme == "s3" {
			return s3reg, r
		}
		return registrytest.Open(t, s, registry.Config{})
	}
	registrytest.CopyAlong(t, want, open, nil,
		"file://"+fixture,
		"s3://"+bkt+"/a",
		"oci://"+host+"/pf/img:1",
		"s3://"+bkt+"/b",
		"oci-layout:"+dir+"/layout#x",
		"s3://"+bkt+"/c",
		"file://"+dir+"/back")
	back, _ := os.ReadFile(filepath.Join(dir, "back", "manifest.json"))
	if string(back) != string(raw) {
		t.Error("manifest bytes changed on the way")
	}
}
