package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
)

// The mark-and-sweep every deletion ends with: mark every blob the images
// left in a store reach (the spec's walk), then remove what no image
// reaches, except blobs younger than the grace period (a push in progress
// writes its blobs before its manifest). The sweep always runs after the
// manifests are gone, so a process killed in between leaves unreached
// blobs, never an image without its blobs.

// sweeper is one run of sweeps over the stores of a deletion.
type sweeper struct {
	opt DeleteOptions
	em  *emitter
	rep *DeleteReport
	// merged also keeps the ledgers an effects.merged.v1 document points
	// at: the local store's own tools read them, though the walk does not.
	merged bool
}

func newSweeper(opt DeleteOptions) *sweeper {
	return &sweeper{opt: opt, em: newEmitter(OpDelete, opt.Progress),
		rep: &DeleteReport{DryRun: opt.DryRun, Images: []DeletedImage{}, Blobs: []DeletedBlob{}}}
}

// done reports the end of the run.
func (s *sweeper) done(images int) {
	s.em.send(Event{Kind: KindRun, Phase: PhaseDone, Images: images, Done: s.rep.Bytes, Total: s.rep.Bytes,
		Message: fmt.Sprintf("%d image(s), %d blob(s)", len(s.rep.Images), len(s.rep.Blobs))})
}

// markConcurrency bounds the images walked at once.
const markConcurrency = 4

// sweep removes the blobs of bs no remaining image reaches. skip are the
// images a dry run would have deleted.
func (s *sweeper) sweep(ctx context.Context, bs BlobStore, skip []Ref) error {
	images, err := bs.Images(ctx, skip)
	if err != nil {
		return err
	}
	reached, err := mark(ctx, images, s.merged)
	if err != nil {
		return err
	}
	blobs, err := bs.Blobs(ctx)
	if err != nil {
		return err
	}
	remove, kept := partition(blobs, reached, s.opt.grace(), s.opt.now())
	where := bs.Describe()
	for _, b := range kept {
		s.rep.Kept = append(s.rep.Kept, DeletedBlob{Store: where, Digest: b.Digest, Size: b.Size, Modified: b.Modified})
	}
	if len(remove) == 0 {
		return nil
	}
	if !s.opt.DryRun {
		ds := make([]model.Digest, len(remove))
		for i, b := range remove {
			ds[i] = b.Digest
		}
		if err := bs.RemoveBlobs(ctx, ds); err != nil {
			return err
		}
	}
	for _, b := range remove {
		s.rep.Blobs = append(s.rep.Blobs, DeletedBlob{Store: where, Digest: b.Digest, Size: b.Size, Modified: b.Modified})
		s.rep.Bytes += b.Size
		s.em.send(Event{Kind: KindBlob, Ref: where, Digest: b.Digest, Phase: PhaseDone, Done: b.Size, Total: b.Size})
	}
	if s.opt.DryRun {
		return nil
	}
	return recheck(ctx, bs, remove)
}

// recheck catches an image that appeared while the sweep ran (a push that
// found a blob present, and skipped it, just before it was removed).
func recheck(ctx context.Context, bs BlobStore, removed []StoredBlob) error {
	images, err := bs.Images(ctx, nil)
	if err != nil || len(images) == 0 {
		return err
	}
	for _, src := range images {
		reached, err := mark(ctx, []Source{src}, false)
		if err != nil {
			return err
		}
		lost := 0
		for _, b := range removed {
			if reached[b.Digest] {
				lost++
			}
		}
		if lost > 0 {
			return fault.WithHint(fault.Integrityf("%s was pushed while its blobs were being swept and lost %d of them", src.Describe(), lost),
				"push that image again")
		}
	}
	return nil
}

// partition splits the stored blobs no image reaches into those to remove
// and those the grace period keeps. A blob of unknown age is kept unless
// the grace period is zero.
func partition(blobs []StoredBlob, reached map[model.Digest]bool, grace time.Duration, now time.Time) (remove, kept []StoredBlob) {
	for _, b := range blobs {
		switch {
		case reached[b.Digest]:
		case grace > 0 && (b.Modified.IsZero() || now.Sub(b.Modified) < grace):
			kept = append(kept, b)
		default:
			remove = append(remove, b)
		}
	}
	sort.Slice(remove, func(i, j int) bool { return remove[i].Digest < remove[j].Digest })
	sort.Slice(kept, func(i, j int) bool { return kept[i].Digest < kept[j].Digest })
	return remove, kept
}

// mark lists every blob the images reach: their walk, and the manifest's
// own digest (the local store keeps every manifest as a blob too). An image
// whose blobs cannot be told stops the sweep: removing blobs it might
// reach could break it.
func mark(ctx context.Context, images []Source, merged bool) (map[model.Digest]bool, error) {
	reached := map[model.Digest]bool{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(markConcurrency)
	for _, src := range images {
		g.Go(func() error {
			ds, err := imageBlobs(gctx, src, merged)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range ds {
				reached[d] = true
			}
			return nil
		})
	}
	return reached, g.Wait()
}

// imageBlobs is what one image reaches.
func imageBlobs(ctx context.Context, src Source, merged bool) ([]model.Digest, error) {
	walk, more, err := reachedBlobs(ctx, src, merged)
	return append(walk, more...), err
}

// reachedBlobs is what one image reaches: its manifest and the blobs of
// its walk, and apart from them (when merged) the parents' ledgers a
// merged effects ledger names, which a pull does not carry but a sweep
// keeps.
func reachedBlobs(ctx context.Context, src Source, merged bool) (walk, more []model.Digest, err error) {
	raw, _, err := fetchManifest(ctx, src, RetryPolicy{})
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil, nil // deleted meanwhile: it reaches nothing
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := model.ParseManifest(raw)
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		return nil, nil, unmarkable(src, err)
	}
	_, refs, err := reach(ctx, src, m, TransferOptions{})
	if err != nil {
		return nil, nil, unmarkable(src, err)
	}
	walk = []model.Digest{model.FromBytes(raw)}
	for _, r := range refs {
		walk = append(walk, r.Digest)
	}
	if merged {
		if more, err = mergedLedgers(ctx, src, m.Effects.Ledger); err != nil {
			return nil, nil, unmarkable(src, err)
		}
	}
	return walk, more, nil
}

func unmarkable(src Source, err error) error {
	return fault.WithHint(fmt.Errorf("cannot tell which blobs %s reaches, so none were swept: %w", src.Describe(), err),
		"repair or remove that image, then run again")
}

// maxMergedDoc bounds the read of an effects ledger to find a merged
// document (about 250 bytes); a real ledger is larger and is not one.
const maxMergedDoc = 16 << 10

// maxMergeDepth bounds the chain of merged ledgers followed.
const maxMergeDepth = 64

// mergedLedgers lists the ledgers an effects.merged.v1 document points at,
// following merges of merges.
func mergedLedgers(ctx context.Context, src Source, ledger model.Digest) ([]model.Digest, error) {
	var out []model.Digest
	seen := map[model.Digest]bool{}
	todo := []model.Digest{ledger}
	for len(todo) > 0 && len(seen) < maxMergeDepth {
		d := todo[0]
		todo = todo[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		mb, err := loadMetaBlob(ctx, src, d, blob.Limit{Max: maxMergedDoc, Why: "the size of a merged effects document", Name: "effects.ledger"}, RetryPolicy{})
		if err != nil {
			continue // absent or larger: not a merged document
		}
		l, err := model.ParseLedger(mb.logical)
		if err != nil || l.Merged == nil {
			continue
		}
		for _, p := range []model.Digest{l.Merged.ParentA, l.Merged.ParentB, l.Merged.Ancestor} {
			out = append(out, p)
			todo = append(todo, p)
		}
	}
	return out, nil
}
