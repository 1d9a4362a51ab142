package registry

import (
	"context"
	"time"

	"pf-registry/model"
)

// Registry management: the optional capabilities a backend offers for
// deleting, retagging and sweeping blobs. The engine holds the logic every
// backend shares (the read-only policy, the order of deletions, the
// mark-and-sweep with its grace period, dry runs, progress), so a backend
// only says how to remove one manifest, list and remove its blobs, or copy
// an image to a new name server side.

// Deleter is an optional Backend capability: removing the image at ref.
// DeleteImage removes the manifest first, so that no reader finds the image
// any more even if the process is killed right after, then every signature
// beside it (every manifest.json* file; on OCI the signature tags and
// referrers of the deleted digest). It leaves blobs alone: the engine
// sweeps them. An image that is not there is an error wrapping
// fault.ErrNotFound.
type Deleter interface {
	DeleteImage(ctx context.Context, ref Ref) error
}

// Retagger is an optional Backend capability: making the image at src also
// available at dst, in the same registry, without moving blob bytes
// through this process where the backend can copy server side. blobs are
// the image's walk (spec §5), already checked against its signature.
type Retagger interface {
	RetagImage(ctx context.Context, src, dst Ref, blobs []model.Digest) error
}

// BlobSweeper is an optional Backend capability of backends whose blobs
// live in a store they can list and delete from (file, S3 and HF keep the
// blobs of an image beside its manifest). Backends without it leave blob
// reclamation to the registry itself (OCI garbage collection, IPFS repo gc).
type BlobSweeper interface {
	// BlobStore is the store holding the blobs of the image at ref.
	BlobStore(ctx context.Context, ref Ref) (BlobStore, error)
}

// BlobStore is where the blobs of one or more images live.
type BlobStore interface {
	// Describe names the store for messages and groups deletions: two
	// references whose stores describe the same are swept once.
	Describe() string
	// Images opens every image whose blobs live here, except the ones at
	// the references in skip (a dry run's images to delete).
	Images(ctx context.Context, skip []Ref) ([]Source, error)
	// Blobs lists every blob stored here.
	Blobs(ctx context.Context) ([]StoredBlob, error)
	// RemoveBlobs deletes blobs; one already gone is not an error.
	RemoveBlobs(ctx context.Context, ds []model.Digest) error
}

// StoredBlob is one blob of a BlobStore.
type StoredBlob struct {
	Digest model.Digest `json:"digest"`
	Size   int64        `json:"size"` // stored bytes
	// Modified is when the blob was written; zero when the store cannot
	// tell, and then only a zero grace period lets it go.
	Modified time.Time `json:"modified,omitzero"`
}

// SweepNoter is an optional Backend capability: what happens to the blobs
// of a deleted image on a backend that is not a BlobSweeper.
type SweepNoter interface {
	SweepNote() string
}

// DefaultGrace is how long a blob no image reaches is kept: a push in
// progress elsewhere writes its blobs before its manifest.
const DefaultGrace = time.Hour

// DeleteOptions tune Delete, Prune and the local store's removals.
type DeleteOptions struct {
	// DryRun computes everything and removes nothing.
	DryRun bool
	// Grace keeps unreached blobs younger than this: 0 means DefaultGrace,
	// a negative value keeps none (NoGrace).
	Grace time.Duration
	// MissingOK passes over references where nothing is left (neither an
	// image nor blobs): re-running a finished deletion is then no error.
	MissingOK bool
	// Progress receives one event per removed image and blob.
	Progress func(Event)
	// Now is the clock blob ages are measured against (nil: time.Now).
	Now func() time.Time
}

// NoGrace as DeleteOptions.Grace removes unreached blobs of any age.
const NoGrace time.Duration = -1

func (o DeleteOptions) grace() time.Duration {
	switch {
	case o.Grace == 0:
		return DefaultGrace
	case o.Grace < 0:
		return 0
	}
	return o.Grace
}

func (o DeleteOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// DeleteReport is what a deletion removed or, in a dry run, would remove.
type DeleteReport struct {
	DryRun bool           `json:"dry_run"`
	Images []DeletedImage `json:"images"`
	// Blobs are the blobs removed (or to be removed).
	Blobs []DeletedBlob `json:"blobs"`
	// Kept are blobs no image reaches that the grace period protects.
	Kept []DeletedBlob `json:"kept,omitempty"`
	// Bytes is the stored size of Blobs.
	Bytes int64    `json:"bytes"`
	Notes []string `json:"notes,omitempty"`
}

// DeletedImage is one image of a deletion.
type DeletedImage struct {
	Ref     string       `json:"ref"`
	ImageID model.Digest `json:"image_id,omitempty"`
	// Leftover marks a location whose manifest was already gone (an
	// interrupted deletion): only its blobs are swept.
	Leftover bool `json:"leftover,omitempty"`
}

// DeletedBlob is one blob of a deletion.
type DeletedBlob struct {
	Store    string       `json:"store"`
	Digest   model.Digest `json:"digest"`
	Size     int64        `json:"size"`
	Modified time.Time    `json:"modified,omitzero"`
}

// RetagReport is the outcome of Retag.
type RetagReport struct {
	Source      string       `json:"source"`
	Destination string       `json:"destination"`
	ImageID     model.Digest `json:"image_id"`
	Blobs       int          `json:"blobs"`
}
