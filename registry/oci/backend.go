package oci

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/regclient/regclient"
	"github.com/regclient/regclient/scheme"
	"github.com/regclient/regclient/types/errs"
	"github.com/regclient/regclient/types/ref"
	"github.com/regclient/regclient/types/repo"
	"golang.org/x/sync/errgroup"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

func init() {
	registry.Register("oci", func(cfg registry.Config) (registry.Backend, error) {
		return New(cfg), nil
	})
	registry.Register(registry.LayoutScheme, func(cfg registry.Config) (registry.Backend, error) {
		return NewLayout(cfg), nil
	})
}

// defaultPage is the catalog / tag page size when the caller sets none.
const defaultPage = 100

// Backend serves oci:// (registries) or oci-layout: (directories). Both
// write the same artefacts and sign with PF_OCI_REG_SIGN_KEY, so a layout
// can be copied to a registry unchanged.
type Backend struct {
	scheme  string
	cfg     registry.Config
	key     signing.Key
	clients *clients
}

// New serves oci:// references.
func New(cfg registry.Config) *Backend {
	return &Backend{scheme: "oci", cfg: cfg, key: signing.ForBackend("oci"), clients: newClients(cfg)}
}

// NewLayout serves oci-layout:<path>[#<tag>] references.
func NewLayout(cfg registry.Config) *Backend {
	b := New(cfg)
	b.scheme = registry.LayoutScheme
	return b
}

// Scheme implements registry.Backend.
func (b *Backend) Scheme() string { return b.scheme }

// SignKey implements registry.Backend.
func (b *Backend) SignKey() signing.Key { return b.key }

func (b *Backend) isLayout() bool { return b.scheme == registry.LayoutScheme }

// locate turns a reference into a regclient client and reference.
func (b *Backend) locate(r registry.Ref) (location, error) {
	if b.isLayout() {
		if r.Path == "" {
			return location{}, fault.WithHint(fault.Classed(fault.ErrBadRef,
				fmt.Errorf("malformed oci-layout reference %q (empty path)", r.Raw)), "write oci-layout:<dir>[#<tag>]")
		}
		if err := b.mendLayoutMarker(r.Path); err != nil {
			return location{}, err
		}
		tag := r.Tag
		if !r.HasTag || tag == "" {
			tag = "latest"
		}
		return location{rc: b.clients.forLayout(), name: r.Raw,
			ref: ref.Ref{Scheme: "ocidir", Reference: "ocidir://" + r.Path, Path: r.Path, Tag: tag}}, nil
	}
	if r.Repo == "" {
		return location{}, fault.WithHint(fault.Classed(fault.ErrBadRef,
			fmt.Errorf("%s names no repository", r.Raw)), "write oci://<host>[:<port>]/<repo>[:<tag>]")
	}
	rc, err := b.clients.forHost(r)
	if err != nil {
		return location{}, err
	}
	rr := ref.Ref{Scheme: "reg", Registry: r.OCIHostPort(), Repository: r.Repo}
	rr.Reference = rr.Registry + "/" + rr.Repository
	if r.Digest != "" {
		rr.Digest = string(r.Digest)
	} else {
		rr.Tag = r.OCIReference()
	}
	return location{rc: rc, ref: rr, name: r.Raw}, nil
}

// Exists implements registry.Backend: a manifest at the reference.
func (b *Backend) Exists(ctx context.Context, r registry.Ref) (bool, error) {
	l, err := b.locate(r)
	if err != nil {
		return false, err
	}
	if _, err := l.rc.ManifestHead(ctx, l.ref); err != nil {
		err = classify(err, l.name, "image manifest")
		if errors.Is(err, fault.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Source implements registry.Backend.
func (b *Backend) Source(_ context.Context, r registry.Ref) (registry.Source, error) {
	l, err := b.locate(r)
	if err != nil {
		return nil, err
	}
	return &source{location: l}, nil
}

// Sink implements registry.Backend.
func (b *Backend) Sink(ctx context.Context, r registry.Ref) (registry.Sink, error) {
	if r.Digest != "" {
		return nil, fault.WithHint(fault.Classed(fault.ErrBadRef,
			fmt.Errorf("cannot push to a digest reference %s", r.Raw)), "push to a tag: oci://<host>/<repo>:<tag>")
	}
	l, err := b.locate(r)
	if err != nil {
		return nil, err
	}
	return newSink(ctx, l)
}

// List implements registry.Backend. For a registry root it pages through
// _catalog; a registry that refuses the catalog gets a note instead of an
// error so the user can type a repository. A layout is one repository.
func (b *Backend) List(ctx context.Context, root registry.Ref, opt registry.ListOptions) (*registry.Listing, error) {
	out := &registry.Listing{Root: root.Raw, Repos: []registry.RepoEntry{}}
	if b.isLayout() {
		if _, err := os.Stat(root.Path); err != nil {
			return nil, fault.WithHint(fault.NotFoundf("OCI layout %s does not exist", root.Path),
				"check the path; push creates it")
		}
		if root.HasTag {
			out.Image, _ = b.Exists(ctx, root)
		}
		out.Repos = append(out.Repos, registry.RepoEntry{Name: root.Path, Ref: registry.LayoutScheme + ":" + root.Path})
		return out, nil
	}
	rc, err := b.clients.forHost(root)
	if err != nil {
		return nil, err
	}
	if root.Repo != "" && (root.HasTag || root.Digest != "") {
		out.Image, _ = b.Exists(ctx, root)
	}
	host := root.OCIHostPort()
	names, next, err := catalog(ctx, rc, host, root.Repo, opt)
	if err != nil {
		cerr := classify(err, "oci://"+host, "repository catalog")
		if refusedCatalog(err, cerr) {
			out.Note = fmt.Sprintf("oci://%s does not list its repositories (_catalog refused); type a repository, e.g. oci://%s/<repo>", host, host)
			if root.Repo != "" {
				out.Repos = append(out.Repos, registry.RepoEntry{Name: root.Repo, Ref: "oci://" + host + "/" + root.Repo})
			}
			return out, nil
		}
		return nil, cerr
	}
	for _, name := range names {
		out.Repos = append(out.Repos, registry.RepoEntry{Name: name, Ref: "oci://" + host + "/" + name})
	}
	out.Next = next
	return out, nil
}

// maxCatalogPages bounds the registry pages one listing call reads while it
// looks for repositories under a prefix; the listing then continues after
// the last name read.
const maxCatalogPages = 20

// catalog reads the repositories under prefix ("" for all) from the
// registry's _catalog, after opt.After, following the registry's own pages
// (which may be smaller than asked for) until opt.Limit names are found.
// next continues the listing ("" at its end).
func catalog(ctx context.Context, rc *regclient.RegClient, host, prefix string, opt registry.ListOptions) (names []string, next string, err error) {
	limit := opt.Limit
	if limit <= 0 {
		limit = defaultPage
	}
	n, last := limit, opt.After
	for page := 0; page < maxCatalogPages; page++ {
		rl, err := rc.RepoList(ctx, host, scheme.WithRepoLimit(n), scheme.WithRepoLast(last))
		if err != nil && n > 0 && httpStatus(err) == 400 {
			n = 0 // an n above the registry's maximum is refused: take its pages
			rl, err = rc.RepoList(ctx, host, scheme.WithRepoLast(last))
		}
		if err != nil {
			return nil, "", err
		}
		repos, err := rl.GetRepos()
		if err != nil {
			return nil, "", err
		}
		for _, name := range repos {
			if prefix == "" || name == prefix || strings.HasPrefix(name, prefix+"/") {
				names = append(names, name)
			}
			if len(names) == limit {
				return names, name, nil
			}
		}
		if len(repos) == 0 || !morePages(rl, n, len(repos)) {
			return names, "", nil
		}
		last = repos[len(repos)-1]
	}
	return names, last, nil
}

// morePages tells whether the catalog goes on after a page: the registry
// says so with a Link header, or filled the page it was asked for.
func morePages(rl *repo.RepoList, asked, got int) bool {
	if h, err := rl.RawHeaders(); err == nil && strings.Contains(h.Get("Link"), `rel="next"`) {
		return true
	}
	return asked > 0 && got >= asked
}

// refusedCatalog tells a registry that answers but will not list (auth,
// 404/405 on _catalog) from one that cannot be reached.
func refusedCatalog(raw, classified error) bool {
	if errors.Is(classified, fault.ErrAuth) || errors.Is(classified, fault.ErrNotFound) ||
		errors.Is(raw, errs.ErrNotImplemented) || errors.Is(raw, errs.ErrUnsupportedAPI) {
		return true
	}
	code := httpStatus(raw)
	return code == 405 || code == 400
}

// describeConcurrency bounds the tags described at once.
const describeConcurrency = 8

// Tags implements registry.Backend. Unless opt.Names, each tag is
// described: its manifest digest (a HEAD), and once per distinct digest
// the manifest and config (not its blobs), to tell ProcessFork images from
// foreign artefacts and to show when each image was created.
func (b *Backend) Tags(ctx context.Context, repo registry.Ref, opt registry.ListOptions) (*registry.TagList, error) {
	l, err := b.locate(repo)
	if err != nil {
		return nil, err
	}
	names, next, err := b.tagPage(ctx, l, opt)
	if err != nil {
		return nil, err
	}
	names, sigTags := splitSignatureTags(names)
	out := &registry.TagList{Repo: repo.Raw, Next: next, Tags: []registry.TagEntry{}}
	if opt.Names {
		for _, name := range names {
			out.Tags = append(out.Tags, registry.TagEntry{Name: name, Ref: b.tagRef(repo, name)})
		}
		return out, nil
	}
	tags := make([]registry.TagEntry, len(names))
	keep := make([]bool, len(names))
	errsOut := make([]error, len(names))
	var g errgroup.Group
	g.SetLimit(describeConcurrency)
	seen := &described{byDigest: map[string]*digestInfo{}}
	for i, name := range names {
		g.Go(func() error {
			tags[i], keep[i], errsOut[i] = b.describeTag(ctx, l, repo, name, seen)
			return nil // every tag is described; the first error by position wins
		})
	}
	_ = g.Wait()
	for i, t := range tags {
		if errsOut[i] != nil {
			return nil, errsOut[i]
		}
		if keep[i] {
			t.SignatureTags = sigTags[t.Digest]
			out.Tags = append(out.Tags, t)
		}
	}
	return out, nil
}

// tagPage lists one page of tag names and the token of the next page.
// Limit 0 asks the registry for its whole list (following its Link
// pages), as one request where it can: asking a registry that reads its
// whole tag directory for every page (distribution 2.8) page by page costs
// a full read per page.
func (b *Backend) tagPage(ctx context.Context, l location, opt registry.ListOptions) (names []string, next string, err error) {
	var tagOpts []scheme.TagOpts
	if !b.isLayout() { // a layout's index is read whole and paged here
		tagOpts = append(tagOpts, scheme.WithTagLimit(max(opt.Limit, 0)), scheme.WithTagLast(opt.After))
	}
	tl, err := l.rc.TagList(ctx, l.ref, tagOpts...)
	if err != nil {
		return nil, "", classify(err, l.name, "tag list")
	}
	names, err = tl.GetTags()
	if err != nil {
		return nil, "", classify(err, l.name, "tag list")
	}
	// A layout's index is read whole, and some registries (distribution
	// 2.8) ignore n and last and answer in any order: sort and page here.
	sort.Strings(names)
	names, next = registry.PageNames(names, opt)
	if opt.Limit > 0 && len(names) == opt.Limit {
		next = names[len(names)-1] // the registry may hold more
	}
	return names, next, nil
}

// described caches what describeTag learns per manifest digest: tags
// that name the same image cost one HEAD each.
type described struct {
	mu       sync.Mutex
	byDigest map[string]*digestInfo
}

type digestInfo struct {
	once    sync.Once
	foreign bool
	updated time.Time
	err     error
}

// describeTag reads one tag's manifest digest and, once per digest, the
// manifest and config: whether it is a ProcessFork image and when it was
// created. keep is false for a tag deleted meanwhile; err is set only when
// the registry cannot be read.
func (b *Backend) describeTag(ctx context.Context, l location, repo registry.Ref, name string, seen *described) (e registry.TagEntry, keep bool, err error) {
	tl := l
	tl.ref = l.ref.SetTag(name)
	tl.name = b.tagRef(repo, name)
	e = registry.TagEntry{Name: name, Ref: tl.name}
	key := "tag:" + name // a manifest regclient cannot HEAD is read by tag
	if d, herr := l.rc.ManifestHead(ctx, tl.ref); herr == nil && d.GetDescriptor().Digest != "" {
		key = d.GetDescriptor().Digest.String()
	}
	seen.mu.Lock()
	info := seen.byDigest[key]
	if info == nil {
		info = &digestInfo{}
		seen.byDigest[key] = info
	}
	seen.mu.Unlock()
	var digest string
	info.once.Do(func() { digest, info.foreign, info.updated, info.err = b.readTag(ctx, tl) })
	switch {
	case errors.Is(info.err, fault.ErrNotFound):
		return e, false, nil // deleted meanwhile
	case info.err != nil:
		return e, false, info.err
	}
	if digest == "" && strings.HasPrefix(key, "sha256:") {
		digest = key
	}
	e.Digest, e.Foreign, e.Updated = digest, info.foreign, info.updated
	return e, true, nil
}

// readTag reads the manifest and config at a tag.
func (b *Backend) readTag(ctx context.Context, tl location) (digest string, foreign bool, updated time.Time, err error) {
	raw, err := getManifest(ctx, tl)
	switch {
	case errors.Is(err, fault.ErrNotFound), errors.Is(err, fault.ErrAuth), isUnreachable(err):
		return "", false, time.Time{}, err
	case err != nil:
		// A manifest regclient cannot even parse (e.g. Docker schema 1)
		// is somebody else's artefact.
		return "", true, time.Time{}, nil
	}
	digest = string(model.FromBytes(raw))
	img, perr := ParseImage(raw)
	var notOurs *errNotProcessFork
	if errors.As(perr, &notOurs) {
		return digest, true, time.Time{}, nil
	}
	if perr != nil {
		return digest, false, time.Time{}, nil // ours but malformed: inspect explains why
	}
	// The creation time for the listing (display only, unverified).
	if cfg, err := readSmallBlob(ctx, tl, img.Config, maxConfigSize, "config blob"); err == nil {
		if m, err := model.ParseManifest(cfg); err == nil {
			updated = m.CreatedAt
		}
	}
	return digest, false, updated, nil
}

// isUnreachable reports a transport failure (connection refused, DNS, a
// timeout), as opposed to an answer the registry gave.
func isUnreachable(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.Is(err, context.DeadlineExceeded)
}

// tagRef is the image reference of one tag of a repository.
func (b *Backend) tagRef(repo registry.Ref, tag string) string {
	if b.isLayout() {
		return registry.LayoutScheme + ":" + repo.Path + "#" + tag
	}
	return "oci://" + repo.OCIHostPort() + "/" + repo.Repo + ":" + tag
}
