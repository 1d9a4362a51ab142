package s3

import (
	"context"
	"errors"
	"fmt"
	"path"

	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/s3/bucket"
	"pf-registry/signing"
)

// bundleObjects lists the bundle objects beside the manifest, by key.
func (im *image) bundleObjects(ctx context.Context) ([]string, []int64, error) {
	ents, _, err := im.c.List(ctx, im.ref.S3Key(manifestLeaf+"."), "", 0)
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	var sizes []int64
	for _, e := range ents {
		if !e.Dir && registry.IsBundleFile(path.Base(e.Key)) && e.Key == im.ref.S3Key(path.Base(e.Key)) {
			keys, sizes = append(keys, e.Key), append(sizes, e.Size)
		}
	}
	return keys, sizes, nil
}

// Signatures implements registry.SignatureSource: the bundle objects
// beside the manifest, at most registry.MaxSignatures, or the bundles of
// the pending journal the manifest was read from.
func (im *image) Signatures(ctx context.Context) ([]registry.Attached, error) {
	im.mu.Lock()
	j := im.pending
	im.mu.Unlock()
	if j != nil {
		return j.attached(), nil
	}
	keys, sizes, err := im.bundleObjects(ctx)
	if errors.Is(err, fault.ErrAuth) {
		// Credentials that may read objects but not list them: the image
		// still pulls on its HMAC signature, and the verdict says why no
		// bundle was read.
		return []registry.Attached{{Where: manifestLeaf + ".*.sigstore.json",
			Problem: "the bundles beside the manifest cannot be listed with these credentials (s3:ListBucket denied)"}}, nil
	}
	if err != nil {
		return nil, err
	}
	var out []registry.Attached
	for i, key := range keys {
		if len(out) >= registry.MaxSignatures {
			break
		}
		a := registry.Attached{Where: path.Base(key)}
		if sizes[i] > signing.MaxBundleSize {
			a.Problem = fmt.Sprintf("bundle is larger than %d bytes", signing.MaxBundleSize)
		} else if a.Bundle, err = im.c.GetBytes(ctx, key, signing.MaxBundleSize); errors.Is(err, fault.ErrNotFound) {
			continue // removed meanwhile
		} else if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// putBundles uploads bundle files beside the manifest.
func (im *image) putBundles(ctx context.Context, files []registry.BundleFile) error {
	for _, f := range files {
		if err := im.c.Put(ctx, im.ref.S3Key(f.Name), bytesReader(f.Data), int64(len(f.Data)), bucket.PutOptions{ContentType: jsonType}); err != nil {
			return err
		}
		crashpoint.Step("s3.bundle")
	}
	return nil
}

// CommitSigned implements registry.SignedSink: the switch through the
// journal (journal.go) with the new bundles; those of the replaced image
// are deleted.
func (im *image) CommitSigned(ctx context.Context, manifest, sig []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	return registry.Checks(files), im.commit(ctx, manifest, sig, files)
}

// AddSignatures implements registry.SignedSink: bundle objects beside the
// manifest, which must be manifest before and after.
func (im *image) AddSignatures(ctx context.Context, manifest []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	im.finishPending(ctx)
	if err := im.checkManifest(ctx, model.FromBytes(manifest)); err != nil {
		return nil, err
	}
	if err := im.putBundles(ctx, files); err != nil {
		return nil, err
	}
	return registry.Checks(files), im.checkManifest(ctx, model.FromBytes(manifest))
}

func (im *image) checkManifest(ctx context.Context, want model.Digest) error {
	raw, err := im.c.GetBytes(ctx, im.ref.S3Key(manifestLeaf), maxManifestSize)
	if err != nil {
		return err
	}
	if model.FromBytes(raw) != want {
		return registry.Changed(im.ref.Raw)
	}
	return nil
}
