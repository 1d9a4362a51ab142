package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"pf-registry/blob"
	"pf-registry/internal/crashpoint"
	"pf-registry/internal/durable"
	"pf-registry/internal/fault"
	"pf-registry/model"
)

// What a write guarantees (Linux; elsewhere each file is fsynced before
// its rename instead, see internal/durable):
//
//   - A process killed at any point leaves, under blobs/ and images/, only
//     complete files whose bytes were verified; its staging files in tmp/
//     are removed by the next Open. A pull run again skips every blob
//     already in blobs/.
//   - A power loss or OS crash leaves no torn or empty file under blobs/
//     or images/ either: a blob is renamed into place only after a syncfs
//     that began once its bytes were written. Blobs renamed shortly before
//     the crash may be back in staging (the next pull fetches them again),
//     and the image marker becomes durable only after every blob it names
//     (one more syncfs before its rename, then the directory is synced).
//
// A pull pays one syncfs per group of blobs (those staged while the
// previous sync ran) and a few syncs for the marker, instead of one fsync
// per blob.

var tmpCounter atomic.Int64

// createTemp makes a staging file named like Rust's temp files, with the pid
// so that cleanStaging can tell abandoned ones.
func (s *Store) createTemp(name string) (*os.File, error) {
	p := filepath.Join(s.root, stagingDir,
		fmt.Sprintf("%s.tmp.%d.%d", name, os.Getpid(), tmpCounter.Add(1)))
	return os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
}

// commitFile syncs, closes and renames one staging file into place: for
// single writes outside a Batch.
func commitFile(f *os.File, dst string) error {
	if err := f.Sync(); err != nil {
		discard(f)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return rename(f.Name(), dst)
}

// rename moves a staged file into place, creating its shard directory.
func rename(tmp, dst string) error {
	err := os.MkdirAll(filepath.Dir(dst), dirMode)
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// stageStored writes the stored bytes of blob d to a staging file. r must
// fail instead of returning io.EOF when the bytes do not verify; then
// nothing is kept.
func (s *Store) stageStored(d model.Digest, r io.Reader) (*os.File, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if !d.IsLower() {
		return nil, fault.Integrityf("blob digest %s is not lowercase; it can never verify", d)
	}
	f, err := s.createTemp(d.Hex())
	if err != nil {
		return nil, err
	}
	if _, err := blob.Copy(f, r); err != nil {
		discard(f)
		return nil, err
	}
	return f, nil
}

// PutStored stores blob d from its stored (zstd) bytes, durably before it
// returns. r must fail instead of returning io.EOF when the bytes do not
// verify (blob.Verifier does); then nothing is kept. A blob already
// present is left untouched. A transfer of many blobs uses a Batch.
func (s *Store) PutStored(d model.Digest, r io.Reader) error {
	f, err := s.stageStored(d, r)
	if err != nil {
		return err
	}
	crashpoint.Step("store.staged")
	if s.HasBlob(d) {
		discard(f)
		return nil
	}
	return commitFile(f, s.BlobPath(d))
}

// Batch writes the blobs of one transfer: each is staged and verified when
// it arrives and renamed into blobs/ after the next group sync
// (internal/durable). Wait places every staged blob; PutImage then records
// the image.
type Batch struct {
	s  *Store
	b  *durable.Batch
	mu sync.Mutex
	// staged are the blobs written but maybe not placed yet: a second
	// copy of one is not written again.
	staged map[model.Digest]bool
}

// NewBatch starts a batch of writes into s.
func (s *Store) NewBatch() *Batch {
	return &Batch{s: s, b: durable.NewBatch(s.root), staged: map[model.Digest]bool{}}
}

// Has reports whether blob d is stored or staged by this batch.
func (b *Batch) Has(d model.Digest) bool {
	b.mu.Lock()
	staged := b.staged[d]
	b.mu.Unlock()
	return staged || b.s.HasBlob(d)
}

// PutStored is Store.PutStored, made durable with the batch's next sync
// (see Wait) rather than before it returns.
func (b *Batch) PutStored(d model.Digest, r io.Reader) error {
	f, err := b.s.stageStored(d, r)
	if err != nil {
		return err
	}
	crashpoint.Step("store.staged")
	b.mu.Lock()
	dup := b.staged[d]
	b.staged[d] = true
	b.mu.Unlock()
	if dup || b.s.HasBlob(d) {
		discard(f)
		return nil
	}
	dst := b.s.BlobPath(d)
	return b.b.Add(f, func() error {
		if b.s.HasBlob(d) { // another process stored it meanwhile
			os.Remove(f.Name())
			return nil
		}
		crashpoint.Step("store.synced")
		return rename(f.Name(), dst)
	}, func() { os.Remove(f.Name()) })
}

// Wait returns once every blob of the batch is in blobs/, or with the
// first failure to sync or place one.
func (b *Batch) Wait() error { return b.b.Wait() }

// Put compresses logical content into the store and returns its digest and
// logical size. The content is hashed while it is compressed.
func (s *Store) Put(r io.Reader) (model.Digest, int64, error) {
	f, err := s.createTemp("new")
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := blob.Compress(f, io.TeeReader(r, h), s.level)
	if err != nil {
		discard(f)
		return "", 0, err
	}
	d := model.FromHash(h)
	if s.HasBlob(d) {
		discard(f)
		return d, n, nil
	}
	return d, n, commitFile(f, s.BlobPath(d))
}

// PutBytes is Put for a value in memory.
func (s *Store) PutBytes(b []byte) (model.Digest, error) {
	d, _, err := s.Put(bytes.NewReader(b))
	return d, err
}

// PutImage records an image: the manifest is stored as a blob and then,
// last, as the marker images/<hex>.json. The bytes are kept exactly, so the
// image ID is preserved. One syncfs makes both staged files and every blob
// placed before (by a Batch) durable before the marker is renamed.
func (s *Store) PutImage(manifest []byte) (model.Digest, error) {
	id := model.FromBytes(manifest)
	var staged *os.File
	if !s.HasBlob(id) {
		f, err := s.createTemp(id.Hex())
		if err != nil {
			return "", err
		}
		if _, err := blob.Compress(f, bytes.NewReader(manifest), s.level); err != nil {
			discard(f)
			return "", err
		}
		staged = f
	}
	marker, err := s.createTemp(id.Hex() + ".json")
	if err == nil {
		if _, err = marker.Write(manifest); err != nil {
			discard(marker)
		}
	}
	if err != nil {
		if staged != nil {
			discard(staged)
		}
		return "", err
	}
	crashpoint.Step("store.marker")
	return id, s.placeImage(id, staged, marker)
}

// placeImage syncs, then renames the manifest blob (when staged) and the
// marker, each followed by a sync of its directory.
func (s *Store) placeImage(id model.Digest, staged, marker *os.File) error {
	files := []*os.File{marker}
	if staged != nil {
		files = append(files, staged)
	}
	var err error
	for _, f := range files {
		if werr := durable.StartWriteback(f); err == nil {
			err = werr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = durable.SyncFS(s.root)
	}
	if err == nil && staged != nil {
		if err = rename(staged.Name(), s.BlobPath(id)); err == nil {
			err = durable.SyncDir(filepath.Dir(s.BlobPath(id)))
		}
		staged = nil
	}
	if err == nil {
		if err = os.Rename(marker.Name(), s.markerPath(id)); err == nil {
			return durable.SyncDir(filepath.Dir(s.markerPath(id)))
		}
	}
	for _, f := range []*os.File{staged, marker} {
		if f != nil {
			os.Remove(f.Name())
		}
	}
	return err
}
