package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	godigest "github.com/opencontainers/go-digest"
	"github.com/regclient/regclient"
	"github.com/regclient/regclient/types/blob"
	"github.com/regclient/regclient/types/descriptor"
	"github.com/regclient/regclient/types/errs"
	"github.com/regclient/regclient/types/ref"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// Size limits for what is read into memory. A .pfimg manifest is a few KiB;
// a signature object about 200 bytes.
const (
	maxConfigSize    = 16 << 20
	maxSignatureSize = 64 << 10
)

// location is one image place: a regclient client and reference, plus the
// reference as the user wrote it (for messages).
type location struct {
	rc   *regclient.RegClient
	ref  ref.Ref
	name string
}

// source reads one image. FetchManifest loads the OCI manifest once; the
// layer table it yields maps logical digests to layers for OpenBlob.
type source struct {
	location
	mu  sync.Mutex
	img *Image
	raw []byte // the OCI manifest img was parsed from
}

func (s *source) Describe() string { return s.name }

// image fetches and parses the OCI manifest at the reference (once).
func (s *source) image(ctx context.Context) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.img != nil {
		return s.img, nil
	}
	raw, err := getManifest(ctx, s.location)
	if err != nil {
		return nil, err
	}
	img, err := ParseImage(raw)
	var foreign *errNotProcessFork
	if errors.As(err, &foreign) {
		return nil, fault.WithHint(fault.Classed(fault.ErrNotFound, fmt.Errorf("%s: %v", s.name, err)),
			"this tag holds another kind of artifact; pick a ProcessFork tag (pf-registry tags)")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	s.img, s.raw = img, raw
	return img, nil
}

// manifestBytes is the OCI manifest the image was read from.
func (s *source) manifestBytes(ctx context.Context) ([]byte, error) {
	if _, err := s.image(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw, nil
}

// getManifest returns the raw OCI manifest bytes at a location, checked
// against the reference digest when there is one.
func getManifest(ctx context.Context, l location) ([]byte, error) {
	m, err := l.rc.ManifestGet(ctx, l.ref)
	if err != nil {
		if errors.Is(err, errs.ErrMismatch) || errors.Is(err, errs.ErrDigestMismatch) {
			return nil, fault.Integrityf("%s: the manifest does not match the digest in the reference", l.name)
		}
		return nil, classify(err, l.name, "image manifest")
	}
	raw, err := m.RawBody()
	if err != nil {
		return nil, classify(err, l.name, "image manifest")
	}
	if l.ref.Digest != "" && string(model.FromBytes(raw)) != l.ref.Digest {
		return nil, fault.Integrityf("%s: the manifest does not match the digest in the reference", l.name)
	}
	return raw, nil
}

// FetchManifest returns the config blob (the .pfimg manifest bytes) and the
// signature layer. Nothing is decompressed here.
func (s *source) FetchManifest(ctx context.Context) (manifest, sig []byte, err error) {
	img, err := s.image(ctx)
	if err != nil {
		return nil, nil, err
	}
	manifest, err = readSmallBlob(ctx, s.location, img.Config, maxConfigSize, "config blob (the image manifest)")
	if err != nil {
		return nil, nil, err
	}
	if img.Signature == nil {
		return manifest, nil, nil
	}
	sig, err = readSmallBlob(ctx, s.location, *img.Signature, maxSignatureSize, "signature layer")
	if err != nil {
		return nil, nil, err
	}
	return manifest, sig, nil
}

// readSmallBlob reads a whole blob, bounded, and checks its digest itself
// (not only through regclient) because these bytes are the trust anchor.
func readSmallBlob(ctx context.Context, l location, d Descriptor, limit int64, what string) ([]byte, error) {
	if d.Size > limit {
		return nil, fault.Integrityf("%s: %s is %d bytes, more than the %d allowed", l.name, what, d.Size, limit)
	}
	br, err := l.rc.BlobGet(ctx, l.ref, unsized(d))
	if err != nil {
		return nil, classify(err, l.name, what)
	}
	defer br.Close()
	b, err := io.ReadAll(io.LimitReader(br, limit+1))
	if err != nil {
		return nil, classify(err, l.name, what)
	}
	if int64(len(b)) != d.Size || string(model.FromBytes(b)) != d.Digest {
		return nil, fault.Integrityf("%s: %s does not match its digest %s", l.name, what, d.Digest)
	}
	return b, nil
}

// OpenBlob streams the layer that holds logical blob d.
func (s *source) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	img, err := s.image(ctx)
	if err != nil {
		return nil, -1, err
	}
	l, ok := img.Layer(d)
	if !ok {
		return nil, -1, fault.NotFoundf("%s: no layer holds blob %s", s.name, d.Short())
	}
	br, err := s.rc.BlobGet(ctx, s.ref, unsized(l.Stored))
	if err != nil {
		return nil, -1, classify(err, s.name, "layer of blob "+d.Short())
	}
	return newLayerReader(br, s.name, "layer of blob "+d.Short(), l.Stored.Size, false), l.Stored.Size, nil
}

// OpenBlobAt implements registry.BlobRanger with a Range request.
func (s *source) OpenBlobAt(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, error) {
	img, err := s.image(ctx)
	if err != nil {
		return nil, err
	}
	l, ok := img.Layer(d)
	if !ok || off < 0 || off >= l.Stored.Size {
		return nil, fmt.Errorf("%s: no bytes of blob %s from offset %d", s.name, d.Short(), off)
	}
	what := "layer of blob " + d.Short()
	br, err := s.rc.BlobGet(withOffset(ctx, off), s.ref, unsized(l.Stored))
	if err != nil {
		return nil, classify(err, s.name, what)
	}
	return newLayerReader(br, s.name, what, l.Stored.Size-off, true), nil
}

// StatBlob reports a layer's stored size without downloading it.
func (s *source) StatBlob(ctx context.Context, d model.Digest) (int64, error) {
	img, err := s.image(ctx)
	if err != nil {
		return -1, err
	}
	l, ok := img.Layer(d)
	if !ok {
		return -1, fault.NotFoundf("%s: no layer holds blob %s", s.name, d.Short())
	}
	br, err := s.rc.BlobHead(ctx, s.ref, toRC(l.Stored))
	if err != nil {
		return -1, classify(err, s.name, "layer of blob "+d.Short())
	}
	_ = br.Close()
	return l.Stored.Size, nil
}

// StoredDigest is the layer digest (sha256 of the stored bytes) of a
// logical blob, known from the manifest without reading the layer (""
// when unknown).
func (s *source) StoredDigest(d model.Digest) model.Digest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.img == nil {
		return ""
	}
	l, ok := s.img.Layer(d)
	if !ok {
		return ""
	}
	return model.Digest(l.Stored.Digest)
}

// layerReader checks the size the manifest declares (a short answer that
// ends cleanly is one too: the engine asks once more before it believes
// it) and turns regclient's errors into integrity errors.
//
// From a registry it reads the HTTP body itself rather than regclient's
// reader, which hashes every byte for the layer digest: the engine checks
// the logical digest that the signed manifest names, which is what
// vouches for the content (the layer digest comes from the unsigned OCI
// manifest), so a second SHA-256 pass would only cost CPU. Close still
// goes through regclient, which releases its connection slot.
type layerReader struct {
	r           io.Reader
	rc          io.ReadCloser
	where, what string
	size, n     int64
	ranged      bool // the rest of a layer: regclient's digest cannot match
}

func newLayerReader(br blob.Reader, where, what string, size int64, ranged bool) *layerReader {
	r := io.Reader(br)
	if resp := br.Response(); resp != nil && resp.Body != nil {
		r = resp.Body
	}
	return &layerReader{r: r, rc: br, where: where, what: what, size: size, ranged: ranged}
}

func (r *layerReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	eof := errors.Is(err, io.EOF) // regclient wraps it in its digest check
	switch {
	case r.n > r.size:
		return n, fault.Integrityf("%s: %s is longer than the %d bytes the manifest declares", r.where, r.what, r.size)
	case eof && r.n < r.size:
		return n, fault.Integrityf("%s: %s is %d bytes, the manifest declares %d", r.where, r.what, r.n, r.size)
	case eof && r.ranged && errors.Is(err, errs.ErrDigestMismatch):
		err = io.EOF
	case err != nil && err != io.EOF:
		err = classify(err, r.where, r.what)
	}
	return n, err
}

func (r *layerReader) Close() error { return r.rc.Close() }

// unsized is a descriptor for a GET without regclient's Content-Length
// check: a wrong size would send it into retries and end in a vague "retry
// limit exceeded"; the size is checked here instead, as the bytes arrive.
func unsized(d Descriptor) descriptor.Descriptor {
	rd := toRC(d)
	rd.Size = 0
	return rd
}

// toRC converts a descriptor to regclient's type.
func toRC(d Descriptor) descriptor.Descriptor {
	return descriptor.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: godigest.Digest(d.Digest)}
}
