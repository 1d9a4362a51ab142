package registry

import (
	"context"
	"fmt"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// Retag checks the image at src (signature and manifest) and asks the
// backend to make it available at dst. Both must be of this registry; the
// backend refuses a destination it cannot reach without moving bytes
// (another bucket, dataset or host).
func (e *engine) Retag(ctx context.Context, src, dst Ref) (*RetagReport, error) {
	if err := e.cfg.CheckWrite(dst.Raw); err != nil {
		return nil, err
	}
	rt, ok := e.Backend.(Retagger)
	if !ok {
		return nil, unsupported(e.Scheme(), "retag images")
	}
	if src.Scheme != dst.Scheme {
		return nil, fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("retag stays in one registry: %s and %s are of different schemes", src.Raw, dst.Raw)),
			"use `pf-registry copy` to move an image between registries")
	}
	source, err := e.Source(ctx, src)
	if err != nil {
		return nil, err
	}
	in, err := inspectSource(ctx, source, *e.verifier(), e.cfg.Retry)
	if err != nil {
		return nil, err
	}
	level, _ := e.cfg.Policy.For(src)
	if err := in.Problem(level); err != nil {
		return nil, err
	}
	_, refs, err := reach(ctx, source, in.Manifest, e.cfg.withLimits(TransferOptions{}))
	if err != nil {
		return nil, err
	}
	blobs := make([]model.Digest, len(refs))
	for i, r := range refs {
		blobs[i] = r.Digest
	}
	if err := rt.RetagImage(ctx, src, dst, blobs); err != nil {
		return nil, err
	}
	return &RetagReport{Source: src.Raw, Destination: dst.Raw, ImageID: in.ImageID, Blobs: len(blobs)}, nil
}
