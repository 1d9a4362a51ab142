package file_test

import (
	"path/filepath"
	"testing"

	"pf-registry/registry/contenttest"
)

func TestContentConformance(t *testing.T) {
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	reg, ref := openFile(t, "file://"+filepath.Join(t.TempDir(), "reg", "agent", "v1"))
	contenttest.Check(t, reg, st, id, ref)
}
