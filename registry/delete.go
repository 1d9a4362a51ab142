package registry

import (
	"context"
	"errors"
	"fmt"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// delTarget is one reference of a deletion, as planned.
type delTarget struct {
	ref     Ref
	id      model.Digest
	present bool      // a manifest is there
	store   BlobStore // nil when the backend sweeps no blobs
}

// Delete removes the images at refs: every manifest (and its signatures)
// first, then the blobs no image left in their stores reaches, older than
// the grace period. A reference whose manifest is already gone but whose
// blobs are still there (an interrupted deletion) has them swept, so
// running a deletion again finishes it. Read-only mode refuses it, except
// as a dry run.
func (e *engine) Delete(ctx context.Context, refs []Ref, opt DeleteOptions) (*DeleteReport, error) {
	if !opt.DryRun {
		for _, r := range refs {
			if err := e.cfg.CheckWrite(r.Raw); err != nil {
				return nil, err
			}
		}
	}
	del, ok := e.Backend.(Deleter)
	if !ok {
		return nil, unsupported(e.Scheme(), "delete images")
	}
	s := newSweeper(opt)
	targets, err := e.planDelete(ctx, uniqueRefs(refs), opt.MissingOK)
	if err != nil {
		return s.rep, err
	}
	s.em.send(Event{Kind: KindRun, Phase: PhaseQueued, Images: len(targets), Total: -1})
	for _, t := range targets {
		if !opt.DryRun {
			// A leftover location may still hold signatures; an image
			// deleted meanwhile by someone else is as good as deleted.
			if err := del.DeleteImage(ctx, t.ref); err != nil && !errors.Is(err, fault.ErrNotFound) {
				s.em.send(Event{Kind: KindImage, Ref: t.ref.Raw, Phase: PhaseFailed, Error: err.Error(), Total: -1})
				return s.rep, err
			}
		}
		s.rep.Images = append(s.rep.Images, DeletedImage{Ref: t.ref.Raw, ImageID: t.id, Leftover: !t.present})
		s.em.send(Event{Kind: KindImage, Ref: t.ref.Raw, Digest: t.id, Phase: PhaseDone, Total: -1})
	}
	var skip []Ref
	if opt.DryRun {
		skip = refs
	}
	swept := map[string]bool{}
	for _, t := range targets {
		if t.store == nil {
			continue
		}
		if k := t.store.Describe(); !swept[k] {
			swept[k] = true
			if err := s.sweep(ctx, t.store, skip); err != nil {
				return s.rep, err
			}
		}
	}
	if len(swept) == 0 {
		s.rep.Notes = append(s.rep.Notes, e.sweepNote())
	}
	s.done(len(targets))
	return s.rep, nil
}

// planDelete learns what is at each reference before anything is removed:
// a reference with neither an image nor leftover blobs fails the whole
// deletion, or with missingOK is passed over.
func (e *engine) planDelete(ctx context.Context, refs []Ref, missingOK bool) ([]delTarget, error) {
	sw, _ := e.Backend.(BlobSweeper)
	var out []delTarget
	for _, r := range refs {
		t := delTarget{ref: r}
		id, err := imageID(ctx, e, r)
		switch {
		case err == nil:
			t.id, t.present = id, true
		case !errors.Is(err, fault.ErrNotFound):
			return nil, err
		}
		if sw != nil {
			if t.store, err = sw.BlobStore(ctx, r); err != nil {
				return nil, err
			}
		}
		if !t.present {
			err := leftovers(ctx, t.store, r)
			if errors.Is(err, fault.ErrNotFound) && missingOK {
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// imageID is the ID of the image at ref (fault.ErrNotFound when none).
func imageID(ctx context.Context, b Backend, ref Ref) (model.Digest, error) {
	src, err := b.Source(ctx, ref)
	if err != nil {
		return "", err
	}
	raw, _, err := src.FetchManifest(ctx)
	if err != nil {
		return "", err
	}
	return model.FromBytes(raw), nil
}

// leftovers accepts a reference without a manifest only when blobs of an
// interrupted deletion are left there.
func leftovers(ctx context.Context, bs BlobStore, r Ref) error {
	if bs != nil {
		blobs, err := bs.Blobs(ctx)
		if err != nil {
			return err
		}
		if len(blobs) > 0 {
			return nil
		}
	}
	return fault.WithHint(fault.NotFoundf("no image at %s", r.Raw),
		"list the images with `pf-registry tags` on its repository")
}

func (e *engine) sweepNote() string {
	if n, ok := e.Backend.(SweepNoter); ok {
		return n.SweepNote()
	}
	return e.Scheme() + ": blobs are left to the registry's own garbage collection"
}

func uniqueRefs(refs []Ref) []Ref {
	seen := map[string]bool{}
	var out []Ref
	for _, r := range refs {
		if !seen[r.Raw] {
			seen[r.Raw] = true
			out = append(out, r)
		}
	}
	return out
}

func unsupported(scheme, what string) error {
	return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("%s:// registries cannot %s in this build", scheme, what)),
		"use a backend that supports it, or do it with the registry's own tools")
}

// DeleteAll deletes references that may lie in different registries: one
// Delete per scheme, on the registry open gives for the first reference of
// that scheme. The report merges them, also the part done before a
// failure; a reference open refuses fails the whole before anything goes.
func DeleteAll(ctx context.Context, refs []string, open func(string) (Registry, Ref, error), opt DeleteOptions) (*DeleteReport, error) {
	type group struct {
		reg  Registry
		refs []Ref
	}
	var order []string
	groups := map[string]*group{}
	for _, r := range refs {
		reg, ref, err := open(r)
		if err != nil {
			return nil, err
		}
		g := groups[ref.Scheme]
		if g == nil {
			g = &group{reg: reg}
			groups[ref.Scheme] = g
			order = append(order, ref.Scheme)
		}
		g.refs = append(g.refs, ref)
	}
	total := &DeleteReport{DryRun: opt.DryRun, Images: []DeletedImage{}, Blobs: []DeletedBlob{}}
	for _, s := range order {
		rep, err := groups[s].reg.Delete(ctx, groups[s].refs, opt)
		total.add(rep)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// add merges another report into r.
func (r *DeleteReport) add(o *DeleteReport) {
	if o == nil {
		return
	}
	r.Images = append(r.Images, o.Images...)
	r.Blobs = append(r.Blobs, o.Blobs...)
	r.Kept = append(r.Kept, o.Kept...)
	r.Bytes += o.Bytes
	r.Notes = append(r.Notes, o.Notes...)
}
