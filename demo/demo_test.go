package demo_test

import (
	"path/filepath"
	"testing"

	"pf-registry/demo"
)

func TestGenerateDemo(t *testing.T) {
	res, err := demo.Generate(filepath.Join(t.TempDir(), "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 10 {
		t.Fatalf("%d images", len(res.Images))
	}
}
