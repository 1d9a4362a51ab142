package ipfs

import (
	"context"
	"fmt"
	"sort"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Signatures implements registry.SignatureSource: the bundle entries of the
// image directory, at most registry.MaxSignatures.
func (s *source) Signatures(ctx context.Context) ([]registry.Attached, error) {
	links := append([]lsLink(nil), s.bundles...)
	sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
	var out []registry.Attached
	for _, l := range links {
		if len(out) >= registry.MaxSignatures {
			break
		}
		a := registry.Attached{Where: l.Name}
		if l.Size > signing.MaxBundleSize {
			a.Problem = fmt.Sprintf("bundle is larger than %d bytes", signing.MaxBundleSize)
		} else if b, err := s.b.catAll(ctx, l.Hash, signing.MaxBundleSize, l.Name); err != nil {
			return nil, err
		} else {
			a.Bundle = b
		}
		out = append(out, a)
	}
	return out, nil
}

// CommitSigned implements registry.SignedSink: the bundles go into the
// fresh directory with the signature and the manifest.
func (s *sink) CommitSigned(ctx context.Context, manifest, sig []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	return registry.Checks(files), s.commit(ctx, manifest, sig, files)
}

// AddSignatures implements registry.SignedSink: the image directory is
// copied into staging as it is (a link, no bytes move), the bundles are
// added, and the new directory is pinned and named. A name moves to the
// new directory; an image read by CID gets a new CID (ResultRef).
func (s *sink) AddSignatures(ctx context.Context, manifest []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	path, err := s.b.resolve(ctx, s.orig)
	if err != nil {
		return nil, err
	}
	if err := s.checkManifest(ctx, path, model.FromBytes(manifest)); err != nil {
		return nil, err
	}
	if err := s.addTo(ctx, path, files); err != nil {
		return nil, s.abandon(ctx, err)
	}
	return registry.Checks(files), nil
}

// addTo stages a copy of the directory at path with files added and
// publishes it.
func (s *sink) addTo(ctx context.Context, path string, files []registry.BundleFile) error {
	if err := s.b.c.callJSON(ctx, "files/cp", args("arg", "/ipfs/"+path, "arg", s.staging), nil, nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.staged = true
	s.mu.Unlock()
	for _, f := range files {
		if err := s.put(ctx, f.Name, f.Data); err != nil {
			return err
		}
	}
	if s.orig.named() {
		// Another push meanwhile would be undone by the rename.
		if now, err := s.b.resolve(ctx, s.orig); err != nil || now != path {
			return registry.Changed(s.orig.String())
		}
	}
	return s.publish(ctx)
}

// checkManifest fails with registry.ErrChanged unless the directory at
// path holds the manifest with digest want.
func (s *sink) checkManifest(ctx context.Context, path string, want model.Digest) error {
	links, err := s.b.ls(ctx, path, false)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Name == ManifestEntry {
			raw, err := s.b.catAll(ctx, l.Hash, maxManifest, ManifestEntry)
			if err != nil {
				return err
			}
			if model.FromBytes(raw) == want {
				return nil
			}
		}
	}
	return registry.Changed(s.orig.String())
}
