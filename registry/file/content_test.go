package file_test

import (
	"path/filepath"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/contenttest"
	"pf-registry/registry/registrytest"
)

func TestContentConformance(t *testing.T) {
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	reg, ref := registrytest.Open(t, "file://"+filepath.Join(t.TempDir(), "reg", "agent", "v1"), registry.Config{})
	contenttest.Check(t, reg, st, id, ref)
}
