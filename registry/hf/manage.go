package hf

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
)

// Deleting, retagging and sweeping images of a revision. Every change to a
// branch is one commit built on the head it was planned on
// (parentCommit), so a push landing meanwhile makes it fail instead of
// mixing with it.

// revInfo is what a revision names: a branch and its head, a tag, or a
// commit id.
type revInfo struct {
	head  string
	tag   bool
	found bool
}

func (b *Backend) revision(ctx context.Context, r repoRef) (revInfo, error) {
	refs, err := b.refs(ctx, r)
	if err != nil {
		return revInfo{}, err
	}
	for _, ref := range refs {
		if ref.Name == r.rev {
			return revInfo{head: ref.TargetCommit, tag: ref.tag, found: true}, nil
		}
	}
	if commitID.MatchString(r.rev) {
		return revInfo{head: r.rev, found: true}, nil
	}
	return revInfo{}, nil
}

func (b *Backend) needToken(r repoRef, what string) error {
	if b.c.token != "" {
		return nil
	}
	return fault.WithHint(fault.Classed(fault.ErrAuth, fmt.Errorf("hf: %s %s needs a token", what, r)),
		"set HF_TOKEN, or log in so that $HF_HOME/token exists")
}

// writableBranch is the head of the branch r names; tags and commits are
// refused (they do not move).
func (b *Backend) writableBranch(ctx context.Context, r repoRef, what string) (string, error) {
	info, err := b.revision(ctx, r)
	switch {
	case err != nil:
		return "", err
	case !info.found:
		return "", fault.WithHint(fault.NotFoundf("hf: revision %q not found in dataset %s", r.rev, r.id()),
			"list its revisions with `pf-registry tags hf://"+r.id()+"`")
	case info.tag || commitID.MatchString(r.rev):
		return "", fault.WithHint(fmt.Errorf("hf: %s is a tag or a commit, and those do not move: cannot %s it", r, what),
			"name a branch")
	}
	return info.head, nil
}

// imageFiles finds manifest.json and the manifest.json.* signature files
// at the root of a commit.
func (b *Backend) imageFiles(ctx context.Context, r repoRef, rev string) (manifest *pathInfo, sigs []pathInfo, err error) {
	items, err := b.listTree(ctx, r, rev, "", false, false)
	if err != nil {
		return nil, nil, err
	}
	for i, it := range items {
		switch {
		case it.Type != "file":
		case it.Path == "manifest.json":
			manifest = &items[i]
		case strings.HasPrefix(it.Path, "manifest.json."):
			sigs = append(sigs, it)
		}
	}
	return manifest, sigs, nil
}

// DeleteImage implements registry.Deleter: one commit removes manifest.json
// and every signature. On a tag, the tag itself is deleted.
func (b *Backend) DeleteImage(ctx context.Context, ref registry.Ref) error {
	r, err := checkRef(ref)
	if err != nil {
		return err
	}
	if err := b.needToken(r, "deleting"); err != nil {
		return err
	}
	info, err := b.revision(ctx, r)
	if err != nil {
		return err
	}
	if info.tag {
		_, err := b.c.json(ctx, request{method: http.MethodDelete, url: r.apiPath() + "/tag/" + url.PathEscape(r.rev)},
			fmt.Sprintf("deleting tag %q of %s", r.rev, r.what()), nil)
		return err
	}
	head, err := b.writableBranch(ctx, r, "delete from")
	if err != nil {
		return err
	}
	manifest, sigs, err := b.imageFiles(ctx, r, head)
	if err != nil {
		return err
	}
	if manifest == nil && len(sigs) == 0 {
		return fault.NotFoundf("no image at %s: manifest.json is missing", r)
	}
	var ops []commitLine
	if manifest != nil {
		ops = append(ops, deleted(manifest.Path))
	}
	for _, s := range sigs {
		ops = append(ops, deleted(s.Path))
	}
	return b.commitLines(ctx, r, head, "pf rm: image and signatures", ops)
}

// commitLine is one operation line of an NDJSON commit.
type commitLine struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

func deleted(p string) commitLine {
	return commitLine{Key: "deletedFile", Value: map[string]any{"path": p}}
}

// commitLines sends one commit of ops on top of parent.
func (b *Backend) commitLines(ctx context.Context, r repoRef, parent, summary string, ops []commitLine) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(commitLine{Key: "header", Value: map[string]any{"summary": summary, "description": "", "parentCommit": parent}})
	for _, op := range ops {
		_ = enc.Encode(op)
	}
	resp, err := b.c.do(ctx, request{method: http.MethodPost, url: r.apiPath() + "/commit/" + url.PathEscape(r.rev),
		body: body.Bytes(), contentType: "application/x-ndjson"})
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusPreconditionFailed {
		return fault.WithHint(fmt.Errorf("hf: %s changed meanwhile (another commit landed)", r), "run the command again")
	}
	if resp.StatusCode/100 != 2 {
		return b.c.statusErr(resp, "commit to "+r.revWhat(r.rev), "")
	}
	return nil
}

// BlobStore implements registry.BlobSweeper: a branch keeps the blobs of
// its image; a tag has none of its own to sweep.
func (b *Backend) BlobStore(ctx context.Context, ref registry.Ref) (registry.BlobStore, error) {
	r, err := checkRef(ref)
	if err != nil {
		return nil, err
	}
	info, err := b.revision(ctx, r)
	if err != nil {
		return nil, err
	}
	return &revStore{b: b, r: r, ref: ref, fixed: info.tag || commitID.MatchString(r.rev)}, nil
}

// revStore is blobs/ of one branch.
type revStore struct {
	b     *Backend
	r     repoRef
	ref   registry.Ref
	fixed bool   // a tag or commit: nothing is swept there
	head  string // the head Blobs listed
}

func (s *revStore) Describe() string { return s.r.String() }

func (s *revStore) Images(ctx context.Context, skip []registry.Ref) ([]registry.Source, error) {
	for _, ref := range skip {
		if r, err := checkRef(ref); err == nil && r == s.r {
			return nil, nil
		}
	}
	if s.fixed {
		return nil, nil
	}
	ok, err := s.b.Exists(ctx, s.ref)
	if err != nil || !ok {
		return nil, err
	}
	return []registry.Source{&source{b: s.b, r: s.r, pinned: s.r.rev}}, nil
}

func (s *revStore) Blobs(ctx context.Context) ([]registry.StoredBlob, error) {
	if s.fixed {
		return nil, nil
	}
	info, err := s.b.revision(ctx, s.r)
	if err != nil || !info.found {
		return nil, err
	}
	s.head = info.head
	items, err := s.b.listTree(ctx, s.r, s.head, "blobs/sha256", true, true)
	if err != nil {
		return nil, err
	}
	var out []registry.StoredBlob
	for _, it := range items {
		d, err := model.DigestFromShardPath(it.Path)
		if err != nil {
			continue // not a blob: left alone
		}
		sb := registry.StoredBlob{Digest: d, Size: it.Size}
		if it.LastCommit != nil {
			sb.Modified = it.LastCommit.Date
		}
		out = append(out, sb)
	}
	return out, nil
}

// RemoveBlobs deletes the blobs in one commit on the head Blobs listed.
func (s *revStore) RemoveBlobs(ctx context.Context, ds []model.Digest) error {
	if len(ds) == 0 {
		return nil
	}
	if err := s.b.needToken(s.r, "deleting blobs of"); err != nil {
		return err
	}
	ops := make([]commitLine, len(ds))
	for i, d := range ds {
		ops[i] = deleted(d.ShardPath())
	}
	return s.b.commitLines(ctx, s.r, s.head, fmt.Sprintf("pf rm: %d unreferenced blobs", len(ds)), ops)
}

// RetagImage implements registry.Retagger, within one dataset. A new
// revision becomes a branch at the image's commit (nothing is copied); on
// an existing branch one commit adds the image's files, LFS files by
// reference to the objects the repository already holds, and drops the
// signatures of the image it replaces.
func (b *Backend) RetagImage(ctx context.Context, src, dst registry.Ref, blobs []model.Digest) error {
	rs, err := checkRef(src)
	if err != nil {
		return err
	}
	rd, err := checkRef(dst)
	if err != nil {
		return err
	}
	if rs.id() != rd.id() {
		return fault.WithHint(fault.Classed(fault.ErrUsage, fmt.Errorf("retag stays in one dataset: %s and %s differ", src.Raw, dst.Raw)),
			"use `pf-registry copy` to copy an image to another dataset")
	}
	if err := b.needToken(rd, "retagging to"); err != nil {
		return err
	}
	from, err := b.revision(ctx, rs)
	if err == nil && !from.found {
		err = fault.NotFoundf("hf: revision %q not found in dataset %s", rs.rev, rs.id())
	}
	if err != nil {
		return err
	}
	to, err := b.revision(ctx, rd)
	if err != nil {
		return err
	}
	if !to.found {
		body, _ := json.Marshal(map[string]string{"startingPoint": from.head})
		_, err := b.c.json(ctx, request{method: http.MethodPost, url: rd.apiPath() + "/branch/" + url.PathEscape(rd.rev),
			body: body, contentType: "application/json"}, "creating branch "+rd.rev+" of "+rd.what(), nil)
		return err
	}
	head, err := b.writableBranch(ctx, rd, "retag to")
	if err != nil {
		return err
	}
	ops, err := b.copyLines(ctx, rs, from.head, rd, head, blobs)
	if err != nil {
		return err
	}
	return b.commitLines(ctx, rd, head, "pf tag: image from "+rs.rev, ops)
}

// copyLines are the operations that put the image of rs (at commit from)
// on rd (at head): blobs rd lacks, the signatures, the manifest, and the
// removal of rd's other signature files.
func (b *Backend) copyLines(ctx context.Context, rs repoRef, from string, rd repoRef, head string, blobs []model.Digest) ([]commitLine, error) {
	srcBlobs, err := b.listTree(ctx, rs, from, "blobs/sha256", true, false)
	if err != nil {
		return nil, err
	}
	have, err := b.listFiles(ctx, rd, head, "blobs/sha256")
	if err != nil {
		return nil, err
	}
	byPath := map[string]pathInfo{}
	for _, it := range srcBlobs {
		byPath[it.Path] = it
	}
	var files []pathInfo
	for _, d := range blobs {
		p := d.ShardPath()
		it, ok := byPath[p]
		if !ok {
			return nil, fault.NotFoundf("blob %s is missing from %s", d.Short(), rs)
		}
		if !have[p] {
			files = append(files, it)
		}
	}
	manifest, sigs, err := b.imageFiles(ctx, rs, from)
	if err == nil && manifest == nil {
		err = fault.NotFoundf("no image at %s: manifest.json is missing", rs)
	}
	if err != nil {
		return nil, err
	}
	files = append(append(files, sigs...), *manifest)
	src := &source{b: b, r: rs, pinned: from}
	ops := make([]commitLine, 0, len(files))
	keep := map[string]bool{}
	for _, f := range files {
		op, err := src.copyLine(ctx, f)
		if err != nil {
			return nil, err
		}
		keep[f.Path] = true
		ops = append(ops, op)
	}
	_, old, err := b.imageFiles(ctx, rd, head)
	if err != nil {
		return nil, err
	}
	sort.Slice(old, func(i, j int) bool { return old[i].Path < old[j].Path })
	for _, o := range old {
		if !keep[o.Path] {
			ops = append(ops, deleted(o.Path))
		}
	}
	return ops, nil
}

// copyLine adds file f of the source's commit to another branch of the
// same repository: an LFS file by its object id (the Hub copies nothing),
// a small regular file inline.
func (s *source) copyLine(ctx context.Context, f pathInfo) (commitLine, error) {
	if f.LFS != nil {
		return commitLine{Key: "lfsFile", Value: map[string]any{"path": f.Path, "algo": "sha256", "oid": f.LFS.Oid, "size": f.LFS.Size}}, nil
	}
	b, _, err := s.small(ctx, s.pinned, f.Path)
	if err == nil && b == nil {
		err = fault.NotFoundf("%s is missing from %s", f.Path, s.r)
	}
	if err != nil {
		return commitLine{}, err
	}
	return commitLine{Key: "file", Value: map[string]any{"path": f.Path, "content": base64.StdEncoding.EncodeToString(b), "encoding": "base64"}}, nil
}
