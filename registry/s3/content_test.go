package s3_test

import (
	"path/filepath"
	"testing"

	"pf-registry/registry/contenttest"
	"pf-registry/registry/registrytest"
)

func TestContentConformance(t *testing.T) {
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	contenttest.Check(t, openReg(t, nil), st, id, registrytest.MustRef(t, "s3://"+newBucket(t)+"/agents/browse"))
}
