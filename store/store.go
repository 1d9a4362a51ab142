// Package store reads and writes the local content-addressed store shared
// with the Rust `pf` tool (spec §9.7):
//
//	<root>/blobs/sha256/<aa>/<hex>.zst   every logical blob, zstd
//	<root>/images/<hex>.json             one marker per image: the raw manifest
//
// Blobs enter only through a temp file that is renamed into place after its
// bytes were verified; the image marker is written last, so an interrupted
// pull never leaves a marker whose blobs are missing, and the next pull
// skips what is already there.
package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/internal/stale"
	"pf-registry/model"
)

// Store is one local store directory.
type Store struct {
	root  string
	level int
}

// Option configures a Store.
type Option func(*Store)

// WithLevel sets the zstd level used when the store compresses new content.
func WithLevel(level int) Option { return func(s *Store) { s.level = level } }

// DefaultRoot resolves the store directory the way `pf` does: $PF_STORE,
// then $HOME/.processfork, then ./.processfork.
func DefaultRoot() string {
	if v := os.Getenv("PF_STORE"); v != "" {
		return v
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".processfork")
	}
	return ".processfork"
}

// Open opens (and creates if needed) a store at root. It also clears
// staging files left behind by processes that no longer run.
func Open(root string, opts ...Option) (*Store, error) {
	s := &Store{root: root, level: blob.DefaultLevel}
	for _, o := range opts {
		o(s)
	}
	for _, d := range []string{"blobs/sha256", "images", stagingDir} {
		if err := os.MkdirAll(filepath.Join(root, d), dirMode); err != nil {
			return nil, fault.WithHint(fmt.Errorf("local store %s: %w", root, err),
				"pass a writable directory with --store or PF_STORE")
		}
	}
	s.cleanStaging()
	return s, nil
}

// Root is the store directory.
func (s *Store) Root() string { return s.root }

// stagingDir holds temp files outside blobs/ and images/, so that neither a
// reader of this store nor `pf` ever sees a partial file.
const stagingDir = "tmp"

// Pulled images can hold environment data: what this tool creates in a
// store is private to its user. Existing directories keep their mode.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// BlobPath is where blob d lives.
func (s *Store) BlobPath(d model.Digest) string {
	return filepath.Join(s.root, filepath.FromSlash(d.ShardPath()))
}

// HasBlob reports whether blob d is stored. Blobs only ever appear after
// verification, so presence is trusted (as `pf` does).
func (s *Store) HasBlob(d model.Digest) bool {
	if d.Validate() != nil || !d.IsLower() {
		return false
	}
	fi, err := os.Stat(s.BlobPath(d))
	return err == nil && fi.Mode().IsRegular()
}

// OpenBlob opens the stored (zstd) bytes of blob d and returns their size.
func (s *Store) OpenBlob(d model.Digest) (io.ReadCloser, int64, error) {
	if err := d.Validate(); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fault.NotFoundf("blob %s is not in the local store %s", d.Short(), s.root)
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// ReadBlob returns the logical bytes of a (small) blob, re-hashed.
func (s *Store) ReadBlob(d model.Digest, max int64) ([]byte, error) {
	rc, _, err := s.OpenBlob(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	stored, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	return blob.DecodeVerified(stored, d, max)
}

var tmpCounter atomic.Int64

// createTemp makes a staging file named like Rust's temp files, with the pid
// so that cleanStaging can tell abandoned ones.
func (s *Store) createTemp(name string) (*os.File, error) {
	p := filepath.Join(s.root, stagingDir,
		fmt.Sprintf("%s.tmp.%d.%d", name, os.Getpid(), tmpCounter.Add(1)))
	return os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
}

// commitFile syncs, closes and renames a staging file into place.
func commitFile(f *os.File, dst string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// PutStored stores blob d from its stored (zstd) bytes. r must fail instead
// of returning io.EOF when the bytes do not verify (blob.Verifier does);
// then nothing is kept. A blob already present is left untouched.
func (s *Store) PutStored(d model.Digest, r io.Reader) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if !d.IsLower() {
		return fault.Integrityf("blob digest %s is not lowercase; it can never verify", d)
	}
	f, err := s.createTemp(d.Hex())
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		discard(f)
		return err
	}
	crashpoint.Step("store.staged")
	if s.HasBlob(d) {
		discard(f)
		return nil
	}
	return commitFile(f, s.BlobPath(d))
}

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
// image ID is preserved.
func (s *Store) PutImage(manifest []byte) (model.Digest, error) {
	id, err := s.PutBytes(manifest)
	if err != nil {
		return "", err
	}
	f, err := s.createTemp(id.Hex() + ".json")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(manifest); err != nil {
		discard(f)
		return "", err
	}
	crashpoint.Step("store.marker")
	return id, commitFile(f, s.markerPath(id))
}

func (s *Store) markerPath(id model.Digest) string {
	return filepath.Join(s.root, "images", id.Hex()+".json")
}

// HasImage reports whether the image marker exists.
func (s *Store) HasImage(id model.Digest) bool {
	_, err := os.Stat(s.markerPath(id))
	return err == nil
}

// Manifest returns the raw manifest bytes of a stored image, checked
// against its ID.
func (s *Store) Manifest(id model.Digest) ([]byte, error) {
	if err := id.Validate(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.markerPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fault.WithHint(fault.NotFoundf("image %s is not in the local store %s", id.Short(), s.root),
			"list local images with `pf-registry images`")
	}
	if err != nil {
		return nil, err
	}
	if got := model.FromBytes(b); got != id {
		return nil, fault.Integrityf("local image marker %s holds a manifest hashing to %s", id.Short(), got.Short())
	}
	return b, nil
}

// Image is one image recorded in the store.
type Image struct {
	ID       model.Digest
	Raw      []byte
	Manifest *model.Manifest // nil when the marker does not parse
	Err      error
	Modified time.Time
}

// Images lists the images in the store, newest first.
func (s *Store) Images() ([]Image, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "images"))
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, e := range ents {
		hexName, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		id, err := model.FromHex(hexName)
		if err != nil {
			continue
		}
		img := Image{ID: id}
		if fi, err := e.Info(); err == nil {
			img.Modified = fi.ModTime()
		}
		img.Raw, img.Err = os.ReadFile(filepath.Join(s.root, "images", e.Name()))
		if img.Err == nil {
			img.Manifest, img.Err = model.ParseManifest(img.Raw)
		}
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].created(), out[j].created()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (i Image) created() time.Time {
	if i.Manifest != nil {
		return i.Manifest.CreatedAt
	}
	return i.Modified
}

// Resolve turns a full image ID or a unique hex prefix (at least 4
// characters, with or without "sha256:") into an image ID.
func (s *Store) Resolve(idOrPrefix string) (model.Digest, error) {
	if d, err := model.ParseDigest(idOrPrefix); err == nil {
		if !s.HasImage(d) {
			return "", fault.WithHint(fault.NotFoundf("image %s is not in the local store %s", d.Short(), s.root),
				"list local images with `pf-registry images`")
		}
		return d, nil
	}
	p := strings.ToLower(strings.TrimPrefix(idOrPrefix, model.DigestPrefix))
	if len(p) < 4 || strings.Trim(p, "0123456789abcdef") != "" {
		return "", fault.WithHint(fault.Classed(fault.ErrBadRef,
			fmt.Errorf("%q is not an image ID (sha256:<64 hex>) or a hex prefix of at least 4 characters", idOrPrefix)),
			"list local images with `pf-registry images`")
	}
	ents, err := os.ReadDir(filepath.Join(s.root, "images"))
	if err != nil {
		return "", err
	}
	var found []model.Digest
	for _, e := range ents {
		if h, ok := strings.CutSuffix(e.Name(), ".json"); ok && strings.HasPrefix(h, p) {
			if d, err := model.FromHex(h); err == nil {
				found = append(found, d)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fault.WithHint(fault.NotFoundf("no local image ID starts with %s", p),
			"list local images with `pf-registry images`")
	case 1:
		return found[0], nil
	}
	return "", fault.WithHint(fmt.Errorf("image ID prefix %s is ambiguous (%d images)", p, len(found)),
		"give more characters of the image ID")
}

// Size is the sum of stored blob sizes (the physical size).
func (s *Store) Size() (int64, error) {
	var total int64
	err := filepath.WalkDir(filepath.Join(s.root, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if fi, err := d.Info(); err == nil {
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// cleanStaging removes temp files whose process is gone.
func (s *Store) cleanStaging() {
	dir := filepath.Join(s.root, stagingDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		parts := strings.Split(e.Name(), ".tmp.")
		if len(parts) != 2 {
			continue
		}
		pidStr, _, _ := strings.Cut(parts[1], ".")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || stale.ProcessAlive(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// StagingFiles lists leftover temp files (for tests and diagnostics).
func (s *Store) StagingFiles() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, stagingDir))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, nil
}
