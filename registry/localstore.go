package registry

import (
	"context"
	"fmt"
	"sort"
	"time"

	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/store"
)

// Local manages the local store: removing images, collecting the blobs no
// image marker reaches, and telling what each image occupies. It obeys the
// same read-only policy and runs the same mark-and-sweep as registry
// deletions; the mark also keeps the ledgers a merged effects document
// points at, which `pf` reads though the walk does not.
type Local struct {
	st  *store.Store
	cfg Config
}

// NewLocal manages st under cfg's policy.
func NewLocal(st *store.Store, cfg Config) *Local { return &Local{st: st, cfg: cfg} }

// Remove deletes image markers, then sweeps the blobs no remaining image
// reaches (older than the grace period).
func (l *Local) Remove(ctx context.Context, ids []model.Digest, opt DeleteOptions) (*DeleteReport, error) {
	if err := l.checkWrite(opt); err != nil {
		return nil, err
	}
	s := newSweeper(opt)
	s.merged = true
	for _, id := range ids {
		if !l.st.HasImage(id) {
			return s.rep, fault.WithHint(fault.NotFoundf("image %s is not in the local store %s", id.Short(), l.st.Root()),
				"list local images with `pf-registry images`")
		}
	}
	skip := map[model.Digest]bool{}
	s.em.send(Event{Kind: KindRun, Phase: PhaseQueued, Images: len(ids), Total: -1})
	for _, id := range ids {
		if skip[id] {
			continue
		}
		skip[id] = true
		if !opt.DryRun {
			if err := l.st.RemoveImage(id); err != nil {
				return s.rep, err
			}
		}
		s.rep.Images = append(s.rep.Images, DeletedImage{Ref: id.String(), ImageID: id})
		s.em.send(Event{Kind: KindImage, Ref: id.String(), Digest: id, Phase: PhaseDone, Total: -1})
	}
	if !opt.DryRun {
		skip = nil
	}
	err := s.sweep(ctx, &localBlobs{st: l.st, skip: skip}, nil)
	s.done(len(s.rep.Images))
	return s.rep, err
}

// GC removes the blobs no image marker reaches (older than the grace
// period). The store stays what `pf` expects: only blob files go.
func (l *Local) GC(ctx context.Context, opt DeleteOptions) (*DeleteReport, error) {
	if err := l.checkWrite(opt); err != nil {
		return nil, err
	}
	s := newSweeper(opt)
	s.merged = true
	err := s.sweep(ctx, &localBlobs{st: l.st}, nil)
	s.done(0)
	return s.rep, err
}

func (l *Local) checkWrite(opt DeleteOptions) error {
	if opt.DryRun {
		return nil
	}
	return l.cfg.CheckWrite("the local store " + l.st.Root())
}

// localBlobs is the local store as a BlobStore; skip are the images a dry
// run would remove.
type localBlobs struct {
	st   *store.Store
	skip map[model.Digest]bool
}

func (b *localBlobs) Describe() string { return "local store " + b.st.Root() }

func (b *localBlobs) Images(context.Context, []Ref) ([]Source, error) {
	imgs, err := b.st.Images()
	if err != nil {
		return nil, err
	}
	var out []Source
	for _, im := range imgs {
		if !b.skip[im.ID] {
			out = append(out, &storeSource{st: b.st, id: im.ID})
		}
	}
	return out, nil
}

func (b *localBlobs) Blobs(context.Context) ([]StoredBlob, error) {
	infos, err := b.st.Blobs()
	if err != nil {
		return nil, err
	}
	out := make([]StoredBlob, len(infos))
	for i, in := range infos {
		out[i] = StoredBlob{Digest: in.Digest, Size: in.Size, Modified: in.Modified}
	}
	return out, nil
}

func (b *localBlobs) RemoveBlobs(ctx context.Context, ds []model.Digest) error {
	for _, d := range ds {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.st.RemoveBlob(d); err != nil {
			return err
		}
	}
	return nil
}

// Usage is what the images of the local store occupy.
type Usage struct {
	Store  string       `json:"store"`
	Images []ImageUsage `json:"images"`
	Blobs  int          `json:"blobs"`
	Total  int64        `json:"total"` // stored bytes of every blob
	// Reclaimable is what a gc would free, grace period aside: blobs no
	// image reaches.
	Reclaimable      int64  `json:"reclaimable"`
	ReclaimableBlobs int    `json:"reclaimable_blobs"`
	Note             string `json:"note,omitempty"`
}

// ImageUsage is one image's share of the store. Unique bytes are freed by
// removing the image; shared bytes are also reached by another image.
type ImageUsage struct {
	ImageID model.Digest `json:"image_id"`
	Created time.Time    `json:"created_at,omitzero"`
	Blobs   int          `json:"blobs"`
	Unique  int64        `json:"unique"`
	Shared  int64        `json:"shared"`
	Missing int          `json:"missing,omitempty"` // reached but not stored
	Error   string       `json:"error,omitempty"`
}

// Usage walks every image of the store and splits the stored bytes.
func (l *Local) Usage(ctx context.Context) (*Usage, error) {
	infos, err := l.st.Blobs()
	if err != nil {
		return nil, err
	}
	imgs, err := l.st.Images()
	if err != nil {
		return nil, err
	}
	size := map[model.Digest]int64{}
	u := &Usage{Store: l.st.Root(), Images: []ImageUsage{}, Blobs: len(infos)}
	for _, in := range infos {
		size[in.Digest] = in.Size
		u.Total += in.Size
	}
	sets := make([]map[model.Digest]bool, len(imgs))
	walked := make([]map[model.Digest]bool, len(imgs)) // what a pull carries
	users := map[model.Digest]int{}
	bad := 0
	for i, im := range imgs {
		walk, more, err := reachedBlobs(ctx, &storeSource{st: l.st, id: im.ID}, true)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			bad++
			u.Images = append(u.Images, ImageUsage{ImageID: im.ID, Error: err.Error()})
			continue
		}
		sets[i], walked[i] = map[model.Digest]bool{}, map[model.Digest]bool{}
		for _, d := range walk {
			walked[i][d] = true
		}
		for _, d := range append(walk, more...) {
			if !sets[i][d] {
				sets[i][d] = true
				users[d]++
			}
		}
	}
	for i, im := range imgs {
		if sets[i] == nil {
			continue
		}
		iu := ImageUsage{ImageID: im.ID}
		if im.Manifest != nil {
			iu.Created = im.Manifest.CreatedAt
		}
		for d := range sets[i] {
			n, ok := size[d]
			switch {
			case !ok && walked[i][d]:
				iu.Missing++
			case !ok:
				// A parent's ledger a merged ledger names: kept by gc
				// when present, never pulled with the image.
			case users[d] > 1:
				iu.Shared += n
			default:
				iu.Unique += n
			}
			if ok {
				iu.Blobs++
			}
		}
		u.Images = append(u.Images, iu)
	}
	for d, n := range size {
		if users[d] == 0 {
			u.Reclaimable += n
			u.ReclaimableBlobs++
		}
	}
	sort.SliceStable(u.Images, func(i, j int) bool { return u.Images[i].Created.After(u.Images[j].Created) })
	if bad > 0 {
		u.Note = fmt.Sprintf("%d image(s) could not be read: reclaimable bytes are an upper bound, and gc refuses to run until they are removed", bad)
	}
	return u, nil
}
