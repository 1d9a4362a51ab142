// Package ipfs is the ipfs:// backend: images are flat UnixFS directories
// served by a Kubo daemon through its RPC API (spec §9.4), holding exactly
// the entries the Rust tool reads: manifest.json, manifest.json.sig and one
// blob_<hex>.zst per blob of the walk.
//
// References:
//
//	ipfs://<CID>[/<path>]  an image directory by content address (read).
//	ipfs://<repo>[:<tag>]  an image by name in the MFS index (read and push).
//	                       repo and tag are 1–40 characters of A-Z a-z 0-9
//	                       . _ - not starting with '.'; the tag defaults to
//	                       "latest". Anything longer than 40 characters
//	                       without ':' is taken as a CID, so the two never
//	                       collide.
//	ipfs://new             the Rust push placeholder: push without a name.
//
// Names live in the daemon's MFS under /processfork/<repo>/<tag>, each an
// image directory, so `ipfs files ls /processfork` browses them. A push to a
// CID is treated like ipfs://new, as the Rust tool does (the CID is only a
// placeholder).
//
// Push stages the directory in MFS (/processfork/.staging/<time>-<random>,
// created with the first blob and removed when a blob fails; a later push
// removes those of interrupted processes after a day): small blobs go in
// multi-file adds that link them in (add's to-files option, Kubo 0.16 and
// later), larger ones are added unpinned and copied in, blobs an earlier
// image of the same repository already holds are copied from it without
// being read, then the signature and the manifest are written last; the
// push checks that the directory holds every entry before naming it. The
// directory CID is pinned once (recursively), the staging directory is
// moved to its name (or dropped for unnamed pushes) and the sink reports
// ipfs://<CID> through ResultRef (registry.ResultReffer), which push
// prints. Replacing a name
// leaves the previous image pinned; it stays listed by its CID until
// `ipfs pin rm` removes it.
//
// Listing (spec §10): the repositories of the MFS index, then recursive pins
// whose directory holds a manifest.json, named by their CID.
package ipfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/internal/stale"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Scheme is the reference scheme this backend serves.
const Scheme = "ipfs"

// Entry names of an image directory (spec §9.4).
const (
	ManifestEntry  = "manifest.json"
	SignatureEntry = "manifest.json.sig"
	blobPrefix     = "blob_"
	blobSuffix     = ".zst"
)

// IndexRoot is the MFS directory holding named images.
const IndexRoot = "/processfork"

const (
	stagingRoot  = IndexRoot + "/.staging"
	placeholder  = "new"
	defaultTag   = "latest"
	maxNameLen   = 40
	maxManifest  = 16 << 20
	maxSignature = 1 << 20
	maxPinProbes = 256
)

// The sink reports the directory CID, known only after Commit.
var _ registry.ResultReffer = (*sink)(nil)

func init() {
	registry.Register(Scheme, func(cfg registry.Config) (registry.Backend, error) {
		return New(cfg)
	})
}

// Backend serves ipfs:// references through one Kubo daemon.
type Backend struct {
	c   *client
	key signing.Key
}

// New finds the daemon's RPC endpoint (IPFS_API, $IPFS_PATH/api, default)
// and returns the backend. No request is made until first use.
func New(cfg registry.Config) (*Backend, error) {
	base, source, err := apiEndpoint()
	if err != nil {
		return nil, err
	}
	return newAt(cfg, base, source), nil
}

// newAt builds the backend for an RPC endpoint (source says where it was
// found, for messages).
func newAt(cfg registry.Config, base, source string) *Backend {
	return &Backend{c: newClient(base, source, cfg.Timeout, cfg.UserAgent), key: signing.ForBackend(Scheme)}
}

// Scheme implements registry.Backend.
func (b *Backend) Scheme() string { return Scheme }

// SignKey implements registry.Backend.
func (b *Backend) SignKey() signing.Key { return b.key }

// Endpoint is the RPC base URL in use, without credentials.
func (b *Backend) Endpoint() string { return b.c.display() }

// target is what an ipfs:// reference designates.
type target struct {
	raw       string // the reference text after ipfs://
	path      string // CID or /ipfs/ path to hand to ls/cat; empty for names
	repo, tag string // set for names
}

func (t target) named() bool { return t.repo != "" }

func (t target) indexPath() string { return IndexRoot + "/" + t.repo + "/" + t.tag }

func (t target) String() string {
	if t.named() {
		return "ipfs://" + t.repo + ":" + t.tag
	}
	return "ipfs://" + t.raw
}

// parseTarget splits a reference into a name or a content path.
func parseTarget(ref registry.Ref) (target, error) {
	raw := ref.CID
	t := target{raw: raw}
	if raw == "" {
		return t, fault.WithHint(fault.Classed(fault.ErrBadRef, fmt.Errorf("empty ipfs reference %q", ref.Raw)),
			"use ipfs://<CID> or ipfs://<repo>[:<tag>]")
	}
	if repo, tag, ok := strings.Cut(raw, ":"); ok {
		if !validName(repo) || !validName(tag) {
			return t, fault.WithHint(fault.Classed(fault.ErrBadRef,
				fmt.Errorf("malformed ipfs name %q: repo and tag must be 1-%d characters of A-Z a-z 0-9 . _ - not starting with '.'", ref.Raw, maxNameLen)),
				"use ipfs://<repo>[:<tag>], e.g. ipfs://agent:v1")
		}
		t.repo, t.tag = repo, tag
		return t, nil
	}
	if validName(raw) {
		t.repo, t.tag = raw, defaultTag
		return t, nil
	}
	t.path = raw
	return t, nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxNameLen || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// resolve turns a target into a content path (CID) that ls and cat accept.
func (b *Backend) resolve(ctx context.Context, t target) (string, error) {
	if !t.named() {
		return t.path, nil
	}
	if t.repo == placeholder && t.tag == defaultTag && !strings.Contains(t.raw, ":") {
		return "", fault.WithHint(fault.Classed(fault.ErrBadRef,
			errors.New("ipfs://new is the push placeholder, not an image")),
			"read an image by its CID (printed by push) or by name, ipfs://<repo>[:<tag>]")
	}
	var st struct{ Hash, Type string }
	err := b.c.callJSON(ctx, "files/stat", args("arg", t.indexPath()), nil, &st)
	if errors.Is(err, fault.ErrNotFound) {
		// Between the two steps of a name switch (staging.go) the image
		// is its ready directory.
		if cid, ok, perr := b.pendingSwitch(ctx, t); perr != nil || ok {
			return cid, perr
		}
		return "", fault.WithHint(fault.NotFoundf("no image named %s in the MFS index %s of the IPFS daemon at %s", t, IndexRoot, b.c.display()),
			"list the names with `pf ls ipfs://`, or use the image's CID")
	}
	if err != nil {
		return "", err
	}
	if st.Type != "directory" {
		return "", fault.WithHint(fault.Integrityf("%s in the MFS index is a %s, not an image directory", t.indexPath(), st.Type),
			"remove it with `ipfs files rm "+t.indexPath()+"` and push again")
	}
	return st.Hash, nil
}

// lsLink is one directory entry as /api/v0/ls reports it.
type lsLink struct {
	Name, Hash string
	Size       uint64
	Type       int
}

// ls lists the entries of a directory (all objects of the answer, which
// covers HAMT-sharded directories). sizes asks Kubo to resolve file sizes.
func (b *Backend) ls(ctx context.Context, path string, sizes bool) ([]lsLink, error) {
	q := args("arg", path)
	if !sizes {
		q = append(q, arg{"resolve-type", "false"}, arg{"size", "false"})
	}
	var out struct {
		Objects []struct{ Links []lsLink }
	}
	if err := b.c.callJSON(ctx, "ls", q, nil, &out); err != nil {
		return nil, err
	}
	var links []lsLink
	for _, o := range out.Objects {
		links = append(links, o.Links...)
	}
	return links, nil
}

// Exists implements registry.Backend: true iff the directory holds a
// manifest.json; an unknown CID or name is false.
func (b *Backend) Exists(ctx context.Context, ref registry.Ref) (bool, error) {
	t, err := parseTarget(ref)
	if err != nil {
		return false, err
	}
	path, err := b.resolve(ctx, t)
	if errors.Is(err, fault.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	links, err := b.ls(ctx, path, false)
	if errors.Is(err, fault.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, l := range links {
		if l.Name == ManifestEntry {
			return true, nil
		}
	}
	return false, nil
}

// Source implements registry.Backend. It lists the directory once; blobs
// are then streamed with cat.
func (b *Backend) Source(ctx context.Context, ref registry.Ref) (registry.Source, error) {
	t, err := parseTarget(ref)
	if err != nil {
		return nil, err
	}
	path, err := b.resolve(ctx, t)
	if err != nil {
		return nil, err
	}
	links, err := b.ls(ctx, path, true)
	if err != nil {
		return nil, err
	}
	s := &source{b: b, t: t, path: path, blobs: map[string]lsLink{}}
	for _, l := range links {
		switch {
		case l.Name == ManifestEntry:
			l := l
			s.manifest = &l
		case l.Name == SignatureEntry:
			l := l
			s.sig = &l
		case registry.IsBundleFile(l.Name):
			s.bundles = append(s.bundles, l)
		case strings.HasPrefix(l.Name, blobPrefix) && strings.HasSuffix(l.Name, blobSuffix):
			h := l.Name[len(blobPrefix) : len(l.Name)-len(blobSuffix)]
			if _, err := model.FromHex(h); err != nil {
				return nil, fault.WithHint(fault.Integrityf("%s holds entry %q whose name is not blob_<64 hex>.zst", s.Describe(), l.Name),
					"the directory is not a valid image; rebuild it or push the image again")
			}
			s.blobs[h] = l
		}
	}
	return s, nil
}

type source struct {
	b        *Backend
	t        target
	path     string
	manifest *lsLink
	sig      *lsLink
	bundles  []lsLink          // Sigstore bundles beside the manifest
	blobs    map[string]lsLink // by hex as written in the entry name
}

func (s *source) Describe() string {
	if s.t.named() {
		return fmt.Sprintf("%s (%s)", s.t, s.path)
	}
	return s.t.String()
}

func (s *source) FetchManifest(ctx context.Context) (manifest, sig []byte, err error) {
	if s.manifest == nil {
		return nil, nil, fault.WithHint(fault.NotFoundf("%s holds no %s", s.Describe(), ManifestEntry),
			"check that the CID is a ProcessFork image directory (`ipfs ls "+s.path+"`)")
	}
	if manifest, err = s.b.catAll(ctx, s.manifest.Hash, maxManifest, ManifestEntry); err != nil {
		return nil, nil, err
	}
	if s.sig == nil {
		return manifest, nil, nil
	}
	if sig, err = s.b.catAll(ctx, s.sig.Hash, maxSignature, SignatureEntry); err != nil {
		return nil, nil, err
	}
	return manifest, sig, nil
}

func (s *source) OpenBlob(ctx context.Context, d model.Digest) (io.ReadCloser, int64, error) {
	l, ok := s.blobs[d.Hex()]
	if !ok {
		return nil, -1, fault.NotFoundf("%s holds no %s%s%s", s.Describe(), blobPrefix, d.Hex(), blobSuffix)
	}
	rc, err := s.b.c.call(ctx, "cat", args("arg", l.Hash), nil)
	if err != nil {
		return nil, -1, err
	}
	return rc, int64(l.Size), nil
}

// OpenBlobAt implements registry.BlobRanger with cat's offset.
func (s *source) OpenBlobAt(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, error) {
	l, ok := s.blobs[d.Hex()]
	if !ok || off < 0 || off >= int64(l.Size) {
		return nil, fmt.Errorf("%s: no bytes of blob %s from offset %d", s.Describe(), d.Short(), off)
	}
	rc, err := s.b.c.call(ctx, "cat", args("arg", l.Hash, "offset", strconv.FormatInt(off, 10)), nil)
	if err != nil {
		return nil, err
	}
	if n := rc.(*rpcBody).resp.Header.Get("X-Content-Length"); n != "" && n != strconv.FormatInt(int64(l.Size)-off, 10) {
		rc.Close()
		return nil, fmt.Errorf("ipfs cat %s: the daemon answered %s bytes from offset %d of %d", l.Hash, n, off, l.Size)
	}
	return rc, nil
}

// StatBlob implements registry.BlobStater from the directory listing.
func (s *source) StatBlob(_ context.Context, d model.Digest) (int64, error) {
	l, ok := s.blobs[d.Hex()]
	if !ok {
		return -1, fault.NotFoundf("%s holds no %s%s%s", s.Describe(), blobPrefix, d.Hex(), blobSuffix)
	}
	return int64(l.Size), nil
}

// catAll reads a small file whole, refusing more than limit bytes.
func (b *Backend) catAll(ctx context.Context, cid string, limit int64, what string) ([]byte, error) {
	rc, err := b.c.call(ctx, "cat", args("arg", cid), nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fault.Integrityf("%s (%s) is larger than %d bytes", what, cid, limit)
	}
	return data, nil
}

// Sink implements registry.Backend.
func (b *Backend) Sink(ctx context.Context, ref registry.Ref) (registry.Sink, error) {
	t, err := parseTarget(ref)
	if err != nil {
		return nil, err
	}
	orig := t
	if !t.named() || t.repo == placeholder && !strings.Contains(t.raw, ":") {
		t = target{raw: t.raw} // placeholder or CID: an unnamed push
	}
	b.dropStaleStaging(ctx)
	s := &sink{b: b, t: t, orig: orig, staging: newStaging(), have: map[string]string{}, linked: map[string]bool{}}
	s.watch(ctx)
	if t.named() {
		if err := s.loadExisting(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newStaging names a fresh staging directory. The name starts with the
// creation time and names the writing process, so abandoned pushes can be
// recognised and removed later.
func newStaging() string {
	return stagingRoot + "/" + strconv.FormatInt(time.Now().Unix(), 10) + "-" + stale.Name("push")
}

type sink struct {
	b       *Backend
	t       target
	orig    target // as given: a CID stays one (signing reads it)
	staging string

	mu        sync.Mutex
	have      map[string]string // blob hex → CID, from earlier images of the repo
	unflushed int               // files/cp calls since the last flush
	pending   batch             // small blobs read, not yet sent
	alone     bool              // a batch failed or was cut: send blobs one by one
	linked    map[string]bool   // entry names linked into staging
	result    string
	staged    bool  // the staging directory exists
	decided   bool  // the staging directory is ready: the name switch will finish
	failed    error // the failure that abandoned the push
	stopWatch func() bool
}

func (s *sink) Describe() string {
	if s.t.named() {
		return s.t.String()
	}
	return "ipfs://new"
}

// ResultRef is ipfs://<directory CID> once Commit succeeded.
func (s *sink) ResultRef() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result
}

// mfsEntry is one entry of files/ls?long=true.
type mfsEntry struct {
	Name string
	Type int // 0 file, 1 directory
	Size uint64
	Hash string
}

func (b *Backend) filesLs(ctx context.Context, dir string) ([]mfsEntry, error) {
	var out struct{ Entries []mfsEntry }
	if err := b.c.callJSON(ctx, "files/ls", args("arg", dir, "long", "true"), nil, &out); err != nil {
		return nil, err
	}
	return out.Entries, nil
}

// loadExisting remembers the blobs of every image already indexed under the
// repository, so that a re-push copies them instead of uploading them.
func (s *sink) loadExisting(ctx context.Context) error {
	tags, err := s.b.filesLs(ctx, IndexRoot+"/"+s.t.repo)
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// The tag being replaced first, then the others.
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Name == s.t.tag && tags[j].Name != s.t.tag })
	for i, tag := range tags {
		if i >= 20 || tag.Type != 1 {
			continue
		}
		entries, err := s.b.filesLs(ctx, IndexRoot+"/"+s.t.repo+"/"+tag.Name)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if h, ok := blobHex(e.Name); ok {
				if _, dup := s.have[h]; !dup {
					s.have[h] = e.Hash
				}
			}
		}
	}
	return nil
}

func blobHex(name string) (string, bool) {
	if !strings.HasPrefix(name, blobPrefix) || !strings.HasSuffix(name, blobSuffix) {
		return "", false
	}
	h := name[len(blobPrefix) : len(name)-len(blobSuffix)]
	if _, err := model.FromHex(h); err != nil {
		return "", false
	}
	return h, true
}

func blobEntry(d model.Digest) string { return blobPrefix + d.Hex() + blobSuffix }

// HasBlob reports a blob an earlier image of the same repository holds and
// links it into the new directory right away (no bytes move).
func (s *sink) HasBlob(ctx context.Context, d model.Digest) (bool, error) {
	s.mu.Lock()
	cid, ok := s.have[d.Hex()]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	err := s.link(ctx, cid, blobEntry(d))
	if errors.Is(err, fault.ErrNotFound) {
		return false, nil // the old entry's blocks are gone: upload it again
	}
	if err != nil {
		return false, s.fail(ctx, err)
	}
	return true, nil
}

// PutBlob adds the stored bytes unpinned (the directory pin covers them)
// and links them into the staging directory; small blobs go in batches.
func (s *sink) PutBlob(ctx context.Context, blob *registry.Blob) error {
	err := s.putBlob(ctx, blob)
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		// A blob missing at the source is reported with the others
		// missing; any other failure ends the push.
		return s.fail(ctx, err)
	}
	return err
}

func (s *sink) putBlob(ctx context.Context, blob *registry.Blob) error {
	if s.batched(blob) {
		return s.putSmall(ctx, blob)
	}
	rc, err := blob.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	rec := &errRecorder{r: rc}
	cid, err := s.b.add(ctx, blobEntry(blob.Digest), rec)
	if rec.err != nil {
		return rec.err // the source stream failed (e.g. integrity): keep nothing
	}
	if err != nil {
		return err
	}
	return s.link(ctx, cid, blobEntry(blob.Digest))
}

// flushEvery bounds the unflushed MFS operations of one push; Kubo refuses
// more than Internal.MFSNoFlushLimit (256 by default) per daemon.
const flushEvery = 64

// link copies a CID into the staging directory. It skips MFS's flush of
// every parent up to the root on each entry (the cost of a push grew with
// the square of its entries) and flushes every flushEvery entries and once
// in Commit instead.
func (s *sink) link(ctx context.Context, cid, name string) error {
	if err := s.stage(ctx); err != nil {
		return err
	}
	cp := func() error {
		return s.b.c.callJSON(ctx, "files/cp", args("arg", "/ipfs/"+cid, "arg", s.staging+"/"+name, "force", "true", "flush", "false"), nil, nil)
	}
	err := cp()
	if err != nil && strings.Contains(err.Error(), "unflushed MFS operations") {
		// Other writers used up the daemon's allowance: flush and retry once.
		if err = s.flush(ctx); err == nil {
			err = cp()
		}
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.linked[name] = true
	s.unflushed++
	due := s.unflushed >= flushEvery
	if due {
		s.unflushed = 0
	}
	s.mu.Unlock()
	if due {
		return s.flush(ctx)
	}
	return nil
}

func (s *sink) flush(ctx context.Context) error {
	return s.b.c.callJSON(ctx, "files/flush", args("arg", s.staging), nil, nil)
}

// add uploads one file unpinned and returns its CID.
func (b *Backend) add(ctx context.Context, name string, r io.Reader) (string, error) {
	var last struct{ Name, Hash string }
	err := b.c.callLines(ctx, "add", args("pin", "false", "progress", "false"), upload{{name: name, r: r}},
		func(dec *json.Decoder) error { return dec.Decode(&last) })
	if err != nil {
		return "", err
	}
	if last.Hash == "" {
		return "", fmt.Errorf("ipfs add %s: the daemon returned no CID", name)
	}
	return last.Hash, nil
}

// Commit writes the signature and the manifest last, pins the directory
// once and gives it its name.
func (s *sink) Commit(ctx context.Context, manifest, sig []byte) error {
	return s.commit(ctx, manifest, sig, nil)
}

// put adds a small file to the staging directory.
func (s *sink) put(ctx context.Context, name string, data []byte) error {
	cid, err := s.b.add(ctx, name, strings.NewReader(string(data)))
	if err != nil {
		return err
	}
	return s.link(ctx, cid, name)
}

// commit is Commit with bundles, written before the signature. The
// directory is built fresh, so the bundles of a replaced image are not in
// it.
func (s *sink) commit(ctx context.Context, manifest, sig []byte, bundles []registry.BundleFile) error {
	if err := s.sendPending(ctx); err != nil {
		return err
	}
	for _, b := range bundles {
		if err := s.put(ctx, b.Name, b.Data); err != nil {
			return err
		}
	}
	if sig != nil {
		if err := s.put(ctx, SignatureEntry, sig); err != nil {
			return err
		}
	}
	if manifest != nil {
		if err := s.put(ctx, ManifestEntry, manifest); err != nil {
			return err
		}
	}
	return s.publish(ctx)
}

// publish pins the staging directory once and gives it its name.
func (s *sink) publish(ctx context.Context) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	if err := s.checkLinked(ctx); err != nil {
		return err
	}
	var st struct{ Hash string }
	if err := s.b.c.callJSON(ctx, "files/stat", args("arg", s.staging), nil, &st); err != nil {
		return err
	}
	if err := s.b.c.callJSON(ctx, "pin/add", args("arg", st.Hash), nil, nil); err != nil {
		return err
	}
	if s.t.named() {
		if err := s.switchName(ctx, st.Hash); err != nil {
			return err
		}
	} else if err := s.b.c.callJSON(ctx, "files/rm", args("arg", s.staging, "recursive", "true"), nil, nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.result = "ipfs://" + st.Hash
	s.staged = false // moved to its name, or removed
	s.mu.Unlock()
	s.stopWatch()
	return nil
}

// errRecorder remembers the first non-EOF error of the source stream, so an
// integrity failure is reported as such rather than as a failed upload.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// display is the endpoint without credentials, for messages.
func (c *client) display() string {
	u, err := url.Parse(c.base)
	if err != nil || u.User == nil {
		return c.base
	}
	u.User = nil
	return u.String()
}

// Holds implements registry.Holder for a named push: the directory at the
// name is pinned (so its blocks stay) and holds this manifest and
// signature and an entry of the stored size for every blob. Its CID is
// then the push's result, as if it had been built again.
func (s *sink) Holds(ctx context.Context, manifest, sig []byte, blobs []registry.HeldBlob) (bool, error) {
	if !s.t.named() {
		return false, nil
	}
	var st struct{ Hash, Type string }
	if err := s.b.c.callJSON(ctx, "files/stat", args("arg", s.t.indexPath()), nil, &st); err != nil || st.Type != "directory" {
		return false, nil
	}
	entries, err := s.b.filesLs(ctx, s.t.indexPath())
	if err != nil {
		return false, nil
	}
	byName := make(map[string]mfsEntry, len(entries))
	for _, e := range entries {
		byName[e.Name] = e
	}
	for _, b := range blobs {
		e, ok := byName[blobEntry(b.Digest)]
		if !ok || e.Type != 0 || b.StoredSize < 0 || e.Size != uint64(b.StoredSize) {
			return false, nil
		}
	}
	for _, f := range []struct {
		name string
		want []byte
	}{{ManifestEntry, manifest}, {SignatureEntry, sig}} {
		e, ok := byName[f.name]
		if !ok || e.Size != uint64(len(f.want)) {
			return false, nil
		}
		got, err := s.b.catAll(ctx, e.Hash, int64(len(f.want)), f.name)
		if err != nil || !bytes.Equal(got, f.want) {
			return false, nil
		}
	}
	if err := s.b.c.callJSON(ctx, "pin/ls", args("arg", st.Hash, "type", "recursive"), nil, nil); err != nil {
		return false, nil
	}
	s.mu.Lock()
	s.result = "ipfs://" + st.Hash
	s.mu.Unlock()
	s.stopWatch()
	return true, nil
}
