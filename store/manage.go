package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"pf-registry/internal/durable"
	"pf-registry/internal/fault"
	"pf-registry/model"
)

// Removals keep the layout `pf` reads: a marker or a blob file goes, and
// nothing is added (empty shard directories stay, as `pf` leaves them).

// BlobInfo is one stored blob.
type BlobInfo struct {
	Digest   model.Digest
	Size     int64 // stored bytes
	Modified time.Time
}

// Blobs lists every blob file of the store. Other names under blobs/
// (temp files `pf` writes beside a blob, strays) are not blobs and are
// left alone.
func (s *Store) Blobs() ([]BlobInfo, error) {
	var out []BlobInfo
	base := filepath.Join(s.root, "blobs", "sha256")
	shards, err := os.ReadDir(base)
	if err != nil {
		return nil, err
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(base, sh.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			d, err := model.DigestFromShardPath("blobs/sha256/" + sh.Name() + "/" + e.Name())
			if err != nil || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return nil, err
			}
			out = append(out, BlobInfo{Digest: d, Size: fi.Size(), Modified: fi.ModTime()})
		}
	}
	return out, nil
}

// RemoveBlob deletes blob d; one already gone is not an error.
func (s *Store) RemoveBlob(d model.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if err := os.Remove(s.BlobPath(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// TouchBlob marks blob d as just used, so that a concurrent collection
// counts it as young: a pull that skips a blob it finds must not lose it
// to a gc that started before the pull's marker exists. Best effort.
func (s *Store) TouchBlob(d model.Digest) {
	if d.Validate() == nil {
		now := time.Now()
		_ = os.Chtimes(s.BlobPath(d), now, now)
	}
}

// RemoveImage deletes an image's marker: the image is gone for `pf` and
// for this tool; its blobs stay until a collection.
func (s *Store) RemoveImage(id model.Digest) error {
	if err := id.Validate(); err != nil {
		return err
	}
	err := os.Remove(s.markerPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return fault.WithHint(fault.NotFoundf("image %s is not in the local store %s", id.Short(), s.root),
			"list local images with `pf-registry images`")
	}
	if err != nil {
		return err
	}
	// The removal is durable once the directory is.
	return durable.SyncDir(filepath.Join(s.root, "images"))
}
