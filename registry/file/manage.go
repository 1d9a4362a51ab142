package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"pf-registry/internal/fault"
	"pf-registry/internal/stale"
	"pf-registry/model"
	"pf-registry/registry"
)

// Deleting, retagging and sweeping an image directory. Every removal goes
// through an os.Root on the directory, so a symlink inside it never makes
// a deletion land outside.

// signatureSet lists the manifest.json* files beside the manifest other
// than manifest.json itself: the HMAC signature and any signature bundle.
func signatureSet(root *os.Root) ([]string, error) {
	f, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "manifest.json.") && e.Type().IsRegular() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// DeleteImage implements registry.Deleter: a pending switch is finished
// first (so it cannot bring the image back later), then manifest.json
// goes, then its signatures (also when an interrupted deletion left them
// without a manifest).
func (b *Backend) DeleteImage(_ context.Context, ref registry.Ref) error {
	dir := dirOf(ref)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return notFoundDir(dir, err)
	}
	defer root.Close()
	if err := rollForward(root, false); errors.Is(err, errBusy) {
		return fault.WithHint(fmt.Errorf("%s: %w", ref.Raw, err), "wait for the push to end, then delete again")
	} else if err != nil {
		return err
	}
	gone := false
	if err := root.Remove("manifest.json"); errors.Is(err, fs.ErrNotExist) {
		gone = true // an interrupted deletion: its signatures may be left
	} else if err != nil {
		return fmt.Errorf("cannot delete %s: %w", ref.Raw, err)
	} else if err := syncDir(root, "."); err != nil {
		return err
	}
	sigs, err := signatureSet(root)
	if err != nil {
		return err
	}
	if gone && len(sigs) == 0 {
		return fault.NotFoundf("no image at %s: manifest.json is missing", ref.Raw)
	}
	for _, n := range sigs {
		if err := root.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot delete %s of %s: %w", n, ref.Raw, err)
		}
	}
	return nil
}

// BlobStore implements registry.BlobSweeper: an image directory keeps its
// own blobs.
func (b *Backend) BlobStore(_ context.Context, ref registry.Ref) (registry.BlobStore, error) {
	return &dirStore{dir: filepath.Clean(dirOf(ref)), ref: ref.Raw}, nil
}

// dirStore is the blobs/ of one image directory.
type dirStore struct {
	dir string
	ref string
}

func (s *dirStore) Describe() string { return refFor(s.dir) }

func (s *dirStore) Images(_ context.Context, skip []registry.Ref) ([]registry.Source, error) {
	for _, r := range skip {
		if filepath.Clean(dirOf(r)) == s.dir {
			return nil, nil
		}
	}
	if !isImage(s.dir) {
		return nil, nil
	}
	return []registry.Source{&dirImage{dir: s.dir, ref: s.ref, readOnly: true}}, nil
}

func (s *dirStore) Blobs(context.Context) ([]registry.StoredBlob, error) {
	root, err := os.OpenRoot(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var out []registry.StoredBlob
	err = fs.WalkDir(root.FS(), "blobs/sha256", func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || e.IsDir() {
			return err
		}
		d, derr := model.DigestFromShardPath(p)
		if derr != nil || !e.Type().IsRegular() {
			return nil // not a blob: left alone
		}
		fi, err := e.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		out = append(out, registry.StoredBlob{Digest: d, Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	return out, err
}

// RemoveBlobs deletes blob files, then the directories it emptied, up to
// the image directory itself once nothing is left in it.
func (s *dirStore) RemoveBlobs(ctx context.Context, ds []model.Digest) error {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	shards := map[string]bool{}
	for _, d := range ds {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := d.ShardPath()
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot delete %s in %s: %w", p, s.dir, err)
		}
		shards[path.Dir(p)] = true
	}
	// Only empty directories go (Remove fails on the others).
	for sh := range shards {
		root.Remove(sh)
	}
	for _, d := range []string{"blobs/sha256", "blobs", stagingDir} {
		root.Remove(d)
	}
	os.Remove(s.dir)
	return nil
}

// RetagImage implements registry.Retagger: blobs are hard-linked into the
// new directory (copied when the two are on different file systems), then
// manifest, signature and signature bundles are switched in through the
// journal, as a push does (bundles of the image replaced there go).
func (b *Backend) RetagImage(ctx context.Context, src, dst registry.Ref, blobs []model.Digest) error {
	from := &dirImage{dir: dirOf(src), ref: src.Raw, readOnly: true}
	to := &dirImage{dir: dirOf(dst), ref: dst.Raw, maxBlob: b.cfg.MaxBlobSize}
	if filepath.Clean(from.dir) == filepath.Clean(to.dir) {
		return fault.Classed(fault.ErrUsage, fmt.Errorf("%s and %s are the same directory", src.Raw, dst.Raw))
	}
	manifest, sig, err := from.FetchManifest(ctx)
	if err != nil {
		return err
	}
	to.tidy()
	root, err := to.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	for _, d := range blobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if has, _ := to.HasBlob(ctx, d); has {
			continue
		}
		if err := to.linkBlob(root, from.blobPath(d), d.ShardPath()); err != nil {
			return err
		}
	}
	if sig == nil {
		return fault.Integrityf("%s has no signature (manifest.json.sig)", src.Raw)
	}
	att, err := from.Signatures(ctx)
	if err != nil {
		return err
	}
	bundles := make([]registry.BundleFile, 0, len(att))
	for _, a := range att {
		if a.Problem == "" {
			bundles = append(bundles, registry.BundleFile{Name: a.Where, Data: a.Bundle})
		}
	}
	return to.commit(&switchSet{manifest: manifest, sig: sig, installs: model.FromBytes(manifest), bundles: bundles, prune: true})
}

// linkBlob makes rel a hard link of the file at from, through a staging
// name so that only a whole file ever appears; it copies the bytes when
// the file systems do not share inodes.
func (d *dirImage) linkBlob(root *os.Root, from, rel string) error {
	if err := root.MkdirAll(stagingDir, 0o755); err != nil {
		return d.writeErr(stagingDir, err)
	}
	if fi, err := root.Lstat(stagingDir); err != nil || !fi.IsDir() {
		return d.writeErr(stagingDir, fmt.Errorf("not a directory"))
	}
	tmp := path.Join(stagingDir, stale.Name("link"))
	err := os.Link(from, filepath.Join(d.dir, filepath.FromSlash(tmp)))
	if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EMLINK) {
		f, _, oerr := openRegular(from)
		if oerr != nil {
			return oerr
		}
		tmp, err = stageFile(root, stagingDir, f)
		f.Close()
		if err != nil {
			return d.asWriteErr(err)
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		return fault.NotFoundf("blob %s is missing from the source image", path.Base(rel))
	} else if err != nil {
		return d.writeErr(rel, err)
	}
	return d.place(root, tmp, rel)
}
