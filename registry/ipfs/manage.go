package ipfs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
)

// Deleting and retagging images. An image directory is content addressed:
// deleting it removes its name from the MFS index, then its pin, and the
// daemon's own garbage collection frees the blocks nothing else holds
// (another pin, another name, a staging push).

// SweepNote implements registry.SweepNoter.
func (b *Backend) SweepNote() string {
	return "ipfs: the image is unpinned; `ipfs repo gc` on the daemon frees the blocks no other pin or name holds"
}

// DeleteImage implements registry.Deleter: the name first, then the pin of
// its directory unless another name still points at it. An image
// referred to by CID is unpinned; one a name points at is refused (delete
// the name).
func (b *Backend) DeleteImage(ctx context.Context, ref registry.Ref) error {
	t, err := parseTarget(ref)
	if err != nil {
		return err
	}
	cid, err := b.resolve(ctx, t)
	if err != nil {
		return err
	}
	names, err := b.namesOf(ctx, cid)
	if err != nil {
		return err
	}
	if t.named() {
		// A switch to this name a killed push decided must not finish later.
		if err := b.dropReady(ctx, t); err != nil {
			return err
		}
		if err := b.c.callJSON(ctx, "files/rm", args("arg", t.indexPath(), "recursive", "true", "force", "true"), nil, nil); err != nil {
			return err
		}
		b.dropEmptyRepo(ctx, t.repo)
		delete(names, t.indexPath())
	}
	if len(names) > 0 {
		if t.named() {
			return nil // the directory stays pinned for its other names
		}
		return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("%s is named %s", ref.Raw, oneName(names))),
			"delete the name(s) instead; the image goes with its last name")
	}
	err = b.c.callJSON(ctx, "pin/rm", args("arg", cid), nil, nil)
	if err != nil && strings.Contains(err.Error(), "not pinned") {
		if t.named() {
			return nil
		}
		return fault.NotFoundf("%s is not pinned on the daemon at %s", ref.Raw, b.c.display())
	}
	return err
}

// namesOf finds the index names whose directory is cid.
func (b *Backend) namesOf(ctx context.Context, cid string) (map[string]bool, error) {
	out := map[string]bool{}
	repos, err := b.filesLs(ctx, IndexRoot)
	if errors.Is(err, fault.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, r := range repos {
		if r.Type != 1 || !validName(r.Name) {
			continue
		}
		tags, err := b.filesLs(ctx, IndexRoot+"/"+r.Name)
		if err != nil {
			return nil, err
		}
		for _, tg := range tags {
			if tg.Hash == cid {
				out[IndexRoot+"/"+r.Name+"/"+tg.Name] = true
			}
		}
	}
	return out, nil
}

func oneName(names map[string]bool) string {
	for n := range names {
		repo, tag, _ := strings.Cut(strings.TrimPrefix(n, IndexRoot+"/"), "/")
		more := ""
		if len(names) > 1 {
			more = fmt.Sprintf(" and %d more", len(names)-1)
		}
		return "ipfs://" + repo + ":" + tag + more
	}
	return ""
}

// dropEmptyRepo removes a repository directory of the index once its last
// tag is gone. Best effort.
func (b *Backend) dropEmptyRepo(ctx context.Context, repo string) {
	if tags, err := b.filesLs(ctx, IndexRoot+"/"+repo); err == nil && len(tags) == 0 {
		_ = b.c.callJSON(ctx, "files/rm", args("arg", IndexRoot+"/"+repo, "recursive", "true"), nil, nil)
	}
}

// RetagImage implements registry.Retagger: the image directory is copied
// within MFS (files/cp, by CID: no block is read or written) to the new
// name, and pinned as a push pins it.
func (b *Backend) RetagImage(ctx context.Context, src, dst registry.Ref, _ []model.Digest) error {
	ts, err := parseTarget(src)
	if err != nil {
		return err
	}
	td, err := parseTarget(dst)
	if err != nil {
		return err
	}
	if !td.named() || td.repo == placeholder && !strings.Contains(td.raw, ":") {
		return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("retag to %s: give a name, ipfs://<repo>[:<tag>]", dst.Raw)),
			"a CID cannot be chosen; name the image instead")
	}
	cid, err := b.resolve(ctx, ts)
	if err != nil {
		return err
	}
	staging := newStaging()
	if err := b.c.callJSON(ctx, "files/mkdir", args("arg", stagingRoot, "parents", "true"), nil, nil); err != nil {
		return err
	}
	if err := b.c.callJSON(ctx, "files/cp", args("arg", "/ipfs/"+cid, "arg", staging), nil, nil); err != nil {
		return err
	}
	if err := b.c.callJSON(ctx, "pin/add", args("arg", cid), nil, nil); err != nil {
		return err
	}
	return b.install(ctx, staging, td)
}
