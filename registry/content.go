package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sync"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/signing"
	"pf-registry/store"
)

// Browsing caps: what Content downloads to show an image's insides.
const (
	// MaxPaneBlob bounds the decompressed size of one small blob read for
	// a pane (trace, ledger, env, procs, model, fs tree, page manifest).
	MaxPaneBlob = model.MaxDocSize
	// MaxPreviewFetch is the largest file a preview downloads by default.
	MaxPreviewFetch = 1 << 20
	// maxBaseBlob bounds model.base, which may be real weights: beyond it
	// only the size is shown.
	maxBaseBlob = 64 << 10
	// maxProcsBlob bounds world.procs: a CRIU capture carries a tarball.
	maxProcsBlob = 1 << 20
)

// ErrTooLarge marks a blob over a browsing cap: callers show its size
// instead of its content.
var ErrTooLarge = errors.New("too large to browse")

// Content reads what is inside one image without pulling it: the small
// blobs behind each pane, each downloaded once, verified against its
// digest and size-capped. KV pages are never fetched. It works through any
// backend's Source; every method is cancellable through its context and
// safe for concurrent use.
type Content struct {
	src Source
	in  *Inspection

	mu    sync.Mutex
	docs  map[model.Digest]metaBlob // small blobs read so far
	sized []SizedBlob               // the walk with stored sizes, once known
}

// SizedBlob is one blob of the walk with its stored size at the source
// (-1 when the backend cannot tell without downloading).
type SizedBlob struct {
	model.BlobRef
	StoredSize int64 `json:"stored_size"`
}

// OpenContent opens an image of a registry for browsing. The signatures
// are checked first, as for a pull, under the registry's policy: an image
// that would not pull (a status below the requirement, an invalid or
// missing signature, a malformed manifest) is not opened and nothing of it
// is decompressed.
func OpenContent(ctx context.Context, reg Registry, ref Ref) (*Content, error) {
	src, err := reg.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	cfg := configOf(reg)
	level, _ := cfg.Policy.For(ref)
	return NewContent(ctx, src, &Verifier{Key: reg.SignKey(), Keys: cfg.Keys}, level)
}

// NewContent opens src for browsing, refusing an image below level. v nil
// trusts the source's manifest (the local store keeps no signatures; its
// markers are checked against their ID).
func NewContent(ctx context.Context, src Source, v *Verifier, level signing.Level) (*Content, error) {
	raw, sig, err := src.FetchManifest(ctx)
	if err != nil {
		return nil, err
	}
	in := inspectBytes(src.Describe(), raw)
	switch {
	case v != nil:
		if in.Signature, _, err = v.judge(ctx, src, raw, sig); err == nil {
			err = in.Problem(level)
		}
	case in.ManifestError != "":
		err = in.Problem(signing.RequireAny)
	}
	if err != nil {
		return nil, err
	}
	return &Content{src: src, in: in, docs: map[model.Digest]metaBlob{}}, nil
}

// Inspection is what the manifest and signature said.
func (c *Content) Inspection() *Inspection { return c.in }

// Manifest is the image's (verified) manifest.
func (c *Content) Manifest() *model.Manifest { return c.in.Manifest }

// Blob returns the logical bytes of a small blob, verified against its
// digest. A blob whose stored or decompressed size exceeds max fails with
// ErrTooLarge before more than max stored bytes are read. Blobs are kept
// once read, so panes opened again cost nothing.
func (c *Content) Blob(ctx context.Context, d model.Digest, role string, max int64) ([]byte, error) {
	c.mu.Lock()
	mb, ok := c.docs[d]
	c.mu.Unlock()
	if ok {
		if int64(len(mb.logical)) > max {
			return nil, tooLarge(role, d, int64(len(mb.stored)), max)
		}
		return mb.logical, nil
	}
	rc, size, err := c.src.OpenBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// zstd adds a few bytes per 128 KiB block to incompressible data.
	storedMax := max + max/1024 + 64
	if size > storedMax {
		return nil, tooLarge(role, d, size, max)
	}
	r := &countingReader{ctx: ctx, rc: rc, report: func(int64, bool) {}}
	stored, err := io.ReadAll(io.LimitReader(r, storedMax+1))
	if err != nil {
		return nil, err
	}
	if int64(len(stored)) > storedMax {
		return nil, tooLarge(role, d, -1, max)
	}
	logical, err := blob.DecodeVerified(stored, d, max)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.docs[d] = metaBlob{stored: stored, logical: logical}
	c.mu.Unlock()
	return logical, nil
}

func tooLarge(role string, d model.Digest, stored, max int64) error {
	what := fmt.Sprintf("%s blob %s", role, d.Short())
	if stored >= 0 {
		what += fmt.Sprintf(" (%d bytes stored)", stored)
	}
	return fault.WithHint(fmt.Errorf("%s is over the %d-byte browsing limit: %w", what, max, ErrTooLarge),
		"pull the image to read it")
}

// doc reads a pane's blob and decodes it.
func doc[T any](ctx context.Context, c *Content, d model.Digest, role string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := c.Blob(ctx, d, role, MaxPaneBlob)
	if err != nil {
		return zero, err
	}
	v, err := decode(b)
	if err != nil {
		return zero, malformedBlob(role, c.in.ImageID, err)
	}
	return v, nil
}

func malformedBlob(role string, id model.Digest, err error) error {
	return fault.WithHint(fmt.Errorf("%s of %s: %w", role, id.Short(), err),
		"the image's "+role+" blob is malformed; its producer wrote something this tool cannot read")
}

// Trace is the conversation.
func (c *Content) Trace(ctx context.Context) (*model.Trace, error) {
	return doc(ctx, c, c.in.Manifest.Trace.Messages, "trace.messages", model.ParseTrace)
}

// Effects is the effects ledger.
func (c *Content) Effects(ctx context.Context) (*model.Ledger, error) {
	return doc(ctx, c, c.in.Manifest.Effects.Ledger, "effects.ledger", model.ParseLedger)
}

// Ledger reads another ledger blob at this image's location, e.g. one a
// merged ledger points at. Those are not part of the image's walk (spec
// §12.13), so it may be missing (fault.ErrNotFound).
func (c *Content) Ledger(ctx context.Context, d model.Digest) (*model.Ledger, error) {
	return doc(ctx, c, d, "effects.ledger", model.ParseLedger)
}

// Env is the captured environment, secret-looking values masked.
func (c *Content) Env(ctx context.Context) (*model.Env, error) {
	return doc(ctx, c, c.in.Manifest.World.Env, "world.env", model.ParseEnv)
}

// Procs is the process capture. A large one (a CRIU checkpoint carries a
// tarball) is described without being fetched.
func (c *Content) Procs(ctx context.Context) (*model.Procs, error) {
	d := c.in.Manifest.World.Procs
	b, err := c.Blob(ctx, d, "world.procs", maxProcsBlob)
	if errors.Is(err, ErrTooLarge) {
		return &model.Procs{Description: "large process capture (a CRIU checkpoint?), not fetched for browsing"}, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := model.ParseProcs(b)
	if err != nil {
		return nil, malformedBlob("world.procs", c.in.ImageID, err)
	}
	return p, nil
}

// Cache summarises the KV cache page manifest; no page is fetched.
func (c *Content) Cache(ctx context.Context) (*model.CacheSummary, error) {
	return doc(ctx, c, c.in.Manifest.Cache.Manifest, "cache.manifest", model.SummarizeCache)
}

// PageManifest is the KV cache page manifest (for diffs).
func (c *Content) PageManifest(ctx context.Context) (*model.PageManifest, error) {
	return doc(ctx, c, c.in.Manifest.Cache.Manifest, "cache.manifest", model.ParsePageManifest)
}

// FsTree is the captured working tree.
func (c *Content) FsTree(ctx context.Context) (*model.FsTree, error) {
	return doc(ctx, c, c.in.Manifest.World.FS, "world.fs", model.ParseFsTree)
}

// ModelInfo is the model pane: the base (its text, or its size when it
// is large or binary) and the diff envelope.
type ModelInfo struct {
	Base       model.Digest     `json:"base"`
	BaseText   string           `json:"base_text"`
	DiffDigest model.Digest     `json:"diff_digest"`
	Diff       *model.ModelDiff `json:"diff,omitempty"`
	DiffError  string           `json:"diff_error,omitempty"`
}

// Model reads the model pane.
func (c *Content) Model(ctx context.Context) (*ModelInfo, error) {
	m := c.in.Manifest
	out := &ModelInfo{Base: m.Model.Base, DiffDigest: m.Model.Diff}
	b, err := c.Blob(ctx, m.Model.Base, "model.base", maxBaseBlob)
	switch {
	case errors.Is(err, ErrTooLarge):
		out.BaseText = "large binary blob (not fetched)"
	case err != nil:
		return nil, err
	default:
		out.BaseText = model.DescribeBase(b)
	}
	d, err := doc(ctx, c, m.Model.Diff, "model.diff", model.ParseModelDiff)
	switch {
	case errors.Is(err, ErrTooLarge):
		out.DiffError = "model diff over the browsing limit (not fetched)"
	case err != nil:
		return nil, err
	default:
		out.Diff = d
	}
	return out, nil
}

// FilePreview is what the file pane shows for one path of the fs tree.
type FilePreview struct {
	Path       string       `json:"path"`
	Kind       string       `json:"kind"` // file, dir, symlink
	Mode       string       `json:"mode"`
	Size       uint64       `json:"size"`
	Digest     model.Digest `json:"digest,omitempty"`
	LinkTarget string       `json:"link_target,omitempty"`
	// Fetched tells whether the content was downloaded (and verified).
	Fetched bool `json:"fetched"`
	// Binary files are described, not shown.
	Binary      bool   `json:"binary,omitempty"`
	Description string `json:"description"`
	Text        string `json:"text,omitempty"`
	Truncated   bool   `json:"truncated,omitempty"`
	Entries     int    `json:"entries,omitempty"` // a directory's direct children
}

// Preview reads one path of the fs tree. A file up to fetchMax bytes (0:
// MaxPreviewFetch) is downloaded and verified; text is kept up to textMax
// bytes (0: all of it); binary content is described. Symlinks show their
// target from the tree, directories their number of entries.
func (c *Content) Preview(ctx context.Context, p string, fetchMax, textMax int64) (*FilePreview, error) {
	tree, err := c.FsTree(ctx)
	if err != nil {
		return nil, err
	}
	var e *model.FsEntry
	children := 0
	for i := range tree.Entries {
		if tree.Entries[i].Path == p {
			e = &tree.Entries[i]
		} else if path.Dir(tree.Entries[i].Path) == p {
			children++
		}
	}
	if e == nil {
		return nil, fault.WithHint(fault.NotFoundf("%s has no path %q in its fs tree", c.in.ImageID.Short(), p),
			"list the paths with `pf-registry show REF file`")
	}
	fp := &FilePreview{Path: e.Path, Kind: e.Kind, Mode: e.Mode, Size: e.Size, Digest: model.Digest(e.Blob), LinkTarget: e.LinkTarget}
	switch e.Kind {
	case "dir":
		fp.Entries, fp.Description = children, fmt.Sprintf("directory, %d entries", children)
		return fp, nil
	case "symlink":
		fp.Description = "symbolic link to " + e.LinkTarget
		return fp, nil
	case "file":
	default:
		fp.Description = "unknown entry kind"
		return fp, nil
	}
	if fetchMax <= 0 {
		fetchMax = MaxPreviewFetch
	}
	b, err := []byte(nil), error(nil)
	if e.Size > uint64(fetchMax) {
		err = ErrTooLarge // the tree is verified: no need to ask the backend
	} else {
		b, err = c.Blob(ctx, fp.Digest, "fs:"+p, fetchMax)
	}
	if errors.Is(err, ErrTooLarge) {
		fp.Description = fmt.Sprintf("%d bytes, over the %d-byte preview limit (not fetched)", e.Size, fetchMax)
		return fp, nil
	}
	if err != nil {
		return nil, err
	}
	fp.Fetched = true
	fp.Binary, fp.Description = model.SniffContent(b)
	if !fp.Binary {
		if textMax > 0 && int64(len(b)) > textMax {
			b, fp.Truncated = b[:textMax], true
		}
		fp.Text = string(b)
	}
	return fp, nil
}

// Blobs is the image's walk with the stored size of every blob, learnt
// from the source's stat (never by downloading content). It fails when a
// blob is missing.
func (c *Content) Blobs(ctx context.Context) ([]SizedBlob, error) {
	c.mu.Lock()
	sized := c.sized
	c.mu.Unlock()
	if sized != nil {
		return sized, nil
	}
	m := c.in.Manifest
	// The walk reads the fs tree and the page manifest (tolerating their
	// absence, as Rust does).
	for _, d := range []struct {
		d    model.Digest
		role string
	}{{m.World.FS, "world.fs"}, {m.Cache.Manifest, "cache.manifest"}} {
		if _, err := c.Blob(ctx, d.d, d.role, model.MaxMetadataSize); err != nil && !errors.Is(err, fault.ErrNotFound) {
			return nil, err
		}
	}
	c.mu.Lock()
	refs, err := walk(c.src.Describe(), m, c.docs)
	meta := make(map[model.Digest]metaBlob, len(c.docs))
	for d, mb := range c.docs {
		meta[d] = mb
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sizes, err := statAll(ctx, c.src, refs, meta, DefaultConcurrency, RetryPolicy{})
	if err != nil {
		return nil, err
	}
	sized = make([]SizedBlob, len(refs))
	for i, r := range refs {
		sized[i] = SizedBlob{BlobRef: r, StoredSize: sizes[i]}
	}
	c.mu.Lock()
	c.sized = sized
	c.mu.Unlock()
	return sized, nil
}

// PullCost is what a pull of the image would download given what a local
// store already holds (stored sizes at the source).
type PullCost struct {
	Blobs      int   `json:"blobs"`
	Bytes      int64 `json:"bytes"` // the whole image
	LocalBlobs int   `json:"local_blobs"`
	LocalBytes int64 `json:"local_bytes"`
	FetchBlobs int   `json:"fetch_blobs"`
	FetchBytes int64 `json:"fetch_bytes"` // still to download
	// UnknownSizes counts blobs whose size the backend does not tell;
	// their bytes are missing from the sums.
	UnknownSizes int `json:"unknown_sizes,omitempty"`
}

// PullCost counts what pulling the image into st would download.
func (c *Content) PullCost(ctx context.Context, st *store.Store) (*PullCost, error) {
	sized, err := c.Blobs(ctx)
	if err != nil {
		return nil, err
	}
	return CostOf(sized, func(d model.Digest) bool { return st != nil && st.HasBlob(d) }), nil
}

// CostOf sums blobs into a pull cost; have tells the blobs already at the
// destination.
func CostOf(sized []SizedBlob, have func(model.Digest) bool) *PullCost {
	pc := &PullCost{Blobs: len(sized)}
	for _, b := range sized {
		n := max(b.StoredSize, 0)
		if b.StoredSize < 0 {
			pc.UnknownSizes++
		}
		pc.Bytes += n
		if have(b.Digest) {
			pc.LocalBlobs++
			pc.LocalBytes += n
		} else {
			pc.FetchBlobs++
			pc.FetchBytes += n
		}
	}
	return pc
}
