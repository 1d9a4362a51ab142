package store_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/store"
)

func open(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPutAndRead(t *testing.T) {
	st := open(t)
	content := []byte(strings.Repeat("kv page ", 5000))
	d, err := st.PutBytes(content)
	if err != nil || d != model.FromBytes(content) {
		t.Fatalf("PutBytes = %s, %v", d, err)
	}
	if !st.HasBlob(d) {
		t.Fatal("blob not present")
	}
	if _, err := os.Stat(filepath.Join(st.Root(), d.ShardPath())); err != nil {
		t.Fatalf("not at the sharded path: %v", err)
	}
	got, err := st.ReadBlob(d, 1<<20)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("ReadBlob: %v", err)
	}
	// Reads re-hash: a corrupted stored file is an integrity error.
	p := st.BlobPath(d)
	stored, _ := os.ReadFile(p)
	os.WriteFile(p, blob.CompressBytes([]byte("something else"), 1), 0o644)
	if _, err := st.ReadBlob(d, 1<<20); !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("corrupt blob read: %v, want integrity error", err)
	}
	os.WriteFile(p, stored, 0o644)
	if _, _, err := st.OpenBlob(model.FromBytes([]byte("absent"))); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("missing blob: %v", err)
	}
}

func TestPutStoredKeepsNothingUnverified(t *testing.T) {
	st := open(t)
	logical := []byte("hello store")
	stored := blob.CompressBytes(logical, 1)
	d := model.FromBytes(logical)

	// A stream that fails verification (wrong digest) leaves nothing.
	wrong := model.FromBytes([]byte("other"))
	err := st.PutStored(wrong, blob.NewVerifier(bytes.NewReader(stored), wrong, 0))
	if !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("PutStored of bad bytes = %v", err)
	}
	// A stream that breaks halfway leaves nothing.
	boom := errors.New("network down")
	err = st.PutStored(d, blob.NewVerifier(io.MultiReader(bytes.NewReader(stored[:5]), iotest.ErrReader(boom)), d, 0))
	if !errors.Is(err, boom) {
		t.Fatalf("PutStored of broken stream = %v", err)
	}
	if st.HasBlob(wrong) || st.HasBlob(d) {
		t.Fatal("an unverified blob entered the store")
	}
	if files, _ := st.StagingFiles(); len(files) != 0 {
		t.Fatalf("staging files left: %v", files)
	}
	if err := st.PutStored(d, blob.NewVerifier(bytes.NewReader(stored), d, 0)); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ReadBlob(d, 100); err != nil || string(got) != "hello store" {
		t.Fatalf("ReadBlob = %q, %v", got, err)
	}
	if err := st.PutStored("sha256:ABC", bytes.NewReader(stored)); err == nil {
		t.Fatal("malformed digest accepted")
	}
}

func TestImagesAndResolve(t *testing.T) {
	st := open(t)
	fx := vectors.LoadFixture(t)
	id, err := st.PutImage([]byte(fx.ManifestJSON))
	if err != nil || string(id) != fx.ImageCID {
		t.Fatalf("PutImage = %s, %v", id, err)
	}
	marker, err := os.ReadFile(filepath.Join(st.Root(), "images", id.Hex()+".json"))
	if err != nil || string(marker) != fx.ManifestJSON {
		t.Fatalf("marker: %v", err)
	}
	if !st.HasBlob(id) {
		t.Fatal("manifest not stored as a blob too")
	}
	imgs, err := st.Images()
	if err != nil || len(imgs) != 1 || imgs[0].ID != id || imgs[0].Manifest == nil {
		t.Fatalf("Images = %+v, %v", imgs, err)
	}
	for _, in := range []string{string(id), id.Hex()[:8], "sha256:" + id.Hex()[:6], strings.ToUpper(id.Hex()[:5])} {
		if got, err := st.Resolve(in); err != nil || got != id {
			t.Errorf("Resolve(%s) = %s, %v", in, got, err)
		}
	}
	for _, in := range []string{"abc", "zzzz", "ffff", "sha256:" + strings.Repeat("0", 64)} {
		if _, err := st.Resolve(in); err == nil {
			t.Errorf("Resolve(%s) succeeded", in)
		}
	}
	raw, err := st.Manifest(id)
	if err != nil || string(raw) != fx.ManifestJSON {
		t.Fatalf("Manifest: %v", err)
	}
}

func TestStaleStagingFilesAreCleared(t *testing.T) {
	dir := t.TempDir()
	if _, err := store.Open(dir); err != nil {
		t.Fatal(err)
	}
	// A pid that cannot be running (beyond pid_max) and our own.
	stale := filepath.Join(dir, "tmp", "abc.tmp.999999999.1")
	mine := filepath.Join(dir, "tmp", "abc.tmp."+strconv.Itoa(os.Getpid())+".1")
	os.WriteFile(stale, []byte("partial"), 0o644)
	os.WriteFile(mine, []byte("in progress"), 0o644)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := st.StagingFiles()
	if len(files) != 1 || !strings.Contains(files[0], strconv.Itoa(os.Getpid())) {
		t.Fatalf("staging after open: %v", files)
	}
}

// A batch keeps nothing unverified either; what it accepted is in blobs/,
// readable, once Wait returns, with nothing left in staging.
func TestBatchPlacesVerifiedBlobs(t *testing.T) {
	st := open(t)
	b := st.NewBatch()
	var ds []model.Digest
	for i := range 20 {
		logical := []byte(strings.Repeat("page "+strconv.Itoa(i)+" ", 1000))
		d := model.FromBytes(logical)
		ds = append(ds, d)
		stored := blob.CompressBytes(logical, 1)
		for range 2 { // a second copy of a blob is not written again
			if err := b.PutStored(d, blob.NewVerifier(bytes.NewReader(stored), d, 0)); err != nil {
				t.Fatal(err)
			}
		}
		if !b.Has(d) {
			t.Fatalf("blob %d: the batch does not know it", i)
		}
	}
	wrong := model.FromBytes([]byte("other"))
	bad := blob.CompressBytes([]byte("not other"), 1)
	if err := b.PutStored(wrong, blob.NewVerifier(bytes.NewReader(bad), wrong, 0)); !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("PutStored of bad bytes = %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := st.ReadBlob(d, 1<<20); err != nil {
			t.Fatalf("after Wait: %v", err)
		}
	}
	if st.HasBlob(wrong) || b.Has(wrong) {
		t.Fatal("an unverified blob entered the store")
	}
	if files, _ := st.StagingFiles(); len(files) != 0 {
		t.Fatalf("staging files left: %v", files)
	}
}

// A blob that cannot be renamed into place fails the batch's Wait, and
// its staging file goes.
func TestBatchReportsAFailedPlacement(t *testing.T) {
	st := open(t)
	logical := []byte("blocked blob")
	d := model.FromBytes(logical)
	shard := filepath.Dir(st.BlobPath(d))
	if err := os.WriteFile(shard, []byte("a file where the shard directory goes"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := st.NewBatch()
	if err := b.PutStored(d, bytes.NewReader(blob.CompressBytes(logical, 1))); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err == nil {
		t.Fatal("Wait hid a blob that could not be placed")
	}
	if files, _ := st.StagingFiles(); len(files) != 0 {
		t.Fatalf("staging files left: %v", files)
	}
}
