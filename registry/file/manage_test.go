package file_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/managetest"
)

func TestDeleteKeepsTheRest(t *testing.T) {
	base := t.TempDir()
	reg, _ := openFile(t, "file://"+base)
	managetest.DeleteKeepsTheRest(t, reg, func(t testing.TB, i int) registry.Ref {
		r, err := registry.ParseRef("file://" + filepath.Join(base, "repo", fmt.Sprintf("t%03d", i)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}, 4)
}
