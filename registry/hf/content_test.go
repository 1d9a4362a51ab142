package hf

import (
	"path/filepath"
	"testing"

	"pf-registry/registry/contenttest"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
)

func TestContentConformance(t *testing.T) {
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	h := startHub(t, hubtest.Options{})
	contenttest.Check(t, open(t, h, aliceToken), st, id, registrytest.MustRef(t, "hf://alice/browse:main"))
}
