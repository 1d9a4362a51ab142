package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/signing"
	"pf-registry/store"
)

// DefaultConcurrency bounds parallel blob transfers.
const DefaultConcurrency = 4

// engine is what New wraps around a Backend: the operations every registry
// shares (inspect, verify, pull, push) and the policy they obey.
type engine struct {
	Backend
	cfg Config
}

// New wraps a backend into a full Registry that applies cfg's policy.
func New(b Backend, cfg Config) Registry {
	if e, ok := b.(*engine); ok {
		b = e.Backend // re-wrapped under the new configuration
	}
	return &engine{Backend: b, cfg: cfg}
}

// ResultReffer is an optional Sink capability: a sink whose final address is
// only known after Commit (IPFS: the directory CID) reports it here.
type ResultReffer interface {
	ResultRef() string
}

func (e *engine) Inspect(ctx context.Context, ref Ref) (*Inspection, error) {
	src, err := e.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	return InspectSource(ctx, src, e.SignKey())
}

func (e *engine) Verify(ctx context.Context, ref Ref, opt VerifyOptions) (*Report, error) {
	src, err := e.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	if opt.MaxBlobSize <= 0 {
		opt.MaxBlobSize = e.cfg.MaxBlobSize
	}
	return VerifySource(ctx, src, e.SignKey(), opt)
}

// Pull is a write (into the store): refused in read-only mode.
func (e *engine) Pull(ctx context.Context, ref Ref, st *store.Store, opt TransferOptions) (*Report, error) {
	if err := e.cfg.CheckWrite("the local store"); err != nil {
		return nil, err
	}
	src, err := e.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	key := e.SignKey()
	return Transfer(ctx, OpPull, src, &key, StoreSink(st), nil, e.cfg.withLimits(opt))
}

func (e *engine) Push(ctx context.Context, st *store.Store, id model.Digest, ref Ref, opt TransferOptions) (*Report, error) {
	src, err := StoreSource(st, id)
	if err != nil {
		return nil, err
	}
	dst, err := e.Sink(ctx, ref)
	if err != nil {
		return nil, err
	}
	key := e.SignKey()
	return Transfer(ctx, OpPush, src, nil, dst, &key, e.cfg.withLimits(opt))
}

// Sink is where every write to a backend starts (push, copy): refused in
// read-only mode before the backend is asked.
func (e *engine) Sink(ctx context.Context, ref Ref) (Sink, error) {
	if err := e.cfg.CheckWrite(ref.Raw); err != nil {
		return nil, err
	}
	return e.Backend.Sink(ctx, ref)
}

// Copy moves an image between two registries without going through the
// local store: the source signature is verified with the source's key and
// the destination gets a fresh signature under its own key.
func Copy(ctx context.Context, srcReg Registry, srcRef Ref, dstReg Registry, dstRef Ref, opt TransferOptions) (*Report, error) {
	// Refuse a read-only copy before reading anything; dstReg.Sink would.
	if err := configOf(dstReg).CheckWrite(dstRef.Raw); err != nil {
		return nil, err
	}
	src, err := srcReg.Source(ctx, srcRef)
	if err != nil {
		return nil, err
	}
	dst, err := dstReg.Sink(ctx, dstRef)
	if err != nil {
		return nil, err
	}
	sk, dk := srcReg.SignKey(), dstReg.SignKey()
	return Transfer(ctx, OpCopy, src, &sk, dst, &dk, configOf(srcReg).withLimits(opt))
}

// InspectSource reads manifest and signature and judges them.
func InspectSource(ctx context.Context, src Source, key signing.Key) (*Inspection, error) {
	raw, sig, err := src.FetchManifest(ctx)
	if err != nil {
		return nil, err
	}
	in := inspectBytes(src.Describe(), raw)
	in.Signature = signing.Verify(raw, sig, key)
	return in, nil
}

func inspectBytes(where string, raw []byte) *Inspection {
	in := &Inspection{Ref: where, ImageID: model.FromBytes(raw), Raw: raw}
	m, err := model.ParseManifest(raw)
	if err != nil {
		in.ManifestError = err.Error()
		return in
	}
	in.Manifest = m
	in.Canonical = model.IsCanonical(raw)
	in.Warnings = m.Warnings()
	if !in.Canonical {
		in.Warnings = append(in.Warnings, "manifest bytes are not canonical: the Rust CLI will record a different image ID after pulling")
	}
	if err := m.Validate(); err != nil {
		in.ManifestError = err.Error()
	}
	for _, r := range m.TopLevel() {
		in.Blobs = append(in.Blobs, BlobStatus{Digest: r.Digest, Role: r.Role, Status: BlobUnchecked})
	}
	return in
}

// metaBlob is a small blob (fs tree, page manifest) held for the walk.
type metaBlob struct {
	stored  []byte
	logical []byte
}

// loadMetadata fetches and verifies the fs tree and the page manifest, the
// only blobs the walk reads.
func loadMetadata(ctx context.Context, src Source, m *model.Manifest) (map[model.Digest]metaBlob, error) {
	out := map[model.Digest]metaBlob{}
	for _, d := range m.MetadataBlobs() {
		if _, ok := out[d]; ok {
			continue
		}
		rc, _, err := src.OpenBlob(ctx, d)
		if err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				continue // reported as missing by the completeness check
			}
			return nil, err
		}
		stored, err := io.ReadAll(io.LimitReader(rc, model.MaxMetadataSize+1))
		rc.Close()
		if err != nil {
			return nil, err
		}
		logical, err := blob.DecodeVerified(stored, d, model.MaxMetadataSize)
		if err != nil {
			return nil, err
		}
		out[d] = metaBlob{stored: stored, logical: logical}
	}
	return out, nil
}

func walk(m *model.Manifest, meta map[model.Digest]metaBlob) []model.BlobRef {
	return model.Walk(m, func(d model.Digest) ([]byte, error) {
		if b, ok := meta[d]; ok {
			return b.logical, nil
		}
		return nil, fault.ErrNotFound
	})
}

// VerifySource checks signature and manifest, then the presence (or, with
// Deep, the content) of every reachable blob.
func VerifySource(ctx context.Context, src Source, key signing.Key, opt VerifyOptions) (*Report, error) {
	if opt.Deep {
		return Transfer(ctx, OpVerify, src, &key, discardSink{}, nil,
			TransferOptions{Concurrency: opt.Concurrency, Progress: opt.Progress, MaxBlobSize: opt.MaxBlobSize})
	}
	start := time.Now()
	in, err := InspectSource(ctx, src, key)
	if err != nil {
		return nil, err
	}
	rep := &Report{Op: OpVerify, Source: src.Describe(), Inspection: in}
	if err := in.Problem(false); err != nil {
		return rep, err
	}
	meta, err := loadMetadata(ctx, src, in.Manifest)
	if err != nil {
		return rep, err
	}
	var missing []string
	for _, r := range walk(in.Manifest, meta) {
		bs := BlobStatus{Digest: r.Digest, Role: r.Role, Status: BlobPresent}
		size, err := statBlob(ctx, src, r.Digest)
		switch {
		case errors.Is(err, fault.ErrNotFound):
			bs.Status = BlobMissing
			missing = append(missing, r.Role)
		case err != nil:
			return rep, err
		default:
			bs.StoredSize = size
		}
		rep.Blobs = append(rep.Blobs, bs)
	}
	rep.Elapsed = time.Since(start)
	if len(missing) > 0 {
		return rep, incompleteErr(src.Describe(), missing)
	}
	rep.Complete = true
	return rep, nil
}

func statBlob(ctx context.Context, src Source, d model.Digest) (int64, error) {
	if s, ok := src.(BlobStater); ok {
		return s.StatBlob(ctx, d)
	}
	rc, size, err := src.OpenBlob(ctx, d)
	if err != nil {
		return 0, err
	}
	rc.Close()
	return size, nil
}

func incompleteErr(where string, roles []string) error {
	list := roles
	if len(list) > 3 {
		list = append(append([]string{}, list[:3]...), fmt.Sprintf("and %d more", len(roles)-3))
	}
	return fault.WithHint(fault.Integrityf("image at %s is incomplete: %d blob(s) missing (%v)", where, len(roles), list),
		"push the image again from a complete copy")
}

// Transfer moves one image from src to dst. srcKey nil skips signature
// verification (the source is the local store, which keeps none); signKey
// nil writes no signature (the sink is the local store).
func Transfer(ctx context.Context, op Op, src Source, srcKey *signing.Key, dst Sink, signKey *signing.Key, opt TransferOptions) (rep *Report, err error) {
	start := time.Now()
	em := newEmitter(op, opt.Progress)
	rep = &Report{Op: op, Source: src.Describe(), Destination: dst.Describe()}
	em.image(PhaseQueued, Event{Message: "fetching manifest"})
	defer func() {
		rep.Elapsed = time.Since(start)
		if err != nil {
			em.image(PhaseFailed, Event{Error: err.Error()})
		} else {
			em.image(PhaseDone, Event{Done: rep.Bytes, Message: fmt.Sprintf("%d transferred, %d skipped", rep.Transferred, rep.Skipped)})
		}
	}()

	raw, sig, err := src.FetchManifest(ctx)
	if err != nil {
		return rep, err
	}
	in := inspectBytes(src.Describe(), raw)
	rep.Inspection = in
	if srcKey != nil {
		in.Signature = signing.Verify(raw, sig, *srcKey)
		em.image(PhaseVerifying, Event{Signature: string(in.Signature.Status), Message: "signature " + string(in.Signature.Status)})
		if err := in.Problem(opt.Strict); err != nil {
			return rep, err
		}
	} else if in.ManifestError != "" {
		return rep, in.Problem(false)
	}
	var sigOut []byte
	if signKey != nil {
		sigOut = signing.SignBytes(raw, *signKey)
		if srcKey == nil {
			in.Signature = signing.Verify(raw, sigOut, *signKey)
		}
	}

	meta, err := loadMetadata(ctx, src, in.Manifest)
	if err != nil {
		return rep, err
	}
	refs := walk(in.Manifest, meta)
	n := opt.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	// Completeness first, when the source can tell cheaply: an incomplete
	// image then writes nothing at all, and the totals are known up front.
	sizes, err := statAll(ctx, src, refs, meta, n)
	if err != nil {
		return rep, err
	}
	rep.Blobs = make([]BlobStatus, len(refs))
	var total int64
	for i, r := range refs {
		rep.Blobs[i] = BlobStatus{Digest: r.Digest, Role: r.Role, Status: BlobQueued, StoredSize: sizes[i]}
		em.blob(r, PhaseQueued, 0, sizes[i], nil)
		if sizes[i] > 0 && total >= 0 {
			total += sizes[i]
		} else {
			total = -1
		}
	}
	em.image(PhaseTransferring, Event{Blobs: len(refs), Total: total})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		missing  []string
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	fail := func(i int, e error) {
		mu.Lock()
		defer mu.Unlock()
		rep.Blobs[i].Error = e.Error()
		if errors.Is(e, fault.ErrNotFound) {
			rep.Blobs[i].Status = BlobMissing
			missing = append(missing, refs[i].Role)
			return // keep going: report every missing blob at once
		}
		rep.Blobs[i].Status = BlobFailed
		if errors.Is(e, fault.ErrIntegrity) {
			rep.Blobs[i].Status = BlobCorrupt
		}
		if firstErr == nil {
			firstErr = e
			cancel()
		}
	}
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := refs[i]
				skipped, moved, size, err := moveBlob(ctx, src, dst, r, sizes[i], meta, em, opt.MaxBlobSize)
				if err != nil {
					em.blob(r, PhaseFailed, moved, size, err)
					fail(i, err)
					continue
				}
				mu.Lock()
				rep.Blobs[i].StoredSize = size
				if skipped {
					rep.Blobs[i].Status = BlobSkipped
					rep.Skipped++
				} else {
					rep.Blobs[i].Status = BlobOK
					rep.Transferred++
					rep.Bytes += moved
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range refs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return rep, firstErr
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if len(missing) > 0 {
		return rep, incompleteErr(src.Describe(), missing)
	}
	if err := dst.Commit(ctx, raw, sigOut); err != nil {
		return rep, err
	}
	if rr, ok := dst.(ResultReffer); ok {
		rep.Destination = rr.ResultRef()
	}
	rep.Complete = true
	return rep, nil
}

// statAll returns the stored size of every blob (-1 when the source cannot
// tell cheaply) and fails with an incomplete-image error listing every
// missing blob.
func statAll(ctx context.Context, src Source, refs []model.BlobRef, meta map[model.Digest]metaBlob, n int) ([]int64, error) {
	sizes := make([]int64, len(refs))
	st, ok := src.(BlobStater)
	if !ok {
		for i := range sizes {
			sizes[i] = -1
		}
		return sizes, nil
	}
	errs := make([]error, len(refs))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, r := range refs {
		if mb, ok := meta[r.Digest]; ok {
			sizes[i] = int64(len(mb.stored))
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			sizes[i], errs[i] = st.StatBlob(ctx, r.Digest)
		}()
	}
	wg.Wait()
	var missing []string
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, fault.ErrNotFound):
			missing = append(missing, refs[i].Role)
		default:
			return nil, err
		}
	}
	if len(missing) > 0 {
		return nil, incompleteErr(src.Describe(), missing)
	}
	return sizes, nil
}

// moveBlob transfers one blob unless the sink has it.
func moveBlob(ctx context.Context, src Source, dst Sink, r model.BlobRef, knownSize int64, meta map[model.Digest]metaBlob, em *emitter, maxBlob int64) (skipped bool, moved, size int64, err error) {
	has, err := dst.HasBlob(ctx, r.Digest)
	if err != nil {
		return false, 0, -1, err
	}
	if has {
		em.blob(r, PhaseSkipped, 0, knownSize, nil)
		return true, 0, knownSize, nil
	}
	size = knownSize
	var counted *countingReader
	var uploading atomic.Bool
	open := func() (io.ReadCloser, error) {
		var rc io.ReadCloser
		if mb, ok := meta[r.Digest]; ok {
			rc, size = io.NopCloser(bytes.NewReader(mb.stored)), int64(len(mb.stored))
		} else {
			var err error
			rc, size, err = src.OpenBlob(ctx, r.Digest)
			if err != nil {
				return nil, err
			}
		}
		counted = &countingReader{ctx: ctx, rc: rc, report: func(n int64, eof bool) {
			if uploading.Load() {
				return // the sink reports its upload instead
			}
			ph := PhaseTransferring
			if eof {
				ph = PhaseVerifying
			}
			em.blobThrottled(r, ph, n, size, eof)
		}}
		return verifyingCloser{blob.NewVerifier(counted, r.Digest, maxBlob)}, nil
	}
	b := &Blob{Digest: r.Digest, Role: r.Role, StoredSize: knownSize, open: open,
		upload: func(n int64) {
			uploading.Store(true)
			em.blobThrottled(r, PhaseTransferring, n, size, n == 0)
		}}
	if sd, ok := src.(storedDigester); ok {
		b.StoredDigest = sd.StoredDigest(r.Digest)
	}
	em.blob(r, PhaseTransferring, 0, b.StoredSize, nil)
	if err := dst.PutBlob(ctx, b); err != nil {
		if counted != nil {
			moved = counted.n
		}
		return false, moved, size, err
	}
	if counted != nil {
		moved = counted.n
	}
	em.blob(r, PhaseDone, moved, size, nil)
	return false, moved, size, nil
}

// storedDigester is an optional Source capability: the digest of a blob's
// stored bytes when known without reading them (OCI layer digests).
type storedDigester interface {
	StoredDigest(d model.Digest) model.Digest
}

type verifyingCloser struct{ *blob.Verifier }

// countingReader reports stored bytes as they are read and stops a
// transfer promptly when its context is cancelled.
type countingReader struct {
	ctx    context.Context
	rc     io.ReadCloser
	n      int64
	report func(n int64, eof bool)
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.rc.Read(p)
	c.n += int64(n)
	c.report(c.n, err == io.EOF)
	return n, err
}

func (c *countingReader) Close() error { return c.rc.Close() }

// emitter serialises progress callbacks and throttles byte updates.
type emitter struct {
	op   Op
	fn   func(Event)
	mu   sync.Mutex
	last map[model.Digest]time.Time
}

func newEmitter(op Op, fn func(Event)) *emitter {
	return &emitter{op: op, fn: fn, last: map[model.Digest]time.Time{}}
}

const progressInterval = 100 * time.Millisecond

func (e *emitter) send(ev Event) {
	if e.fn == nil {
		return
	}
	ev.Op, ev.Time = e.op, time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fn(ev)
}

func (e *emitter) image(ph Phase, ev Event) {
	ev.Kind, ev.Phase = KindImage, ph
	if ev.Total == 0 {
		ev.Total = -1
	}
	e.send(ev)
}

func (e *emitter) blob(r model.BlobRef, ph Phase, done, total int64, err error) {
	ev := Event{Kind: KindBlob, Digest: r.Digest, Role: r.Role, Phase: ph, Done: done, Total: total}
	if err != nil {
		ev.Error = err.Error()
	}
	e.send(ev)
}

func (e *emitter) blobThrottled(r model.BlobRef, ph Phase, done, total int64, force bool) {
	if e.fn == nil {
		return
	}
	now := time.Now()
	e.mu.Lock()
	last := e.last[r.Digest]
	if !force && now.Sub(last) < progressInterval {
		e.mu.Unlock()
		return
	}
	e.last[r.Digest] = now
	e.mu.Unlock()
	e.blob(r, ph, done, total, nil)
}
