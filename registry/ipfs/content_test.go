package ipfs

import (
	"fmt"
	"path/filepath"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/contenttest"
	"pf-registry/registry/registrytest"
)

func TestContentConformance(t *testing.T) {
	needDaemon(t)
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	name := fmt.Sprintf("ipfs://browse-%d:v1", runSeq.Add(1))
	contenttest.Check(t, openIPFS(t, registry.Config{}), st, id, registrytest.MustRef(t, name))
}
