// Package file is the file:// backend (spec §9.1): one image per directory,
//
//	<root>/manifest.json
//	<root>/manifest.json.sig
//	<root>/blobs/sha256/<aa>/<hex>.zst
//
// A directory without manifest.json is a catalog root (spec §10): its
// subdirectories holding images are tags, grouped by their parent directory
// into repositories.
//
// Unlike the Rust tool every write goes through a staging file renamed into
// place, and a blob already at the destination is re-verified before it is
// trusted (Rust's non-atomic writes can leave partial files behind).
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

func init() {
	registry.Register("file", func(cfg registry.Config) (registry.Backend, error) {
		return New(cfg), nil
	})
}

// Backend serves file:// references.
type Backend struct {
	cfg registry.Config
	key signing.Key
}

// New builds the backend; the signing key comes from PF_FILE_REG_SIGN_KEY.
func New(cfg registry.Config) *Backend {
	return &Backend{cfg: cfg, key: signing.ForBackend("file")}
}

// Scheme implements registry.Backend.
func (b *Backend) Scheme() string { return "file" }

// SignKey implements registry.Backend.
func (b *Backend) SignKey() signing.Key { return b.key }

// maxListDepth bounds the catalog walk (spec §10 suggests 4).
const maxListDepth = 4

// maxManifestSize bounds manifest and signature reads.
const maxManifestSize = 16 << 20

// stagingDir holds temp files inside a registry directory; hidden, and
// outside blobs/sha256 so that no reader scans it.
const stagingDir = ".pf-staging"

func dirOf(r registry.Ref) string {
	if r.Path == "" {
		return "."
	}
	return r.Path
}

func refFor(dir string) string { return "file://" + filepath.ToSlash(dir) }

func isImage(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "manifest.json"))
	return err == nil && fi.Mode().IsRegular()
}

// List implements registry.Backend.
func (b *Backend) List(_ context.Context, root registry.Ref, opt registry.ListOptions) (*registry.Listing, error) {
	dir := dirOf(root)
	out := &registry.Listing{Root: root.Raw}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, notFoundDir(dir, err)
	}
	if !fi.IsDir() {
		return nil, fault.WithHint(fmt.Errorf("%s is not a directory", dir), "give a registry directory")
	}
	if isImage(dir) {
		out.Image = true
		return out, nil
	}
	repos := map[string][]string{}
	var visit func(rel string, depth int) error
	visit = func(rel string, depth int) error {
		ents, err := os.ReadDir(filepath.Join(dir, rel))
		if err != nil {
			return nil // unreadable subdirectories are not images
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			sub := filepath.Join(rel, e.Name())
			if isImage(filepath.Join(dir, sub)) {
				parent := filepath.ToSlash(filepath.Dir(sub))
				repos[parent] = append(repos[parent], e.Name())
				continue // an image's own blobs/ is not a catalog
			}
			if depth < maxListDepth {
				if err := visit(sub, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit("", 1); err != nil {
		return nil, err
	}
	out.Repos, out.Next = registry.RepoPage(repos, opt, func(n string) string {
		return refFor(filepath.Join(dir, filepath.FromSlash(n)))
	})
	return out, nil
}

func notFoundDir(dir string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fault.WithHint(fault.NotFoundf("directory %s does not exist", dir),
			"check the path, or create a demo registry with `pf-registry demo`")
	}
	return err
}

// Tags implements registry.Backend.
func (b *Backend) Tags(_ context.Context, repo registry.Ref, opt registry.ListOptions) (*registry.TagList, error) {
	dir := dirOf(repo)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, notFoundDir(dir, err)
	}
	var names []string
	mod := map[string]time.Time{}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name(), "manifest.json")); err == nil && fi.Mode().IsRegular() {
			names = append(names, e.Name())
			mod[e.Name()] = fi.ModTime()
		}
	}
	sort.Strings(names)
	names, next := registry.PageNames(names, opt)
	out := &registry.TagList{Repo: repo.Raw, Next: next, Tags: []registry.TagEntry{}}
	for _, n := range names {
		out.Tags = append(out.Tags, registry.TagEntry{Name: n, Ref: refFor(filepath.Join(dir, n)), Updated: mod[n]})
	}
	return out, nil
}

// Exists implements registry.Backend.
func (b *Backend) Exists(_ context.Context, ref registry.Ref) (bool, error) {
	_, err := os.Stat(filepath.Join(dirOf(ref), "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Source implements registry.Backend.
func (b *Backend) Source(_ context.Context, ref registry.Ref) (registry.Source, error) {
	return &dirImage{dir: dirOf(ref), ref: ref.Raw, readOnly: b.cfg.ReadOnly}, nil
}

// Sink implements registry.Backend.
func (b *Backend) Sink(_ context.Context, ref registry.Ref) (registry.Sink, error) {
	d := &dirImage{dir: dirOf(ref), ref: ref.Raw, maxBlob: b.cfg.MaxBlobSize}
	d.tidy()
	return d, nil
}

// dirImage is one image directory, as source and as sink.
type dirImage struct {
	dir      string
	ref      string
	maxBlob  int64 // cap on a blob's decompressed size when re-verifying
	readOnly bool  // never tidy what killed writers left
}

func (d *dirImage) Describe() string { return d.ref }

func (d *dirImage) FetchManifest(context.Context) ([]byte, []byte, error) {
	d.tidy()
	raw, err := readSmall(filepath.Join(d.dir, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := os.Stat(d.dir); derr != nil {
			return nil, nil, notFoundDir(d.dir, derr)
		}
		return nil, nil, fault.WithHint(fault.NotFoundf("no image at %s: manifest.json is missing", d.ref),
			"list the images under it with `pf-registry ls "+d.ref+"`")
	}
	if err != nil {
		return nil, nil, err
	}
	sig, err := readSmall(filepath.Join(d.dir, "manifest.json.sig"))
	if errors.Is(err, fs.ErrNotExist) {
		return raw, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return raw, sig, nil
}

func readSmall(p string) ([]byte, error) {
	f, _, err := openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err == nil && len(b) > maxManifestSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, maxManifestSize)
	}
	return b, err
}

func (d *dirImage) blobPath(dg model.Digest) string {
	return filepath.Join(d.dir, filepath.FromSlash(dg.ShardPath()))
}

func (d *dirImage) OpenBlob(_ context.Context, dg model.Digest) (io.ReadCloser, int64, error) {
	f, fi, err := openRegular(d.blobPath(dg))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fault.NotFoundf("blob %s is missing from %s", dg.Short(), d.ref)
	}
	if err != nil {
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func (d *dirImage) StatBlob(_ context.Context, dg model.Digest) (int64, error) {
	p := d.blobPath(dg)
	fi, err := os.Stat(p)
	if err != nil {
		return 0, fault.NotFoundf("blob %s is missing from %s", dg.Short(), d.ref)
	}
	if !fi.Mode().IsRegular() {
		return 0, notRegular(p, fi.Mode())
	}
	return fi.Size(), nil
}

// openRegular opens p for reading without blocking on a named pipe, and
// refuses anything but a regular file: a FIFO would hang the transfer
// beyond the reach of cancellation, a device could be read forever.
func openRegular(p string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	return checkRegular(f, err, p)
}

// checkRegular completes an open: only a regular file is kept.
func checkRegular(f *os.File, err error, p string) (*os.File, fs.FileInfo, error) {
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(p, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

func notRegular(p string, mode fs.FileMode) error {
	kind := "an irregular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	case mode.IsDir():
		kind = "a directory"
	}
	return fault.WithHint(fault.Integrityf("%s is not a regular file (%s); refusing to read it", p, kind),
		"remove it from the registry directory; images hold only regular files")
}

// HasBlob re-verifies a blob that is already there: files written by other
// tools may be partial. A blob it keeps is refreshed, so that a deletion
// sweeping this directory meanwhile takes it for young and leaves it.
func (d *dirImage) HasBlob(_ context.Context, dg model.Digest) (bool, error) {
	p := d.blobPath(dg)
	f, _, err := openRegular(p)
	if err != nil {
		return false, nil
	}
	v := blob.NewVerifier(f, dg, d.maxBlob)
	defer v.Close()
	if _, err = io.Copy(io.Discard, v); err != nil {
		return false, nil
	}
	if root, err := os.OpenRoot(d.dir); err == nil {
		now := time.Now()
		_ = root.Chtimes(dg.ShardPath(), now, now) // never through a symlink out
		root.Close()
	}
	return true, nil
}
