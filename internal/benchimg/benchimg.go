// Package benchimg generates benchmark images of a chosen size and shape,
// deterministic from a seed: half-precision KV pages shaped like real
// attention keys and values (per-channel log-normal scales, rotary phases,
// slow drift and noise, so zstd gains only a few percent as on real
// activations), a LoRA model diff and an fs tree of many small text files.
// Pages are generated on every core and streamed into the local store, so a
// 10 GiB image needs no more memory than a 1 MiB one.
package benchimg

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"time"

	"pf-registry/model"
	"pf-registry/store"
)

// Spec is the shape of one benchmark image.
type Spec struct {
	// Bytes is the approximate logical size of the whole image.
	Bytes int64
	Seed  uint64
	// Files is the number of files in the fs tree (default 200), each of
	// FileMin..FileMax bytes (default 1–20 KiB) of code, JSON or logs.
	Files            int
	FileMin, FileMax int
	// DiffBytes is the size of the model diff (default Bytes/16, at most
	// 64 MiB); negative means none beyond the empty envelope.
	DiffBytes int64
	// Created is the manifest's timestamp (default a fixed date).
	Created time.Time
}

// Page geometry: 4 layers × 256 tokens × 16 heads × 128 dims of f16, 4 MiB
// per K or V blob (the size ProcessFork writes for a 7B-class model).
const (
	Layers   = 4
	Tokens   = 256
	Heads    = 16
	HeadDim  = 128
	PageSize = Layers * Tokens * Heads * HeadDim * 2
)

func (s *Spec) defaults() {
	if s.Files == 0 {
		s.Files = 200
	}
	if s.FileMin <= 0 {
		s.FileMin = 1 << 10
	}
	if s.FileMax < s.FileMin {
		s.FileMax = max(s.FileMin, 20<<10)
	}
	if s.DiffBytes == 0 {
		s.DiffBytes = min(s.Bytes/16, 64<<20)
	}
	if s.Created.IsZero() {
		s.Created = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	}
}

// Pages is the number of K/V page pairs the spec holds: what is left of
// Bytes after the files and the diff, at least one.
func (s Spec) Pages() int {
	s.defaults()
	rest := s.Bytes - max(s.DiffBytes, 0) - int64(s.Files)*int64(s.FileMin+s.FileMax)/2
	return max(1, int(rest/(2*PageSize)))
}

// Stats describes a built image.
type Stats struct {
	ID      model.Digest
	Blobs   int
	Logical int64
}

// Build writes the image's blobs and marker into st.
func Build(st *store.Store, spec Spec) (Stats, error) {
	spec.defaults()
	b := &builder{st: st, spec: spec}
	m := &model.Manifest{
		SchemaVersion: model.SchemaVersion,
		MediaType:     model.ManifestMediaType,
		Agent:         model.Agent{Kind: "bench-agent", Version: "1.0.0", Fingerprint: fmt.Sprintf("seed-%d", spec.Seed)},
		CreatedAt:     spec.Created.UTC(),
		Parents:       []model.Digest{},
	}
	m.Model.Base = b.put([]byte("base:bench-7b-f16"))
	m.Model.Diff = b.put(loraDiff(spec.Seed, spec.DiffBytes))
	m.World.FS = b.put(b.fsTree())
	m.World.Env = b.put([]byte(`{"cwd":"/workspace","kind":"env.v1","vars":{"HOME":"/home/agent","LANG":"C.UTF-8"}}`))
	m.World.Procs = b.put([]byte(`{"kind":"procs.unsupported.v1"}`))
	m.Effects.Ledger = b.put([]byte(`{"entries":0,"kind":"effects.ledger.v1"}` + "\n"))
	m.Trace.Messages = b.put(trace(spec.Seed))
	m.Cache.Layout = model.CacheLayoutV1
	m.Cache.Manifest = b.put(b.pages())
	if b.err != nil {
		return Stats{}, b.err
	}
	id, err := st.PutImage(m.Encode())
	return Stats{ID: id, Blobs: b.blobs, Logical: b.logical}, err
}

// builder keeps the first error, so Build reads as the manifest it makes.
type builder struct {
	st      *store.Store
	spec    Spec
	mu      sync.Mutex
	err     error
	blobs   int
	logical int64
}

func (b *builder) put(data []byte) model.Digest {
	d, err := b.st.PutBytes(data)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil && b.err == nil {
		b.err = err
	}
	b.blobs++
	b.logical += int64(len(data))
	return d
}

func (b *builder) fsTree() []byte {
	tree := &model.FsTree{Kind: model.FsTreeKind}
	files := genFiles(b.spec)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := parentDir(f.path); d != "" && !dirs[d]; d = parentDir(d) {
			dirs[d] = true
			tree.Entries = append(tree.Entries, model.FsEntry{Path: d, Mode: "0755", Kind: "dir"})
		}
	}
	// Blobs are stored on every core: small-file images are bounded by
	// zstd and the renames, not by the generator.
	digests := make([]model.Digest, len(files))
	parallel(len(files), func(i int) { digests[i] = b.put(files[i].data) })
	for i, f := range files {
		tree.Entries = append(tree.Entries, model.FsEntry{Path: f.path, Mode: "0644", Size: uint64(len(f.data)), Kind: "file", Blob: string(digests[i])})
	}
	sortEntries(tree.Entries)
	return tree.Encode()
}

// pages stores every K and V page and returns the page manifest.
func (b *builder) pages() []byte {
	n := b.spec.Pages()
	pm := &model.PageManifest{
		Layout: model.CacheLayoutV1, PageSizeTokens: Tokens, NLayers: Layers,
		NHeads: Heads, HeadDim: HeadDim, Dtype: "f16",
		Pages: make([]model.Page, n),
	}
	bufs := sync.Pool{New: func() any { return new([PageSize]byte) }}
	parallel(2*n, func(i int) {
		buf := bufs.Get().(*[PageSize]byte)
		defer bufs.Put(buf)
		kvPage(buf[:], b.spec.Seed, i/2, i%2 == 1)
		d := b.put(buf[:])
		if i%2 == 0 {
			pm.Pages[i/2].K = string(d)
		} else {
			pm.Pages[i/2].V = string(d)
		}
	})
	seq := model.LogicalSeq{ID: "seq-0", FillInLastPage: Tokens / 2}
	for ix := range pm.Pages {
		pm.Pages[ix].Ix = uint32(ix)
		seq.PageIxs = append(seq.PageIxs, uint32(ix))
	}
	pm.LogicalSeqs = []model.LogicalSeq{seq}
	return pm.Encode()
}

// parallel runs fn(0..n-1) on one worker per core.
func parallel(n int, fn func(int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func parentDir(p string) string {
	i := bytes.LastIndexByte([]byte(p), '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}
