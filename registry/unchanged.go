package registry

import (
	"context"

	"pf-registry/model"
)

// Holder is an optional Sink capability: whether the destination already
// holds exactly what a transfer would write there — these manifest and
// signature bytes, and every blob, as far as the backend can tell without
// reading one (a registry that only accepts a manifest whose blobs it
// holds needs no more; others check presence and size). An unchanged push
// then stops before any blob is read or sent. `verify --deep` still reads
// every blob.
type Holder interface {
	Holds(ctx context.Context, manifest, sig []byte, blobs []HeldBlob) (bool, error)
}

// HeldBlob is one blob the image reaches, with the stored size the source
// reports (-1 when unknown).
type HeldBlob struct {
	Digest     model.Digest
	StoredSize int64
}

// unchanged ends a transfer whose destination holds the image already:
// every blob is reported skipped and nothing is written. Only a transfer
// that writes a signature and no Sigstore bundle qualifies (bundles are
// not deterministic bytes to compare). A failed check is no verdict: the
// transfer then runs, and reports what fails.
func (t *transfer) unchanged(ctx context.Context, p *plan) bool {
	h, ok := t.dst.(Holder)
	if !ok || p.sig == nil || !p.bundles.Empty() {
		return false
	}
	blobs := make([]HeldBlob, len(p.refs))
	for i, r := range p.refs {
		blobs[i] = HeldBlob{Digest: r.Digest, StoredSize: p.sizes[i]}
	}
	if held, err := h.Holds(ctx, p.raw, p.sig, blobs); err != nil || !held {
		return false
	}
	for i, r := range p.refs {
		t.em.blob(r, PhaseSkipped, 0, p.sizes[i], nil)
		t.rep.Blobs[i].Status = BlobSkipped
	}
	t.rep.Skipped = len(p.refs)
	if rr, ok := t.dst.(ResultReffer); ok {
		t.rep.Destination = rr.ResultRef()
	}
	t.rep.Complete = true
	return true
}
