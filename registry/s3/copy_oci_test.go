package s3_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"

	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/oci"
)

// startDistribution runs an OCI registry (distribution v3, in memory) on
// 127.0.0.1 and returns host:port.
func startDistribution(t testing.TB) string {
	t.Helper()
	logrus.SetOutput(io.Discard) // it logs every 404 HEAD at error level
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &configuration.Configuration{Storage: configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}}
	cfg.HTTP.Secret = "test-secret"
	cfg.Log.AccessLog.Disabled = true
	cfg.Log.Level = "error"
	srv := httptest.NewServer(handlers.NewApp(ctx, cfg))
	t.Cleanup(func() { srv.Close(); cancel() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// The fixture goes file → s3 → oci → s3 → oci-layout → s3 → file; the
// image ID never changes and every s3 copy verifies deeply.
func TestCopyThroughOCIKeepsImageID(t *testing.T) {
	ctx := context.Background()
	bkt := newBucket(t)
	host := startDistribution(t)
	dir := t.TempDir()
	fixture, _ := filepath.Abs("../../testdata/file-registry-example")
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
