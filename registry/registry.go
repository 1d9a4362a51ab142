// Package registry defines the one interface every backend implements, the
// image reference grammar, progress events, and the transfer engine that
// moves an image between any source and any sink (a backend or the local
// store), verifying everything on the way. It also holds what managing
// registries needs once for every backend: deletion with its
// mark-and-sweep and grace period, prune, retag, sync, and the local
// store's removal, gc and usage; backends only offer the optional
// capabilities of manage.go.
package registry

import (
	"context"
	"io"
	"time"

	"pf-registry/model"
	"pf-registry/signing"
	"pf-registry/store"
)

// Registry is what the command line and the UI talk to. Build one from a
// Backend with New; backends only write the Backend half.
type Registry interface {
	Backend
	// Inspect fetches manifest and signatures only (no blob download).
	Inspect(ctx context.Context, ref Ref) (*Inspection, error)
	// Verify checks the signature, the manifest and that every reachable
	// blob is present; with Deep every blob is downloaded and re-hashed.
	Verify(ctx context.Context, ref Ref, opt VerifyOptions) (*Report, error)
	// Pull copies the image into the local store, verified.
	Pull(ctx context.Context, ref Ref, st *store.Store, opt TransferOptions) (*Report, error)
	// Push uploads a local image, signing it with the backend's key (and
	// with opt.SignWith).
	Push(ctx context.Context, st *store.Store, id model.Digest, ref Ref, opt TransferOptions) (*Report, error)
	// Delete removes images: manifests and signatures first, then the
	// blobs no remaining image reaches (see DeleteOptions).
	Delete(ctx context.Context, refs []Ref, opt DeleteOptions) (*DeleteReport, error)
	// Retag makes the image at src also available at dst in the same
	// registry, without moving blob bytes where the backend copies server
	// side.
	Retag(ctx context.Context, src, dst Ref) (*RetagReport, error)
	// Sign adds a Sigstore signature by each key to the image at ref
	// without moving a blob, and returns the image as inspected after.
	Sign(ctx context.Context, ref Ref, keys []*signing.PrivateKey) (*Inspection, error)
}

// Backend is the part a storage backend implements.
type Backend interface {
	// Scheme is the reference scheme served ("file", "oci", ...).
	Scheme() string
	// List lists repositories under a root (spec §10). A root that is
	// itself an image yields Listing.Image.
	List(ctx context.Context, root Ref, opt ListOptions) (*Listing, error)
	// Tags lists the images of one repository.
	Tags(ctx context.Context, repo Ref, opt ListOptions) (*TagList, error)
	// Exists reports whether an image (its manifest) exists at ref.
	Exists(ctx context.Context, ref Ref) (bool, error)
	// Source opens ref for reading.
	Source(ctx context.Context, ref Ref) (Source, error)
	// Sink opens ref for writing an image.
	Sink(ctx context.Context, ref Ref) (Sink, error)
	// SignKey is the key that signs and verifies images of this backend
	// (PF_<BACKEND>_REG_SIGN_KEY or the default key).
	SignKey() signing.Key
}

// Source is a place an image is read from.
type Source interface {
	// Describe names the location for messages (never with secrets).
	Describe() string
	// FetchManifest returns the raw manifest and raw signature bytes. A
	// missing signature is sig == nil with a nil error; a missing manifest is
	// an error wrapping fault.ErrNotFound.
	FetchManifest(ctx context.Context) (manifest, sig []byte, err error)
	// OpenBlob opens the stored (zstd) bytes of a logical blob. size is the
	// stored size or -1. A missing blob wraps fault.ErrNotFound.
	OpenBlob(ctx context.Context, d model.Digest) (rc io.ReadCloser, size int64, err error)
}

// BlobStater is an optional Source capability: a cheap presence and size
// check (used by non-deep verify and for size columns).
type BlobStater interface {
	StatBlob(ctx context.Context, d model.Digest) (size int64, err error)
}

// Sink is a place an image is written to. The engine calls HasBlob and
// PutBlob for every blob (concurrently, up to TransferOptions.Concurrency),
// then Commit once all blobs are in place.
type Sink interface {
	Describe() string
	// HasBlob reports whether the destination already holds d, so that it is
	// skipped without being read or compressed.
	HasBlob(ctx context.Context, d model.Digest) (bool, error)
	// PutBlob stores one blob. b.Open yields the stored (zstd) bytes; the
	// stream fails with an error wrapping fault.ErrIntegrity instead of
	// io.EOF when the bytes do not decode to b.Digest, and the sink must then
	// not keep them.
	PutBlob(ctx context.Context, b *Blob) error
	// Commit writes manifest and signature after all blobs, so a reader
	// never sees a manifest whose blobs are missing. sig is nil for sinks
	// that keep no signature (the local store).
	Commit(ctx context.Context, manifest, sig []byte) error
}

// Aborter is an optional Sink capability: told when a transfer fails after
// the sink was opened, so that it removes what it staged. (A sink may not
// give up on its own after a transient failure: the engine may try that
// blob again.)
type Aborter interface {
	Abort(ctx context.Context, err error)
}

// Blob is one blob handed to a Sink.
type Blob struct {
	Digest     model.Digest // logical digest
	Role       string       // walk role, e.g. "world.fs", "fs:src/main.py", "page:0.k"
	StoredSize int64        // stored (compressed) size, -1 when unknown
	// StoredDigest is the sha256 of the stored bytes when the source knows
	// it without reading (OCI layers); empty otherwise.
	StoredDigest model.Digest
	open         func() (io.ReadCloser, error)
	upload       func(n int64)
}

// Open returns a fresh verifying stream of the stored bytes. It may be
// called more than once (a sink that must hash before uploading).
func (b *Blob) Open() (io.ReadCloser, error) { return b.open() }

// OpenToSpool is Open for a sink that reads the whole blob before sending
// it (to learn its stored digest or size first): progress then follows the
// upload, reported through CountUpload or Uploaded, not the local read.
func (b *Blob) OpenToSpool() (io.ReadCloser, error) {
	b.Uploaded(0)
	return b.open()
}

// CountUpload wraps the reader a spooling sink uploads from, reporting the
// bytes sent. Seek (for chunked fallbacks) rewinds the count.
func (b *Blob) CountUpload(r io.ReadSeeker) io.ReadSeeker {
	return &uploadCounter{r: r, report: b.upload}
}

// Uploaded reports the total bytes a sink has sent of this blob so far
// (for uploads split into parallel parts); see CountUpload.
func (b *Blob) Uploaded(total int64) {
	if b.upload != nil {
		b.upload(total)
	}
}

type uploadCounter struct {
	r      io.ReadSeeker
	n      int64
	report func(int64)
}

func (u *uploadCounter) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n += int64(n)
	if u.report != nil {
		u.report(u.n)
	}
	return n, err
}

func (u *uploadCounter) Seek(off int64, whence int) (int64, error) {
	pos, err := u.r.Seek(off, whence)
	if err == nil {
		u.n = pos
	}
	return pos, err
}

// NewBlob builds a Blob around an opener; backends use it in tests and when
// they adapt one sink to another.
func NewBlob(d model.Digest, role string, storedSize int64, open func() (io.ReadCloser, error)) *Blob {
	return &Blob{Digest: d, Role: role, StoredSize: storedSize, open: open}
}

// ListOptions page a listing. Limit 0 means the backend's default page.
type ListOptions struct {
	Limit int
	After string // continue after this name (or backend token)
}

// Listing is one page of repositories under a root.
type Listing struct {
	Root  string      `json:"root"`
	Image bool        `json:"image"` // the root itself is an image
	Repos []RepoEntry `json:"repos"`
	Next  string      `json:"next,omitempty"` // pass as ListOptions.After for the next page
	// Note explains a partial answer, e.g. a registry that refuses _catalog.
	Note string `json:"note,omitempty"`
}

// RepoEntry is one repository.
type RepoEntry struct {
	Name string   `json:"name"`
	Ref  string   `json:"ref"`            // reference to pass to Tags
	Tags []string `json:"tags,omitempty"` // filled when the backend learns them cheaply
}

// TagList is one page of images in a repository.
type TagList struct {
	Repo string     `json:"repo"`
	Tags []TagEntry `json:"tags"`
	Next string     `json:"next,omitempty"`
}

// TagEntry is one image of a repository.
type TagEntry struct {
	Name    string    `json:"name"`
	Ref     string    `json:"ref"` // full image reference
	Updated time.Time `json:"updated,omitzero"`
	// Foreign marks an entry that exists but is not a ProcessFork image
	// (e.g. a container image in the same OCI repository).
	Foreign bool `json:"foreign,omitempty"`
	// Digest is the OCI manifest digest (OCI only).
	Digest string `json:"digest,omitempty"`
	// SignatureTags are the tags that hold this image's signatures (OCI:
	// cosign's sha256-<hex> referrers index and sha256-<hex>.sig), listed
	// here rather than as entries of their own; those of an image not on
	// the same page are left out.
	SignatureTags []string `json:"signature_tags,omitempty"`
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	Deep        bool
	Concurrency int
	Progress    func(Event)
	// MaxBlobSize caps each blob's decompressed size with Deep (0: the
	// registry's Config.MaxBlobSize).
	MaxBlobSize int64
	// Retry bounds retries of passing failures (zero: the registry's
	// Config.Retry, else the defaults).
	Retry RetryPolicy
}

// TransferOptions tune Pull, Push and Copy.
type TransferOptions struct {
	// Concurrency bounds parallel blob transfers (default 4).
	Concurrency int
	// Progress receives events; calls are serialised by the engine.
	Progress func(Event)
	// Require is the weakest signature status a pulled or copied image may
	// have; the engine tightens it with the registry's Config.Policy.
	Require signing.Level
	// SignWith adds a Sigstore signature by each key at the destination
	// (push, copy).
	SignWith []*signing.PrivateKey
	// MaxBlobSize caps each blob's decompressed size (0: the registry's
	// Config.MaxBlobSize; see there).
	MaxBlobSize int64
	// Retry bounds retries of passing failures (zero: the registry's
	// Config.Retry, else the defaults).
	Retry RetryPolicy
}
