package oci

import (
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/registry/contenttest"
)

func TestContentConformance(t *testing.T) {
	st, id := contenttest.Image(t, filepath.Join(t.TempDir(), "store"))
	host := server(t, distributionV3).Host
	for _, ref := range []string{"oci://" + host + "/alice/agent:v1", "oci-layout:" + filepath.Join(t.TempDir(), "layout") + "#v1"} {
		scheme, _, _ := strings.Cut(ref, ":")
		t.Run(scheme, func(t *testing.T) {
			reg, r := open(t, ref)
			contenttest.Check(t, reg, st, id, r)
		})
	}
}
