package durable_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"pf-registry/internal/durable"
)

// stage writes a file in dir/tmp and hands it to b, to be renamed to
// dir/<name>.
func stage(t *testing.T, b *durable.Batch, dir, name string, place func(tmp, dst string) error) error {
	t.Helper()
	f, err := os.CreateTemp(filepath.Join(dir, "tmp"), name+".*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("content of " + name); err != nil {
		t.Fatal(err)
	}
	tmp, dst := f.Name(), filepath.Join(dir, name)
	return b.Add(f, func() error { return place(tmp, dst) }, func() { os.Remove(tmp) })
}

func setup(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Files added from many goroutines are all in place, with their bytes,
// once Wait returns, and nothing is left in staging.
func TestBatchPlacesEveryFile(t *testing.T) {
	dir := setup(t)
	b := durable.NewBatch(dir)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if err := stage(t, b, dir, fmt.Sprint("f", i), os.Rename); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		name := fmt.Sprint("f", i)
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != "content of "+name {
			t.Fatalf("%s: %q, %v", name, got, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("left in staging: %d files", len(ents))
	}
	// The batch can be used again after Wait.
	if err := stage(t, b, dir, "again", os.Rename); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "again")); err != nil {
		t.Fatal(err)
	}
}

// A file that cannot be placed fails the batch: Wait and every later Add
// report it, and no file of the batch stays in staging.
func TestBatchFailureIsSticky(t *testing.T) {
	dir := setup(t)
	b := durable.NewBatch(dir)
	refused := errors.New("refused")
	if err := stage(t, b, dir, "bad", func(string, string) error { return refused }); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); !errors.Is(err, refused) {
		t.Fatalf("Wait after a failed placement: %v", err)
	}
	if err := stage(t, b, dir, "later", os.Rename); !errors.Is(err, refused) {
		t.Fatalf("Add after a failed placement: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "later")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file added after the failure was placed: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("left in staging: %d files", len(ents))
	}
}

// A batch on a directory that does not exist cannot sync: nothing is
// placed.
func TestBatchSyncFailurePlacesNothing(t *testing.T) {
	dir := setup(t)
	b := durable.NewBatch(filepath.Join(dir, "missing"))
	if err := stage(t, b, dir, "f", os.Rename); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err == nil {
		t.Fatal("Wait succeeded without a sync")
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("placed without a sync: %v", err)
	}
}

// TestWriteFile: the file is replaced whole with the permissions asked for,
// no temporary file stays behind, and a failure leaves nothing.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	for _, c := range []struct {
		data string
		perm os.FileMode
	}{{"first", 0o600}, {"second, longer than the first", 0o644}, {"", 0o640}} {
		if err := durable.WriteFile(path, []byte(c.data), c.perm); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != c.data {
			t.Fatalf("content %q, %v; want %q", b, err, c.data)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != c.perm {
			t.Fatalf("mode %v, want %v", fi.Mode().Perm(), c.perm)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("directory holds %d entries, want the file alone", len(ents))
		}
	}
	if err := durable.WriteFile(filepath.Join(dir, "missing", "x"), []byte("x"), 0o644); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	// A directory in the way: the rename fails and the temporary file goes.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := durable.WriteFile(filepath.Join(dir, "sub"), []byte("x"), 0o644); err == nil {
		t.Fatal("write over a non-empty directory succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("a failed write left %d entries, want 2", len(ents))
	}
}
