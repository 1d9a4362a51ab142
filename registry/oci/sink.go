package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/regclient/regclient/types/errs"
	"github.com/regclient/regclient/types/manifest"

	"pf-registry/blob"
	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/internal/spool"
	"pf-registry/model"
	"pf-registry/registry"
)

// spoolInMemory is the largest stored blob kept in memory while its layer
// digest is computed; bigger ones go through a temporary file, so memory
// stays bounded whatever the image size.
const spoolInMemory = 1 << 20

// sink writes one image. Blobs become layers; Commit writes config,
// signature layer and finally the OCI manifest, so a failed push never
// leaves a tag pointing at missing blobs.
type sink struct {
	location
	mu sync.Mutex
	// candidates maps logical digests to layers named by the manifest that
	// was at the tag before the push: checked with HEAD before skipping.
	candidates map[model.Digest]Descriptor
	// placed maps logical digests to layers known to be at the destination.
	placed map[model.Digest]Descriptor
	// meta keeps the stored bytes of the fs tree and page manifest, which
	// Commit reads to order the layers (walk order, spec §5).
	meta map[model.Digest][]byte
}

func newSink(ctx context.Context, l location) (*sink, error) {
	s := &sink{location: l, candidates: map[model.Digest]Descriptor{},
		placed: map[model.Digest]Descriptor{}, meta: map[model.Digest][]byte{}}
	raw, err := getManifest(ctx, l)
	switch {
	case err == nil:
		if img, perr := ParseImage(raw); perr == nil {
			for _, ly := range img.Layers {
				s.candidates[ly.Logical] = ly.Stored
			}
		}
	case errors.Is(err, fault.ErrNotFound):
		// A new tag: nothing to learn.
	default:
		return nil, err
	}
	return s, nil
}

func (s *sink) Describe() string { return s.name }

// HasBlob is true when the manifest previously at the tag names a layer for
// d and that layer is still in the repository.
func (s *sink) HasBlob(ctx context.Context, d model.Digest) (bool, error) {
	s.mu.Lock()
	if _, ok := s.placed[d]; ok {
		s.mu.Unlock()
		return true, nil
	}
	cand, ok := s.candidates[d]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	present, err := s.hasLayer(ctx, cand)
	if err != nil || !present {
		return false, err
	}
	s.record(d, cand)
	return true, nil
}

func (s *sink) hasLayer(ctx context.Context, d Descriptor) (bool, error) {
	br, err := s.rc.BlobHead(ctx, s.ref, toRC(d))
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, writeErr(err, s.name, "layer "+model.Digest(d.Digest).Short())
	}
	_ = br.Close()
	return true, nil
}

func (s *sink) record(d model.Digest, desc Descriptor) {
	s.mu.Lock()
	s.placed[d] = desc
	s.mu.Unlock()
}

// writeErr classifies a failed write. A 404 on an upload means the
// repository refuses it, not that a blob is missing (the engine reads
// ErrNotFound from a sink as a blob missing at the source).
func writeErr(err error, where, what string) error {
	cerr := classify(err, where, what)
	if errors.Is(cerr, fault.ErrNotFound) && !errors.Is(err, fault.ErrNotFound) {
		return fault.WithHint(fmt.Errorf("%s: the registry refused the %s (HTTP 404)", where, what),
			"check the repository name and that you may push to it")
	}
	return cerr
}

// isMetaRole names the blobs Commit must read to compute the walk.
func isMetaRole(role string) bool { return role == "world.fs" || role == "cache.manifest" }

// PutBlob uploads the stored bytes of b as a layer. A monolithic upload
// needs the layer digest first, so the verified stream is spooled once
// (memory or temp file) while hashing. When the source knows the layer
// digest and the repository has it, the stream is only read to its end
// (the engine verifies the logical digest as it passes) and not uploaded.
func (s *sink) PutBlob(ctx context.Context, b *registry.Blob) error {
	checked := ""
	if b.StoredDigest != "" && b.StoredSize > 0 && !isMetaRole(b.Role) {
		desc := Descriptor{MediaType: MediaTypeLayer, Size: b.StoredSize, Digest: string(b.StoredDigest)}
		present, err := s.hasLayer(ctx, desc)
		if err != nil {
			return err
		}
		if present {
			return s.drain(b, desc)
		}
		checked = desc.Digest
	}
	sp, err := spoolBlob(b)
	if err != nil {
		return err
	}
	defer sp.close()
	desc := Descriptor{MediaType: MediaTypeLayer, Size: sp.size, Digest: string(sp.digest)}
	if isMetaRole(b.Role) && sp.mem != nil {
		s.mu.Lock()
		s.meta[b.Digest] = sp.mem
		s.mu.Unlock()
	}
	present := false
	if desc.Digest != checked {
		if present, err = s.hasLayer(ctx, desc); err != nil {
			return err
		}
	}
	if !present {
		r, err := sp.reader()
		if err != nil {
			return err
		}
		if _, err := s.rc.BlobPut(ctx, s.ref, toRC(desc), b.CountUpload(r)); err != nil {
			return writeErr(err, s.name, "upload of blob "+b.Digest.Short())
		}
	}
	s.record(b.Digest, desc)
	return nil
}

// drain reads a blob the repository already holds to its end, so that the
// engine's verifier sees every byte before the layer is named.
func (s *sink) drain(b *registry.Blob, desc Descriptor) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	s.record(b.Digest, desc)
	return nil
}

// spooled is one blob's stored bytes, hashed, in memory or in a temp file.
type spooled struct {
	digest model.Digest
	size   int64
	mem    []byte
	file   *os.File
}

func spoolBlob(b *registry.Blob) (*spooled, error) {
	rc, err := b.OpenToSpool()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := sha256.New()
	sp := &spooled{}
	if b.StoredSize >= 0 && b.StoredSize <= spoolInMemory {
		var buf bytes.Buffer
		buf.Grow(int(b.StoredSize))
		if _, err := io.Copy(io.MultiWriter(&buf, h), rc); err != nil {
			return nil, err
		}
		sp.mem = buf.Bytes()
		sp.size = int64(buf.Len())
	} else {
		f, err := spool.Create("oci-layer")
		if err != nil {
			return nil, fmt.Errorf("spooling blob %s: %w", b.Digest.Short(), err)
		}
		sp.file = f
		n, err := io.Copy(io.MultiWriter(f, h), rc)
		if err != nil {
			sp.close()
			return nil, err
		}
		sp.size = n
	}
	sp.digest = model.FromHash(h)
	return sp, nil
}

// reader returns the spooled bytes from the start; it is an io.Seeker for
// regclient's chunked fallback.
func (sp *spooled) reader() (io.ReadSeeker, error) {
	if sp.file == nil {
		return bytes.NewReader(sp.mem), nil
	}
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return sp.file, nil
}

func (sp *spooled) close() {
	if sp.file != nil {
		name := sp.file.Name()
		_ = sp.file.Close()
		_ = os.Remove(name)
	}
}

// Commit writes config (the manifest bytes), the signature layer and then
// the OCI manifest with the layers in walk order, by tag: one PUT switches
// the tag from the old image to the new, whole.
func (s *sink) Commit(ctx context.Context, manifestBytes, sig []byte) error {
	om, err := s.build(ctx, manifestBytes, sig)
	if err != nil {
		return err
	}
	return s.putManifest(ctx, om, true)
}

// putManifest uploads the OCI manifest, by tag or (untagged, for
// signatures to refer to before the tag moves) by digest.
func (s *sink) putManifest(ctx context.Context, om manifest.Manifest, byTag bool) error {
	r := s.ref
	if !byTag {
		r = r.SetDigest(om.GetDescriptor().Digest.String())
	}
	if err := s.rc.ManifestPut(ctx, r, om); err != nil {
		return writeErr(err, s.name, "manifest upload")
	}
	if byTag {
		crashpoint.Step("oci.tagged")
	} else {
		crashpoint.Step("oci.untagged")
	}
	return nil
}

// build uploads config and signature layer and returns the OCI manifest
// of the image, not yet uploaded.
func (s *sink) build(ctx context.Context, manifestBytes, sig []byte) (manifest.Manifest, error) {
	if sig == nil {
		return nil, fault.Integrityf("%s: an OCI image needs a signature layer, none was given", s.name)
	}
	m, err := model.ParseManifest(manifestBytes)
	if err != nil {
		return nil, err
	}
	var loadErr error
	refs := model.Walk(m, func(d model.Digest) ([]byte, error) {
		b, err := s.loadMeta(ctx, d)
		if err != nil && !errors.Is(err, fault.ErrNotFound) && loadErr == nil {
			loadErr = err
		}
		return b, err
	})
	if loadErr != nil {
		return nil, loadErr
	}
	layers := make([]Layer, 0, len(refs))
	s.mu.Lock()
	for _, r := range refs {
		desc, ok := s.placed[r.Digest]
		if !ok {
			s.mu.Unlock()
			return nil, fault.Integrityf("%s: blob %s (%s) was not uploaded; the image is incomplete", s.name, r.Digest.Short(), r.Role)
		}
		layers = append(layers, Layer{Logical: r.Digest, Stored: desc})
	}
	s.mu.Unlock()

	config, err := s.putBytes(ctx, MediaTypeConfig, manifestBytes, "config blob")
	if err != nil {
		return nil, err
	}
	sigDesc, err := s.putBytes(ctx, MediaTypeSignature, sig, "signature layer")
	if err != nil {
		return nil, err
	}
	om, err := manifest.New(manifest.WithRaw(BuildManifest(config, sigDesc, layers)))
	if err != nil {
		return nil, fmt.Errorf("%s: building the OCI manifest: %w", s.name, err)
	}
	return om, nil
}

// loadMeta returns the logical bytes of an fs tree or page manifest blob:
// from the copy PutBlob kept, else from the layer at the destination.
func (s *sink) loadMeta(ctx context.Context, d model.Digest) ([]byte, error) {
	s.mu.Lock()
	stored, ok := s.meta[d]
	desc, placed := s.placed[d]
	s.mu.Unlock()
	if !ok {
		if !placed {
			return nil, fault.NotFoundf("blob %s not in this image", d.Short())
		}
		if desc.Size > model.MaxMetadataSize {
			return nil, fault.Integrityf("%s: blob %s is too large for an fs tree or page manifest", s.name, d.Short())
		}
		br, err := s.rc.BlobGet(ctx, s.ref, toRC(desc))
		if err != nil {
			return nil, writeErr(err, s.name, "layer of blob "+d.Short())
		}
		defer br.Close()
		stored, err = io.ReadAll(io.LimitReader(br, model.MaxMetadataSize+1))
		if err != nil {
			return nil, writeErr(err, s.name, "layer of blob "+d.Short())
		}
	}
	return blob.DecodeVerified(stored, d, model.MaxMetadataSize)
}

// putBytes uploads a small blob unless the repository has it.
func (s *sink) putBytes(ctx context.Context, mediaType string, b []byte, what string) (Descriptor, error) {
	desc := Descriptor{MediaType: mediaType, Size: int64(len(b)), Digest: string(model.FromBytes(b))}
	present, err := s.hasLayer(ctx, desc)
	if err != nil {
		return desc, err
	}
	if !present {
		if _, err := s.rc.BlobPut(ctx, s.ref, toRC(desc), bytes.NewReader(b)); err != nil {
			return desc, writeErr(err, s.name, what)
		}
	}
	return desc, nil
}
