package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// PruneOptions tune Prune.
type PruneOptions struct {
	DeleteOptions
	// Keep is how many of the newest images are always kept.
	Keep int
	// OlderThan, when set, deletes only images created longer ago.
	OlderThan time.Duration
}

// PruneReport is the outcome of Prune.
type PruneReport struct {
	Repo string `json:"repo"`
	// Kept are the images that stay, newest first.
	Kept []PruneEntry `json:"kept"`
	// Pruned are the images deleted (or, in a dry run, to delete).
	Pruned []PruneEntry  `json:"pruned"`
	Delete *DeleteReport `json:"delete"`
}

// PruneEntry is one image of a repository.
type PruneEntry struct {
	Ref     string       `json:"ref"`
	ImageID model.Digest `json:"image_id,omitempty"`
	Created time.Time    `json:"created_at,omitzero"`
	// Why an image is kept: "newest", "recent", "unreadable".
	Reason string `json:"reason,omitempty"`
}

// Prune deletes the images of a repository beyond the Keep newest (by the
// manifests' created_at), and with OlderThan only those created longer
// ago. An image whose manifest cannot be read is never deleted.
func Prune(ctx context.Context, reg Registry, repo Ref, opt PruneOptions) (*PruneReport, error) {
	if opt.Keep < 0 {
		return nil, fault.Classed(fault.ErrUsage, fmt.Errorf("prune: keep %d: give 0 or more", opt.Keep))
	}
	if !opt.DryRun {
		if err := configOf(reg).CheckWrite(repo.Raw); err != nil {
			return nil, err
		}
	}
	entries, err := datedImages(ctx, reg, repo)
	if err != nil {
		return nil, err
	}
	rep := &PruneReport{Repo: repo.Raw, Kept: []PruneEntry{}, Pruned: []PruneEntry{}}
	cutoff := opt.now().Add(-opt.OlderThan)
	var refs []Ref
	n := 0
	for _, e := range entries {
		switch {
		case e.Reason != "":
		case n < opt.Keep:
			n++
			e.Reason = "newest"
		case opt.OlderThan > 0 && !e.Created.Before(cutoff):
			e.Reason = "recent"
		}
		if e.Reason != "" {
			rep.Kept = append(rep.Kept, e)
			continue
		}
		r, err := ParseRef(e.Ref)
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
		rep.Pruned = append(rep.Pruned, e)
	}
	if len(refs) == 0 {
		rep.Delete = &DeleteReport{DryRun: opt.DryRun, Images: []DeletedImage{}, Blobs: []DeletedBlob{}}
		return rep, nil
	}
	rep.Delete, err = reg.Delete(ctx, refs, opt.DeleteOptions)
	return rep, err
}

// datedImages lists every image of a repository with its creation time,
// newest first; unreadable ones come last, marked.
func datedImages(ctx context.Context, reg Registry, repo Ref) ([]PruneEntry, error) {
	tags, err := allTags(ctx, reg, repo)
	if err != nil {
		return nil, err
	}
	out := make([]PruneEntry, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(markConcurrency)
	for i, t := range tags {
		out[i] = PruneEntry{Ref: t.Ref}
		// The tag's own name: a listing may give a content address (IPFS),
		// and deleting that would not delete the tag.
		if r, err := ImageIn(repo, t.Name); err == nil {
			out[i].Ref = r.Raw
		}
		g.Go(func() error {
			in, err := inspectRef(gctx, reg, t.Ref)
			switch {
			case errors.Is(err, fault.ErrNotFound):
				out[i].Reason = "gone"
			case err != nil && gctx.Err() == nil && !errors.Is(err, fault.ErrIntegrity):
				return err
			case err != nil || in.Manifest == nil:
				out[i].Reason = "unreadable"
			default:
				out[i].ImageID, out[i].Created = in.ImageID, in.Manifest.CreatedAt
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Reason == "") != (b.Reason == "") {
			return a.Reason == ""
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.Ref > b.Ref
	})
	kept := out[:0]
	for _, e := range out {
		if e.Reason != "gone" {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// inspectRef reads the manifest at a reference (no blob).
func inspectRef(ctx context.Context, reg Registry, raw string) (*Inspection, error) {
	r, err := ParseRef(raw)
	if err != nil {
		return nil, fault.Integrityf("%v", err) // a listing gave it: not the user's input
	}
	return reg.Inspect(ctx, r)
}

// allTags lists every image of a repository (all pages), skipping foreign
// artefacts.
func allTags(ctx context.Context, reg Registry, repo Ref) ([]TagEntry, error) {
	var out []TagEntry
	opt := ListOptions{}
	for {
		page, err := reg.Tags(ctx, repo, opt)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tags {
			if !t.Foreign {
				out = append(out, t)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		opt.After = page.Next
	}
}
