package registry

import (
	"context"
	"io"
	"os"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/store"
)

// StoreSource reads one image of the local store.
func StoreSource(st *store.Store, id model.Digest) (Source, error) {
	if _, err := st.Manifest(id); err != nil {
		return nil, err
	}
	return &storeSource{st: st, id: id}, nil
}

type storeSource struct {
	st *store.Store
	id model.Digest
}

func (s *storeSource) Describe() string {
	return "local store image " + s.id.Short()
}

func (s *storeSource) FetchManifest(context.Context) ([]byte, []byte, error) {
	raw, err := s.st.Manifest(s.id)
	return raw, nil, err
}

func (s *storeSource) OpenBlob(_ context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	return s.st.OpenBlob(d)
}

func (s *storeSource) StatBlob(_ context.Context, d model.Digest) (int64, error) {
	fi, err := os.Stat(s.st.BlobPath(d))
	if err != nil {
		return 0, fault.NotFoundf("blob %s is not in the local store", d.Short())
	}
	return fi.Size(), nil
}

// StoreSink writes into the local store: blobs through staging files,
// renamed only once verified, and the image marker last.
func StoreSink(st *store.Store) Sink { return storeSink{st} }

type storeSink struct{ st *store.Store }

func (s storeSink) Describe() string { return "local store " + s.st.Root() }

// HasBlob also refreshes a blob it finds, so that a gc running meanwhile
// takes it for young and leaves it to the image being pulled.
func (s storeSink) HasBlob(_ context.Context, d model.Digest) (bool, error) {
	if !s.st.HasBlob(d) {
		return false, nil
	}
	s.st.TouchBlob(d)
	return true, nil
}

func (s storeSink) PutBlob(_ context.Context, b *Blob) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.st.PutStored(b.Digest, rc)
}

func (s storeSink) Commit(_ context.Context, manifest, _ []byte) error {
	_, err := s.st.PutImage(manifest)
	return err
}

// DiscardSink reads every blob to its end, so the stream verifies it, and
// keeps nothing: deep verify, and tests that only need blobs consumed.
func DiscardSink() Sink { return discardSink{} }

type discardSink struct{}

func (discardSink) Describe() string                                    { return "verification" }
func (discardSink) HasBlob(context.Context, model.Digest) (bool, error) { return false, nil }
func (discardSink) Commit(context.Context, []byte, []byte) error        { return nil }
func (discardSink) PutBlob(_ context.Context, b *Blob) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}
