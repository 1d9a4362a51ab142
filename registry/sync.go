package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/signing"
)

// SyncOptions tune Sync.
type SyncOptions struct {
	// TransferOptions apply to each image copied; Progress receives the
	// run's events, every one carrying the image's reference.
	TransferOptions
	// DryRun lists what would be copied and copies nothing.
	DryRun bool
	// Images bounds the images copied at once (default 2).
	Images int
}

// DefaultSyncImages is how many images a sync copies at once.
const DefaultSyncImages = 2

// SyncReport is the outcome of Sync.
type SyncReport struct {
	Source      string      `json:"source"`
	Destination string      `json:"destination"`
	DryRun      bool        `json:"dry_run"`
	Images      []SyncImage `json:"images"`
	Copied      int         `json:"copied"`
	Present     int         `json:"present"`
	Failed      int         `json:"failed"`
	Transferred int         `json:"transferred"` // blobs moved
	Skipped     int         `json:"skipped"`     // blobs the destination had
	Bytes       int64       `json:"bytes"`       // stored bytes moved
	Elapsed     time.Duration
}

// SyncState is where one image of a sync stands.
type SyncState string

// Sync states.
const (
	SyncPresent SyncState = "present" // the destination holds the same image
	SyncMissing SyncState = "missing" // to copy (a dry run stops here)
	SyncCopied  SyncState = "copied"
	SyncFailed  SyncState = "failed"
)

// SyncImage is one image of a sync.
type SyncImage struct {
	Source      string       `json:"source"`
	Destination string       `json:"destination"`
	ImageID     model.Digest `json:"image_id,omitempty"`
	State       SyncState    `json:"state"`
	Transferred int          `json:"transferred"`
	Skipped     int          `json:"skipped"`
	Bytes       int64        `json:"bytes"`
	Error       string       `json:"error,omitempty"`
}

// Sync mirrors one repository, or every repository of a root, from src to
// dst: each image goes to the same relative name and tag (see RepoUnder,
// ImageIn). Images the destination already holds (same image ID, valid
// signature) are left alone; the others are copied with Copy, which skips
// the blobs the destination has, several images at once. Since a copy
// writes its manifest last, an interrupted sync is finished by running it
// again. A source that is itself an image is copied to dst.
func Sync(ctx context.Context, srcReg Registry, srcRoot Ref, dstReg Registry, dstRoot Ref, opt SyncOptions) (*SyncReport, error) {
	if !opt.DryRun {
		if err := configOf(dstReg).CheckWrite(dstRoot.Raw); err != nil {
			return nil, err
		}
	}
	if opt.Images <= 0 {
		opt.Images = DefaultSyncImages
	}
	start := time.Now()
	s := &syncRun{src: srcReg, dst: dstReg, opt: opt, em: newEmitter(OpSync, opt.Progress),
		rep: &SyncReport{Source: srcRoot.Raw, Destination: dstRoot.Raw, DryRun: opt.DryRun, Images: []SyncImage{}}}
	defer func() { s.rep.Elapsed = time.Since(start) }()
	items, err := syncPlan(ctx, srcReg, srcRoot, dstRoot)
	if err != nil {
		return s.rep, err
	}
	s.rep.Images = items
	s.em.send(Event{Kind: KindRun, Phase: PhaseQueued, Images: len(items), Total: -1})
	if err := s.compare(ctx); err != nil {
		return s.rep, err
	}
	err = s.copyMissing(ctx)
	s.em.send(Event{Kind: KindRun, Phase: PhaseDone, Images: len(items), Done: s.rep.Bytes, Total: -1,
		Message: fmt.Sprintf("%d copied, %d present, %d failed", s.rep.Copied, s.rep.Present, s.rep.Failed)})
	return s.rep, err
}

// syncRun is one run of Sync.
type syncRun struct {
	src, dst Registry
	opt      SyncOptions
	em       *emitter
	mu       sync.Mutex // guards rep while images are copied
	rep      *SyncReport
}

// syncPlan lists the source images and where each one goes.
func syncPlan(ctx context.Context, srcReg Registry, srcRoot, dstRoot Ref) ([]SyncImage, error) {
	listing, err := allRepos(ctx, srcReg, srcRoot)
	if err != nil {
		return nil, err
	}
	if listing.Image {
		dst, err := ParseRef(dstRoot.Raw)
		if err != nil {
			return nil, err
		}
		return []SyncImage{{Source: srcRoot.Raw, Destination: dst.Raw, State: SyncMissing}}, nil
	}
	var out []SyncImage
	taken := map[string]string{}
	for _, repo := range listing.Repos {
		srcRepo, err := ParseRoot(repo.Ref)
		if err != nil {
			return nil, err
		}
		dstRepo, err := RepoUnder(dstRoot, RelName(srcRoot, repo))
		if err != nil {
			return nil, err
		}
		tags, err := allTags(ctx, srcReg, srcRepo)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			dst, err := ImageIn(dstRepo, t.Name)
			if err != nil {
				return nil, err
			}
			if prev, dup := taken[dst.Raw]; dup {
				return nil, fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("sync: %s and %s would both go to %s", prev, t.Ref, dst.Raw)),
					"sync the two repositories separately, to different destinations")
			}
			taken[dst.Raw] = t.Ref
			out = append(out, SyncImage{Source: t.Ref, Destination: dst.Raw, State: SyncMissing})
		}
	}
	return out, nil
}

// allRepos lists every repository under a root (all pages).
func allRepos(ctx context.Context, reg Registry, root Ref) (*Listing, error) {
	out := &Listing{Root: root.Raw}
	opt := ListOptions{}
	for {
		page, err := reg.List(ctx, root, opt)
		if err != nil {
			return nil, err
		}
		out.Image = out.Image || page.Image
		out.Repos = append(out.Repos, page.Repos...)
		if page.Next == "" {
			return out, nil
		}
		opt.After = page.Next
	}
}

// compare learns each source image's ID and whether the destination holds
// it already, a few images at a time.
func (s *syncRun) compare(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2 * s.opt.Images)
	for i := range s.rep.Images {
		g.Go(func() error { return s.compareOne(gctx, &s.rep.Images[i]) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, im := range s.rep.Images {
		if im.State == SyncPresent {
			s.rep.Present++
			s.em.send(Event{Kind: KindImage, Ref: im.Destination, Digest: im.ImageID, Phase: PhaseSkipped, Total: -1})
		}
	}
	return nil
}

func (s *syncRun) compareOne(ctx context.Context, im *SyncImage) error {
	id, err := manifestID(ctx, s.src, im.Source)
	if err != nil {
		return err
	}
	im.ImageID = id
	r, err := ParseRef(im.Destination)
	if err != nil {
		return err
	}
	src, err := s.dst.Source(ctx, r)
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	raw, sig, err := src.FetchManifest(ctx)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	// The same manifest under a signature that verifies: nothing to do.
	// Anything else (another image, a broken signature) is copied over.
	if model.FromBytes(raw) == id && signing.Verify(raw, sig, s.dst.SignKey()).Status.Verifies() {
		im.State = SyncPresent
	}
	return nil
}

func manifestID(ctx context.Context, reg Registry, raw string) (model.Digest, error) {
	r, err := ParseRef(raw)
	if err != nil {
		return "", err
	}
	return imageID(ctx, reg, r)
}

// copyMissing copies the missing images, opt.Images at once. A failed
// image does not stop the others; the first failure is returned at the
// end, with the count.
func (s *syncRun) copyMissing(ctx context.Context) error {
	if s.opt.DryRun {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opt.Images)
	var first error
	for i := range s.rep.Images {
		if s.rep.Images[i].State != SyncMissing {
			continue
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := s.copyOne(gctx, &s.rep.Images[i]); err != nil {
				s.mu.Lock()
				if first == nil {
					first = err
				}
				s.mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if first != nil {
		return fmt.Errorf("sync: %d of the %d image(s) to copy failed; first: %w", s.rep.Failed, s.rep.Failed+s.rep.Copied, first)
	}
	return nil
}

func (s *syncRun) copyOne(ctx context.Context, im *SyncImage) error {
	srcRef, err := ParseRef(im.Source)
	if err != nil {
		return err
	}
	dstRef, err := ParseRef(im.Destination)
	if err != nil {
		return err
	}
	topt := s.opt.TransferOptions
	topt.Progress = func(ev Event) {
		ev.Ref = im.Destination
		s.em.send(ev)
	}
	rep, err := Copy(ctx, s.src, srcRef, s.dst, dstRef, topt)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rep != nil {
		im.Transferred, im.Skipped, im.Bytes = rep.Transferred, rep.Skipped, rep.Bytes
		s.rep.Transferred += rep.Transferred
		s.rep.Skipped += rep.Skipped
		s.rep.Bytes += rep.Bytes
	}
	if err != nil {
		im.State, im.Error = SyncFailed, err.Error()
		s.rep.Failed++
		return err
	}
	im.State = SyncCopied
	s.rep.Copied++
	return nil
}
