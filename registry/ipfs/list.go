package ipfs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

// List implements registry.Backend. The root ipfs:// lists the
// repositories of the MFS index, then recursive pins holding a
// manifest.json that no name points at (named by their CID). Any other
// root is an image or nothing.
func (b *Backend) List(ctx context.Context, root registry.Ref, opt registry.ListOptions) (*registry.Listing, error) {
	out := &registry.Listing{Root: root.Raw, Repos: []registry.RepoEntry{}}
	if root.CID != "" {
		ok, err := b.Exists(ctx, root)
		if err != nil {
			return nil, err
		}
		if t, perr := parseTarget(root); !ok && perr == nil && t.named() && !strings.Contains(t.raw, ":") {
			// ipfs://<repo> without a latest tag: the repository itself.
			if tags, err := b.Tags(ctx, root, registry.ListOptions{}); err == nil {
				r := registry.RepoEntry{Name: t.repo, Ref: "ipfs://" + t.repo}
				for _, tg := range tags.Tags {
					r.Tags = append(r.Tags, tg.Name)
				}
				out.Repos = append(out.Repos, r)
				return out, nil
			}
		}
		if !ok {
			return nil, fault.WithHint(fault.NotFoundf("%s is not a ProcessFork image (no %s)", root.Raw, ManifestEntry),
				"list every image of the daemon with `pf ls ipfs://`")
		}
		out.Image = true
		return out, nil
	}
	repos, indexed, err := b.indexRepos(ctx)
	if err != nil {
		return nil, err
	}
	pinned, note, err := b.pinnedImages(ctx, indexed)
	if err != nil {
		return nil, err
	}
	all := append(repos, pinned...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out.Repos, out.Next = registry.Page(all, opt, func(r registry.RepoEntry) string { return r.Name })
	out.Note = note
	return out, nil
}

// indexRepos reads /processfork/<repo>/<tag>; indexed collects the CIDs
// names point at.
func (b *Backend) indexRepos(ctx context.Context) ([]registry.RepoEntry, map[string]bool, error) {
	indexed := map[string]bool{}
	dirs, err := b.filesLs(ctx, IndexRoot)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, indexed, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var repos []registry.RepoEntry
	for _, d := range dirs {
		if d.Type != 1 || !validName(d.Name) {
			continue // staging area, stray files
		}
		tags, err := b.filesLs(ctx, IndexRoot+"/"+d.Name)
		if err != nil {
			return nil, nil, err
		}
		r := registry.RepoEntry{Name: d.Name, Ref: "ipfs://" + d.Name}
		for _, t := range tags {
			if t.Type == 1 && validName(t.Name) {
				r.Tags = append(r.Tags, t.Name)
				indexed[t.Hash] = true
			}
		}
		if len(r.Tags) > 0 {
			repos = append(repos, r)
		}
	}
	return repos, indexed, nil
}

// pinnedImages probes recursive pins (not already named) for a
// manifest.json, reading only their root blocks.
func (b *Backend) pinnedImages(ctx context.Context, skip map[string]bool) ([]registry.RepoEntry, string, error) {
	var out struct {
		Keys map[string]struct{ Type string }
	}
	if err := b.c.callJSON(ctx, "pin/ls", args("type", "recursive"), nil, &out); err != nil {
		return nil, "", err
	}
	var cids []string
	for cid := range out.Keys {
		if !skip[cid] {
			cids = append(cids, cid)
		}
	}
	sort.Strings(cids)
	note := ""
	if len(cids) > maxPinProbes {
		note = fmt.Sprintf("only the first %d of %d recursive pins were probed for images", maxPinProbes, len(cids))
		cids = cids[:maxPinProbes]
	}
	images := make([]bool, len(cids))
	var g errgroup.Group
	g.SetLimit(4)
	for i, cid := range cids {
		g.Go(func() error {
			links, err := b.ls(ctx, cid, false)
			if err != nil {
				return nil // a pinned file, or content this daemon cannot read: not an image
			}
			for _, l := range links {
				if l.Name == ManifestEntry {
					images[i] = true
					break
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var repos []registry.RepoEntry
	for i, cid := range cids {
		if images[i] {
			repos = append(repos, registry.RepoEntry{Name: cid, Ref: "ipfs://" + cid, Tags: []string{cid}})
		}
	}
	return repos, note, nil
}

// Tags implements registry.Backend: the tags of a name in the index, each
// referring to its image by CID; for a CID, the image itself.
func (b *Backend) Tags(ctx context.Context, repo registry.Ref, opt registry.ListOptions) (*registry.TagList, error) {
	t, err := parseTarget(repo)
	if err != nil {
		return nil, err
	}
	out := &registry.TagList{Repo: repo.Raw, Tags: []registry.TagEntry{}}
	if !t.named() {
		ok, err := b.Exists(ctx, repo)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fault.WithHint(fault.NotFoundf("%s is not a ProcessFork image (no %s)", repo.Raw, ManifestEntry),
				"list every image of the daemon with `pf ls ipfs://`")
		}
		name := strings.TrimPrefix(t.path, "/ipfs/")
		out.Tags = append(out.Tags, registry.TagEntry{Name: name, Ref: "ipfs://" + t.path})
		return out, nil
	}
	entries, err := b.filesLs(ctx, IndexRoot+"/"+t.repo)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.WithHint(fault.NotFoundf("no repository %q in the MFS index %s of the IPFS daemon at %s", t.repo, IndexRoot, b.c.display()),
			"list the names with `pf ls ipfs://`")
	}
	if err != nil {
		return nil, err
	}
	var tags []registry.TagEntry
	for _, e := range entries {
		if e.Type == 1 && validName(e.Name) {
			tags = append(tags, registry.TagEntry{Name: e.Name, Ref: "ipfs://" + e.Hash})
		}
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	out.Tags, out.Next = registry.Page(tags, opt, func(e registry.TagEntry) string { return e.Name })
	return out, nil
}
