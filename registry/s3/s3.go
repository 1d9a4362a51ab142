// Package s3 is the s3:// backend (spec §9.3) for AWS S3, Cloudflare R2,
// MinIO and any S3-compatible store. s3://<bucket>/<prefix> holds one
// image under the prefix (trailing '/' removed), wire-compatible with the
// Rust tool:
//
//	<prefix>/manifest.json
//	<prefix>/manifest.json.sig
//	<prefix>/blobs/sha256/<aa>/<hex>.zst
//
// A prefix without manifest.json is a catalog root (spec §10): the
// prefixes below it holding images are tags, grouped by their parent
// prefix into repositories, as for file://.
//
// Configuration comes from the environment, as for every S3 tool:
//
//	AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//	    credentials; without them the shared files are used
//	    (AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, default ~/.aws/),
//	    profile AWS_PROFILE (default "default"); with neither, requests
//	    are anonymous.
//	AWS_REGION, AWS_DEFAULT_REGION, profile region: default us-east-1.
//	AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile endpoint_url: the
//	    endpoint (e.g. http://127.0.0.1:9000 for MinIO, or
//	    https://<account>.r2.cloudflarestorage.com); default AWS S3.
//	    Plain HTTP is used only when the URL says http://.
//	PF_S3_VIRTUAL_HOST=1: virtual-host addressing (bucket.host) instead
//	    of the default path style (host/bucket), which the Rust tool uses.
//	PF_S3_REG_SIGN_KEY: the image signing key (spec §7.3).
//
// --insecure skips TLS certificate verification (e.g. a MinIO with a
// self-signed certificate); it never turns https into http.
//
// Unlike the Rust tool, a push skips blobs already present (HEAD before
// PUT), uploads blobs larger than 8 MiB as multipart uploads, writes the
// signature and then the manifest last, so a reader never sees a manifest
// whose blobs are missing, and gives every object a Content-Type
// (application/json for manifest and signature, application/zstd for
// blobs) where the Rust tool sends none.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/s3/bucket"
	"pf-registry/signing"
)

func init() {
	registry.Register("s3", func(cfg registry.Config) (registry.Backend, error) {
		return New(cfg, nil)
	})
}

// Leaf names under an image prefix (spec §9.3).
const (
	manifestLeaf  = "manifest.json"
	signatureLeaf = "manifest.json.sig"
)

// Content types stored with the objects. The Rust tool sends none (S3 then
// keeps its default, binary/octet-stream on AWS); an S3 client cannot omit
// it, so it says what the bytes are. Readers never look at it.
const (
	jsonType = "application/json" // manifest and signature
	zstdType = "application/zstd" // blobs (RFC 8878)
)

// maxManifestSize bounds manifest and signature reads.
const maxManifestSize = 16 << 20

// maxListDepth bounds the catalog walk below a root (as for file://).
const maxListDepth = 4

// probeConcurrency bounds parallel HEAD requests while listing tags.
const probeConcurrency = 8

// Backend serves s3:// references.
type Backend struct {
	cfg  registry.Config
	s3   bucket.Config
	key  signing.Key
	opts bucket.Options

	mu      sync.Mutex
	clients map[string]*bucket.Client
}

// Option tunes New.
type Option func(*bucket.Options)

// WithListPageSize sets the keys asked for per listing request (0: the
// server's default).
func WithListPageSize(n int) Option { return func(o *bucket.Options) { o.ListPageSize = n } }

// New builds the backend from the environment (getenv nil: the process
// environment). It does not touch the network.
func New(cfg registry.Config, getenv bucket.Getenv, opts ...Option) (*Backend, error) {
	s3cfg, err := bucket.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		cfg:     cfg,
		s3:      s3cfg,
		key:     signing.ForBackend("s3"),
		opts:    bucket.Options{Timeout: cfg.Timeout, UserAgent: cfg.UserAgent, InsecureTLS: cfg.Insecure},
		clients: map[string]*bucket.Client{},
	}
	for _, o := range opts {
		o(&b.opts)
	}
	return b, nil
}

// Scheme implements registry.Backend.
func (b *Backend) Scheme() string { return "s3" }

// SignKey implements registry.Backend.
func (b *Backend) SignKey() signing.Key { return b.key }

// client returns the (shared) client of a bucket.
func (b *Backend) client(ref registry.Ref) (*bucket.Client, error) {
	if ref.Scheme != "s3" || ref.Bucket == "" {
		return nil, fault.Classed(fault.ErrBadRef, fmt.Errorf("not an s3:// reference: %q", ref.Raw))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.clients[ref.Bucket]; ok {
		return c, nil
	}
	c, err := bucket.New(b.s3, ref.Bucket, b.opts)
	if err != nil {
		return nil, err
	}
	b.clients[ref.Bucket] = c
	return c, nil
}

// refFor names the image or repository at a key prefix.
func refFor(bucketName, keyPrefix string) string {
	if keyPrefix == "" {
		return "s3://" + bucketName
	}
	return "s3://" + bucketName + "/" + keyPrefix
}

// dirPrefix is the listing prefix of a key prefix ("" or "p/").
func dirPrefix(keyPrefix string) string {
	if keyPrefix == "" {
		return ""
	}
	return keyPrefix + "/"
}

// Exists implements registry.Backend: the manifest object exists.
func (b *Backend) Exists(ctx context.Context, ref registry.Ref) (bool, error) {
	c, err := b.client(ref)
	if err != nil {
		return false, err
	}
	_, found, err := c.Head(ctx, ref.S3Key(manifestLeaf))
	return found, err
}

// List implements registry.Backend: folders are browsed level by level
// with delimiter '/'; a folder holding manifest.json is an image (not
// descended into further), grouped under its parent folder as a tag.
func (b *Backend) List(ctx context.Context, root registry.Ref, opt registry.ListOptions) (*registry.Listing, error) {
	c, err := b.client(root)
	if err != nil {
		return nil, err
	}
	out := &registry.Listing{Root: root.Raw}
	rootKey := root.S3KeyPrefix()
	ents, _, err := c.List(ctx, dirPrefix(rootKey), "", 0)
	if err != nil {
		return nil, err
	}
	if holdsManifest(ents, dirPrefix(rootKey)) {
		out.Image = true
		return out, nil
	}
	repos := map[string][]string{}
	var visit func(rel string, ents []bucket.Entry, depth int) error
	visit = func(rel string, ents []bucket.Entry, depth int) error {
		for _, e := range ents {
			name := path.Base(e.Key)
			if !e.Dir || strings.HasPrefix(name, ".") {
				continue
			}
			sub := path.Join(rel, name)
			subEnts, _, err := c.List(ctx, e.Key, "", 0)
			if err != nil {
				return err
			}
			if holdsManifest(subEnts, e.Key) {
				parent := path.Dir(sub)
				repos[parent] = append(repos[parent], name)
				continue // an image's own blobs/ is not a catalog
			}
			// blobs/ of an unfinished push holds 256 shard folders and
			// never an image: not worth a request per shard.
			if depth < maxListDepth && name != "blobs" {
				if err := visit(sub, subEnts, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit("", ents, 1); err != nil {
		return nil, err
	}
	if len(repos) == 0 && len(ents) == 0 {
		out.Note = "nothing under " + root.Raw
	}
	out.Repos, out.Next = registry.RepoPage(repos, opt, func(n string) string {
		key := rootKey
		if n != "." {
			key = strings.TrimPrefix(path.Join(rootKey, n), "/")
			if strings.HasPrefix(rootKey, "/") {
				key = rootKey + "/" + n // keep a leading '/' verbatim
			}
		}
		return refFor(root.Bucket, key)
	})
	return out, nil
}

// holdsManifest reports whether a listing of dir contains dir+manifest.json.
func holdsManifest(ents []bucket.Entry, dir string) bool {
	for _, e := range ents {
		if !e.Dir && e.Key == dir+manifestLeaf {
			return true
		}
	}
	return false
}

// Tags implements registry.Backend: the folders directly below repo that
// hold manifest.json.
func (b *Backend) Tags(ctx context.Context, repo registry.Ref, opt registry.ListOptions) (*registry.TagList, error) {
	c, err := b.client(repo)
	if err != nil {
		return nil, err
	}
	ents, _, err := c.List(ctx, dirPrefix(repo.S3KeyPrefix()), "", 0)
	if err != nil {
		return nil, err
	}
	var dirs []bucket.Entry
	for _, e := range ents {
		if e.Dir && !strings.HasPrefix(path.Base(e.Key), ".") {
			dirs = append(dirs, e)
		}
	}
	// One HEAD per folder, a few at a time.
	found := make([]bucket.Entry, len(dirs))
	isImage := make([]bool, len(dirs))
	errs := make([]error, len(dirs))
	var g errgroup.Group
	g.SetLimit(probeConcurrency)
	for i, d := range dirs {
		g.Go(func() error {
			found[i], isImage[i], errs[i] = c.Stat(ctx, d.Key+manifestLeaf)
			return nil // every folder is probed; the first error by position wins
		})
	}
	_ = g.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, e := range errs {
			if e != nil {
				return nil, e // the first one: one line
			}
		}
	}
	var names []string
	byName := map[string]bucket.Entry{}
	for i, d := range dirs {
		if isImage[i] {
			n := path.Base(d.Key)
			names = append(names, n)
			byName[n] = found[i]
		}
	}
	sort.Strings(names)
	names, next := registry.PageNames(names, opt)
	out := &registry.TagList{Repo: repo.Raw, Next: next, Tags: []registry.TagEntry{}}
	for _, n := range names {
		out.Tags = append(out.Tags, registry.TagEntry{
			Name:    n,
			Ref:     refFor(repo.Bucket, strings.TrimSuffix(byName[n].Key, "/"+manifestLeaf)),
			Updated: byName[n].LastModified,
		})
	}
	return out, nil
}

// Source implements registry.Backend.
func (b *Backend) Source(_ context.Context, ref registry.Ref) (registry.Source, error) {
	c, err := b.client(ref)
	if err != nil {
		return nil, err
	}
	return &image{c: c, ref: ref}, nil
}

// Sink implements registry.Backend. It checks endpoint, credentials and
// bucket up front, so a push fails with one clear line before any work.
func (b *Backend) Sink(ctx context.Context, ref registry.Ref) (registry.Sink, error) {
	c, err := b.client(ref)
	if err != nil {
		return nil, err
	}
	if err := c.Check(ctx); err != nil {
		return nil, err
	}
	// Best effort: uploads a killed push left under this image.
	_, _ = c.AbortUploads(ctx, ref.S3KeyPrefix(), time.Now().Add(-staleUpload))
	return &image{c: c, ref: ref}, nil
}

// staleUpload is the age after which an unfinished multipart upload is
// taken to be a killed push's: a live one may take hours for a big blob on
// a slow link, and may run on another machine.
var staleUpload = 24 * time.Hour

// image is one image prefix, as source and as sink.
type image struct {
	c   *bucket.Client
	ref registry.Ref

	mu sync.Mutex
	// pending is the journal FetchManifest read the image from, if any:
	// Signatures then lists its bundles.
	pending *journal
}

func (im *image) Describe() string { return im.ref.Raw }

func (im *image) blobKey(d model.Digest) string { return im.ref.S3Key(d.ShardPath()) }

// FetchManifest implements registry.Source.
func (im *image) FetchManifest(ctx context.Context) ([]byte, []byte, error) {
	raw, err := im.c.GetBytes(ctx, im.ref.S3Key(manifestLeaf), maxManifestSize)
	if errors.Is(err, fault.ErrNotFound) && fault.Hint(err) == "" {
		return nil, nil, fault.WithHint(fault.NotFoundf("no image at %s: %s is missing", im.ref.Raw, im.c.URL(im.ref.S3Key(manifestLeaf))),
			"list the images under it with `pf-registry ls "+im.ref.Raw+"`")
	}
	if err != nil {
		return nil, nil, err
	}
	sig, err := im.c.GetBytes(ctx, im.ref.S3Key(signatureLeaf), maxManifestSize)
	if errors.Is(err, fault.ErrNotFound) {
		sig, err = nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	j, err := im.readJournal(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	im.mu.Lock()
	im.pending = j
	im.mu.Unlock()
	if j != nil {
		return j.Manifest, j.Sig, nil
	}
	return raw, sig, nil
}

// OpenBlob implements registry.Source: the stored (zstd) object, streamed.
func (im *image) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	rc, size, err := im.c.Get(ctx, im.blobKey(d))
	if errors.Is(err, fault.ErrNotFound) && fault.Hint(err) == "" {
		return nil, 0, fault.NotFoundf("blob %s is missing from %s", d.Short(), im.ref.Raw)
	}
	return rc, size, err
}

// OpenBlobAt implements registry.BlobRanger with a Range request.
func (im *image) OpenBlobAt(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, error) {
	return im.c.GetFrom(ctx, im.blobKey(d), off)
}

// StatBlob implements registry.BlobStater with one HEAD request.
func (im *image) StatBlob(ctx context.Context, d model.Digest) (int64, error) {
	size, found, err := im.c.Head(ctx, im.blobKey(d))
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fault.NotFoundf("blob %s is missing from %s", d.Short(), im.ref.Raw)
	}
	return size, nil
}

// HasBlob implements registry.Sink: a blob object is trusted when present.
// S3 makes an object visible only once its upload completed, so presence
// means a whole object (content is verified on every pull).
func (im *image) HasBlob(ctx context.Context, d model.Digest) (bool, error) {
	_, found, err := im.c.Head(ctx, im.blobKey(d))
	return found, err
}

// PutBlob implements registry.Sink: streams the stored bytes; more than
// bucket.PartSize (or an unknown size) goes up as a multipart upload.
func (im *image) PutBlob(ctx context.Context, b *registry.Blob) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	key := im.blobKey(b.Digest)
	src := &trackingReader{r: rc, size: b.StoredSize}
	size := b.StoredSize
	var body io.Reader = src
	if size < 0 {
		// Unknown size: a small blob still goes up in one request.
		head := make([]byte, bucket.PartSize)
		n, rerr := io.ReadFull(src, head)
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			if src.err != nil {
				return src.err
			}
			body, size = bytesReader(head[:n]), int64(n)
		case rerr != nil:
			return rerr
		default:
			body = io.MultiReader(bytesReader(head), src)
		}
	}
	perr := im.c.Put(ctx, key, body, size, bucket.PutOptions{ContentType: zstdType})
	if perr == nil {
		// The stream must end exactly here and verify: a body of known
		// size is not read to EOF by the HTTP client.
		_, perr = io.Copy(io.Discard, src)
	}
	if src.err != nil {
		perr = src.err // the stream's own verdict (e.g. integrity) wins
	}
	if perr != nil {
		// Never leave bytes that failed verification behind. A failed
		// upload leaves nothing, so this is a no-op then.
		if errors.Is(perr, fault.ErrIntegrity) {
			_ = im.c.Remove(context.WithoutCancel(ctx), key)
		}
		return perr
	}
	return nil
}

// Commit implements registry.Sink: the switch through the journal
// (journal.go), the manifest written last.
func (im *image) Commit(ctx context.Context, manifest, sig []byte) error {
	return im.commit(ctx, manifest, sig, nil)
}
