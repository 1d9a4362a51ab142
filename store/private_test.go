package store_test

import (
	"io/fs"
	"path/filepath"
	"testing"

	"pf-registry/store"
)

// TestStoreIsPrivate: pulled images can hold environment data, so a store
// this tool creates is readable by its user only: directories 0700, files
// 0600, whatever the umask.
func TestStoreIsPrivate(t *testing.T) {
	root := filepath.Join(t.TempDir(), "new", "store")
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutImage([]byte(`{"schema_version":1}`)); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 7 { // root, blobs, sha256, a shard, the blob, images, the marker
		t.Fatalf("only %d entries checked", n)
	}
}
