package s3

import (
	"context"
	"fmt"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/s3/bucket"
)

// Deleting, retagging and sweeping an image prefix.

// signatureKeys lists the manifest.json.* objects of an image prefix: its
// HMAC signature and any signature bundle.
func signatureKeys(ctx context.Context, c *bucket.Client, ref registry.Ref) ([]bucket.Entry, error) {
	ents, err := c.ListAll(ctx, ref.S3Key(manifestLeaf+"."))
	if err != nil {
		return nil, err
	}
	var out []bucket.Entry
	for _, e := range ents {
		if !strings.Contains(strings.TrimPrefix(e.Key, ref.S3Key(manifestLeaf+".")), "/") {
			out = append(out, e)
		}
	}
	return out, nil
}

// DeleteImage implements registry.Deleter: a pending commit journal
// first (it must not apply to a manifest pushed there later), the manifest
// object, then the signatures (also those an interrupted deletion left
// alone).
func (b *Backend) DeleteImage(ctx context.Context, ref registry.Ref) error {
	c, err := b.client(ref)
	if err != nil {
		return err
	}
	if err := c.Remove(ctx, ref.S3Key(journalLeaf)); err != nil {
		return err
	}
	_, found, err := c.Head(ctx, ref.S3Key(manifestLeaf))
	if err != nil {
		return err
	}
	if found {
		if err := c.Remove(ctx, ref.S3Key(manifestLeaf)); err != nil {
			return err
		}
	}
	sigs, err := signatureKeys(ctx, c, ref)
	if err != nil {
		return err
	}
	if !found && len(sigs) == 0 {
		return fault.NotFoundf("no image at %s: %s is missing", ref.Raw, c.URL(ref.S3Key(manifestLeaf)))
	}
	keys := make([]string, len(sigs))
	for i, e := range sigs {
		keys[i] = e.Key
	}
	return c.RemoveKeys(ctx, keys)
}

// BlobStore implements registry.BlobSweeper: an image prefix keeps its own
// blobs.
func (b *Backend) BlobStore(_ context.Context, ref registry.Ref) (registry.BlobStore, error) {
	c, err := b.client(ref)
	if err != nil {
		return nil, err
	}
	return &prefixStore{c: c, ref: ref}, nil
}

// prefixStore is the blobs/ of one image prefix.
type prefixStore struct {
	c   *bucket.Client
	ref registry.Ref
}

func (s *prefixStore) Describe() string { return refFor(s.ref.Bucket, s.ref.S3KeyPrefix()) }

func (s *prefixStore) Images(ctx context.Context, skip []registry.Ref) ([]registry.Source, error) {
	for _, r := range skip {
		if r.Bucket == s.ref.Bucket && r.S3KeyPrefix() == s.ref.S3KeyPrefix() {
			return nil, nil
		}
	}
	_, found, err := s.c.Head(ctx, s.ref.S3Key(manifestLeaf))
	if err != nil || !found {
		return nil, err
	}
	return []registry.Source{&image{c: s.c, ref: s.ref}}, nil
}

func (s *prefixStore) Blobs(ctx context.Context) ([]registry.StoredBlob, error) {
	ents, err := s.c.ListAll(ctx, s.ref.S3Key("blobs/sha256/"))
	if err != nil {
		return nil, err
	}
	var out []registry.StoredBlob
	for _, e := range ents {
		d, err := model.DigestFromShardPath(strings.TrimPrefix(e.Key, dirPrefix(s.ref.S3KeyPrefix())))
		if err != nil {
			continue // not a blob of this image: left alone
		}
		out = append(out, registry.StoredBlob{Digest: d, Size: e.Size, Modified: e.LastModified})
	}
	return out, nil
}

func (s *prefixStore) RemoveBlobs(ctx context.Context, ds []model.Digest) error {
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = s.ref.S3Key(d.ShardPath())
	}
	return s.c.RemoveKeys(ctx, keys)
}

// RetagImage implements registry.Retagger: every object is copied server
// side (CopyObject) within the bucket, blobs first, the manifest last;
// signature bundles the new prefix held for an older image are removed.
func (b *Backend) RetagImage(ctx context.Context, src, dst registry.Ref, blobs []model.Digest) error {
	if src.Bucket != dst.Bucket {
		return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("retag stays in one bucket: %s and %s are in different buckets", src.Raw, dst.Raw)),
			"use `pf-registry copy` to copy an image to another bucket")
	}
	if src.S3KeyPrefix() == dst.S3KeyPrefix() {
		return fault.Classed(fault.ErrUsage, fmt.Errorf("%s and %s are the same prefix", src.Raw, dst.Raw))
	}
	c, err := b.client(dst)
	if err != nil {
		return err
	}
	from, to := &image{c: c, ref: src}, &image{c: c, ref: dst}
	for _, d := range blobs {
		if has, err := to.HasBlob(ctx, d); err != nil || has {
			if err != nil {
				return err
			}
			continue
		}
		size, err := from.StatBlob(ctx, d)
		if err != nil {
			return err
		}
		if err := c.Copy(ctx, from.blobKey(d), to.blobKey(d), size); err != nil {
			return err
		}
	}
	return copySignedManifest(ctx, c, src, dst)
}

// copySignedManifest switches dst to the image at src, as readers see it
// (through a pending journal), with its HMAC signature and bundles: through
// dst's journal, like a push, so that a retag killed at any point leaves
// dst's old image or the new one.
func copySignedManifest(ctx context.Context, c *bucket.Client, src, dst registry.Ref) error {
	from := &image{c: c, ref: src}
	raw, sig, err := from.FetchManifest(ctx)
	if err != nil {
		return err
	}
	atts, err := from.Signatures(ctx)
	if err != nil {
		return err
	}
	var files []registry.BundleFile
	for _, a := range atts {
		if a.Bundle != nil && registry.IsBundleFile(a.Where) {
			files = append(files, registry.BundleFile{Name: a.Where, Data: a.Bundle})
		}
	}
	return (&image{c: c, ref: dst}).commit(ctx, raw, sig, files)
}
