package file_test

import (
	"os"
	"path/filepath"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/signtest"
)

// dirFiles reads and replaces the files of an image directory directly.
type dirFiles struct{}

func (dirFiles) Names(t testing.TB, ref registry.Ref) []string {
	ents, err := os.ReadDir(ref.Path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}

func (dirFiles) Read(t testing.TB, ref registry.Ref, name string) []byte {
	b, err := os.ReadFile(filepath.Join(ref.Path, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (dirFiles) Write(t testing.TB, ref registry.Ref, name string, data []byte) registry.Ref {
	if err := os.WriteFile(filepath.Join(ref.Path, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestSignatures(t *testing.T) {
	signtest.Run(t, signtest.Harness{
		Open: signtest.Opener("file"),
		NewRef: func(t testing.TB) registry.Ref {
			r, err := registry.ParseRef("file://" + filepath.Join(t.TempDir(), "img"))
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		Files: dirFiles{},
	})
}
