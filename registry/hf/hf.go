// Package hf is the hf:// backend (spec §9.2): hf://<user>/<repo>[:<rev>]
// is revision <rev> (default main) of the dataset repository <user>/<repo>
// on the Hugging Face Hub, laid out like a file:// directory
// (manifest.json, manifest.json.sig, blobs/sha256/<aa>/<hex>.zst), so the
// Rust tool reads what this backend writes and the other way round.
//
// Configuration, all from the environment:
//
//	HF_TOKEN        token; else the token file HF_TOKEN_PATH, else $HF_HOME/token
//	                (default ~/.cache/huggingface/token). Never shown.
//	HF_ENDPOINT     Hub URL (default https://huggingface.co)
//	PF_HF_PUBLIC=1  create new repositories public (default: private, since
//	                images can hold environment data)
//	PF_HF_TAG=name  after a push, also tag the new commit as <name>
//	PF_HF_REG_SIGN_KEY  signing key (spec §7.3)
//
// Push does what Rust's inline commit cannot (the Hub rejects binary files
// over 1 MB outside LFS): each blob is spooled to a temp file while the
// engine verifies it, the Hub's preupload call decides LFS or regular, LFS
// objects go through the batch API (single PUT or multipart), blobs already
// in the revision are skipped, and one commit then adds manifest,
// signature and the new blobs. A revision that does not exist is created as
// a branch. Pull pins the revision to the commit manifest.json came from,
// so a concurrent push cannot mix two images, and resumes interrupted
// downloads with Range requests.
package hf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/signing"
)

func init() {
	registry.Register("hf", func(cfg registry.Config) (registry.Backend, error) {
		return New(cfg)
	})
}

// Backend serves hf:// references.
type Backend struct {
	cfg registry.Config
	key signing.Key
	c   *client
}

// New reads the environment and builds the backend.
func New(cfg registry.Config) (*Backend, error) {
	ep := os.Getenv("HF_ENDPOINT")
	if ep == "" {
		ep = DefaultEndpoint
	}
	return newAt(cfg, ep)
}

// newAt builds the backend for an endpoint.
func newAt(cfg registry.Config, endpoint string) (*Backend, error) {
	c, err := newClient(endpoint, readToken(), cfg.UserAgent, cfg.Timeout, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	return &Backend{cfg: cfg, key: signing.ForBackend("hf"), c: c}, nil
}

// Scheme implements registry.Backend.
func (b *Backend) Scheme() string { return "hf" }

// SignKey implements registry.Backend.
func (b *Backend) SignKey() signing.Key { return b.key }

// repoRef is a checked hf reference.
type repoRef struct {
	user, repo, rev string
}

func (r repoRef) id() string     { return r.user + "/" + r.repo }
func (r repoRef) String() string { return "hf://" + r.id() + ":" + r.rev }
func (r repoRef) apiPath() string {
	return "/api/datasets/" + url.PathEscape(r.user) + "/" + url.PathEscape(r.repo)
}
func (r repoRef) gitPath() string {
	return "/datasets/" + url.PathEscape(r.user) + "/" + url.PathEscape(r.repo)
}
func (r repoRef) what() string { return "dataset " + r.id() }
func (r repoRef) revWhat(rev string) string {
	return fmt.Sprintf("revision %q of dataset %s", rev, r.id())
}

// resolveURL is the download URL of a file at a revision.
func (r repoRef) resolveURL(rev, p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return r.gitPath() + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(segs, "/")
}

// refErr reports a failed answer about r, naming the repository or the
// revision, whichever the Hub says is missing.
func (b *Backend) refErr(resp *http.Response, r repoRef, target string) error {
	switch {
	case errCode(resp) == "RevisionNotFound":
		return fault.WithHint(fault.NotFoundf("hf: revision %q not found in dataset %s (HTTP 404)", r.rev, r.id()),
			"list its revisions with `pf-registry tags hf://"+r.id()+"`")
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden, errCode(resp) == "RepoNotFound":
		return b.c.statusErr(resp, r.what(), target)
	}
	return b.c.statusErr(resp, r.revWhat(r.rev), target)
}

func checkRef(ref registry.Ref) (repoRef, error) {
	r := repoRef{user: ref.User, repo: ref.Repo, rev: ref.HFRevision()}
	if ref.User == "" || ref.Repo == "" || strings.Contains(ref.Repo, "/") {
		return r, fault.WithHint(fault.Classed(fault.ErrBadRef, fmt.Errorf("hf reference %q: a Hub repository is <user>/<repo> with one '/'", ref.Raw)),
			"use hf://<user>/<repo>[:<revision>]")
	}
	if r.rev == "" {
		return r, fault.WithHint(fault.Classed(fault.ErrBadRef, fmt.Errorf("hf reference %q has an empty revision after ':'", ref.Raw)),
			"drop the ':' for main, or name a branch or tag")
	}
	return r, nil
}

// Exists implements registry.Backend: manifest.json at the revision. A 401
// without a token means "missing or private"; it is reported as absent, as
// the Rust tool does.
func (b *Backend) Exists(ctx context.Context, ref registry.Ref) (bool, error) {
	r, err := checkRef(ref)
	if err != nil {
		return false, err
	}
	resp, err := b.c.do(ctx, request{method: http.MethodHead, url: r.resolveURL(r.rev, "manifest.json")})
	if err != nil {
		return false, err
	}
	drain(resp)
	switch {
	case resp.StatusCode/100 == 2:
		return true, nil
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusUnauthorized && b.c.token == "":
		return false, nil
	}
	return false, b.refErr(resp, r, "")
}

// hubRef is one branch or tag of a repository.
type hubRef struct {
	Name         string `json:"name"`
	TargetCommit string `json:"targetCommit"`
	tag          bool
}

func (b *Backend) refs(ctx context.Context, r repoRef) ([]hubRef, error) {
	var out struct {
		Branches []hubRef `json:"branches"`
		Tags     []hubRef `json:"tags"`
	}
	if _, err := b.c.json(ctx, request{method: http.MethodGet, url: r.apiPath() + "/refs"}, r.what(), &out); err != nil {
		return nil, err
	}
	for i := range out.Tags {
		out.Tags[i].tag = true
	}
	all := append(out.Branches, out.Tags...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// pathInfo is one element of a tree or paths-info answer.
type pathInfo struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	LFS  *struct {
		Oid  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
	LastCommit *struct {
		Date time.Time `json:"date"`
	} `json:"lastCommit"`
}

// manifestInfo reports whether rev holds manifest.json, and when it changed.
func (b *Backend) manifestInfo(ctx context.Context, r repoRef, rev string) (bool, time.Time, error) {
	var out []pathInfo
	_, err := b.c.json(ctx, request{method: http.MethodPost, url: r.apiPath() + "/paths-info/" + url.PathEscape(rev),
		body: []byte(`{"paths":["manifest.json"],"expand":true}`), contentType: "application/json"}, r.revWhat(rev), &out)
	if err != nil {
		return false, time.Time{}, err
	}
	for _, p := range out {
		if p.Path == "manifest.json" && p.Type == "file" {
			var t time.Time
			if p.LastCommit != nil {
				t = p.LastCommit.Date
			}
			return true, t, nil
		}
	}
	return false, time.Time{}, nil
}

// Tags implements registry.Backend: every branch and tag of the dataset;
// those without manifest.json are marked Foreign.
func (b *Backend) Tags(ctx context.Context, repo registry.Ref, opt registry.ListOptions) (*registry.TagList, error) {
	r, err := checkRef(repo)
	if err != nil {
		return nil, err
	}
	refs, err := b.refs(ctx, r)
	if err != nil {
		return nil, err
	}
	if opt.After != "" {
		i := sort.Search(len(refs), func(i int) bool { return refs[i].Name > opt.After })
		refs = refs[i:]
	}
	out := &registry.TagList{Repo: repo.Raw, Tags: []registry.TagEntry{}}
	if opt.Limit > 0 && len(refs) > opt.Limit {
		refs = refs[:opt.Limit]
		out.Next = refs[len(refs)-1].Name
	}
	entries := make([]registry.TagEntry, len(refs))
	err = forEach(ctx, len(refs), 8, func(i int) error {
		ok, t, err := b.manifestInfo(ctx, r, refs[i].Name)
		if err != nil {
			return err
		}
		entries[i] = registry.TagEntry{Name: refs[i].Name, Ref: "hf://" + r.id() + ":" + refs[i].Name, Updated: t, Foreign: !ok}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Tags = append(out.Tags, entries...)
	return out, nil
}

// List implements registry.Backend. hf://<user> lists the user's (or
// organisation's) dataset repositories that hold an image on some branch
// or tag; hf://<user>/<repo> is a single repository.
func (b *Backend) List(ctx context.Context, root registry.Ref, opt registry.ListOptions) (*registry.Listing, error) {
	out := &registry.Listing{Root: root.Raw}
	if root.Repo != "" {
		r, err := checkRef(root)
		if err != nil {
			return nil, err
		}
		if out.Image, err = b.Exists(ctx, root); err != nil {
			return nil, err
		}
		tags, err := b.imageTags(ctx, r)
		if err != nil {
			return nil, err
		}
		out.Repos = []registry.RepoEntry{{Name: r.id(), Ref: "hf://" + r.id(), Tags: tags}}
		return out, nil
	}
	if root.User == "" {
		return nil, fault.WithHint(fault.Classed(fault.ErrBadRef, fmt.Errorf("hf root %q names no user", root.Raw)), "use hf://<user>")
	}
	u := opt.After
	if u == "" {
		limit := opt.Limit
		if limit <= 0 {
			limit = 100
		}
		q := url.Values{"author": {root.User}, "limit": {fmt.Sprint(limit)}}
		u = "/api/datasets?" + q.Encode()
	} else if !strings.HasPrefix(u, b.c.endpoint+"/") {
		return nil, fault.WithHint(fault.Classed(fault.ErrUsage, errors.New("hf: the listing continuation is not a URL of HF_ENDPOINT")),
			"start the listing again without a continuation")
	}
	var ds []struct {
		ID string `json:"id"`
	}
	hdr, err := b.c.json(ctx, request{method: http.MethodGet, url: u, header: map[string]string{"Accept": "application/json"}},
		"datasets of "+root.User, &ds)
	if err != nil {
		return nil, err
	}
	if out.Next, err = b.c.nextLink(hdr); err != nil {
		return nil, err
	}
	found := make([][]string, len(ds))
	err = forEach(ctx, len(ds), 4, func(i int) error {
		user, repo, ok := strings.Cut(ds[i].ID, "/")
		if !ok {
			return nil
		}
		tags, err := b.imageTags(ctx, repoRef{user: user, repo: repo, rev: "main"})
		found[i] = tags
		if errors.Is(err, fault.ErrNotFound) || errors.Is(err, fault.ErrAuth) {
			return nil // vanished or not readable: not listed
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if len(found[i]) > 0 {
			out.Repos = append(out.Repos, registry.RepoEntry{Name: d.ID, Ref: "hf://" + d.ID, Tags: found[i]})
		}
	}
	return out, nil
}

// imageTags lists the refs of r that hold manifest.json.
func (b *Backend) imageTags(ctx context.Context, r repoRef) ([]string, error) {
	refs, err := b.refs(ctx, r)
	if err != nil {
		return nil, err
	}
	has := make([]bool, len(refs))
	err = forEach(ctx, len(refs), 4, func(i int) error {
		ok, _, err := b.manifestInfo(ctx, r, refs[i].Name)
		has[i] = ok
		return err
	})
	if err != nil {
		return nil, err
	}
	var tags []string
	for i, ref := range refs {
		if has[i] {
			tags = append(tags, ref.Name)
		}
	}
	return tags, nil
}

// CreateTag tags the commit a reference's revision points at.
func (b *Backend) CreateTag(ctx context.Context, ref registry.Ref, tag string) error {
	r, err := checkRef(ref)
	if err != nil {
		return err
	}
	return b.createTag(ctx, r, r.rev, tag)
}

func (b *Backend) createTag(ctx context.Context, r repoRef, rev, tag string) error {
	body, _ := json.Marshal(map[string]string{"tag": tag})
	_, err := b.c.json(ctx, request{method: http.MethodPost, url: r.apiPath() + "/tag/" + url.PathEscape(rev),
		body: body, contentType: "application/json"}, fmt.Sprintf("tag %q on %s", tag, r.what()), nil)
	return err
}

// forEach runs fn(0..n-1) with at most par in flight; the first error wins
// and stops the ones not started yet.
func forEach(ctx context.Context, n, par int, fn func(i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	for i := 0; i < n && gctx.Err() == nil; i++ {
		g.Go(func() error { return fn(i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
