package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/signing"
)

// Transfer moves one image from src to dst. verify nil skips signature
// verification (the source is the local store, which keeps none); sign nil
// writes no signature (the sink is the local store).
//
// It runs in three steps: plan (manifest, signatures and the requirement
// opt.Require, walk, sizes; nothing is written), workers (every blob, at
// most opt.Concurrency at once) and commit (manifest and signatures, only
// once every blob is in place). A destination that already holds the
// image (Holder) ends it after the plan.
func Transfer(ctx context.Context, op Op, src Source, verify *Verifier, dst Sink, sign *Signer, opt TransferOptions) (rep *Report, err error) {
	t := &transfer{src: src, dst: dst, opt: opt, em: newEmitter(op, opt.Progress),
		rep: &Report{Op: op, Source: src.Describe(), Destination: dst.Describe()}}
	if t.opt.Concurrency <= 0 {
		t.opt.Concurrency = DefaultConcurrency
	}
	start := time.Now()
	t.em.image(PhaseQueued, Event{Message: "fetching manifest"})
	defer func() {
		t.rep.Elapsed = time.Since(start)
		if err != nil {
			if a, ok := dst.(Aborter); ok {
				a.Abort(context.WithoutCancel(ctx), err)
			}
			t.em.image(PhaseFailed, Event{Error: err.Error()})
		} else {
			t.em.image(PhaseDone, Event{Done: t.rep.Bytes, Message: fmt.Sprintf("%d transferred, %d skipped", t.rep.Transferred, t.rep.Skipped)})
		}
	}()
	p, err := t.plan(ctx, verify, sign)
	if err != nil {
		return t.rep, err
	}
	if t.unchanged(ctx, p) {
		return t.rep, nil
	}
	if err := t.moveAll(ctx, p); err != nil {
		return t.rep, err
	}
	return t.rep, t.commit(ctx, p)
}

// transfer is one run of Transfer.
type transfer struct {
	src Source
	dst Sink
	opt TransferOptions
	em  *emitter

	mu      sync.Mutex // guards rep and missing while workers run
	rep     *Report
	missing []string // roles of blobs the source lacks
}

// plan is what a transfer learned before moving any blob.
type plan struct {
	raw, sig []byte // manifest bytes and the HMAC signature to write (nil: none)
	bundles  Bundles
	meta     map[model.Digest]metaBlob
	refs     []model.BlobRef
	sizes    []int64                // stored sizes, -1 when unknown
	declared map[model.Digest]int64 // logical sizes the image declares
}

// plan fetches and judges the manifest and its signatures against the
// requirement, signs it for the destination, walks the image and learns
// every blob's size. An image that fails any check, or is incomplete when
// the source can tell cheaply, ends here with nothing written.
func (t *transfer) plan(ctx context.Context, verify *Verifier, sign *Signer) (*plan, error) {
	raw, sig, err := fetchManifest(ctx, t.src, t.opt.Retry)
	if err != nil {
		return nil, err
	}
	in := inspectBytes(t.src.Describe(), raw)
	t.rep.Inspection = in
	p := &plan{raw: raw}
	if verify != nil {
		if in.Signature, p.bundles.Carried, err = verify.judge(ctx, t.src, raw, sig); err != nil {
			return nil, err
		}
		p.bundles.Ring = verify.Keys
		status := string(in.Signature.Status())
		t.em.image(PhaseVerifying, Event{Signature: status, Message: "signature " + status})
		if err := in.Problem(t.opt.Require); err != nil {
			return nil, err
		}
	} else if in.ManifestError != "" {
		return nil, in.Problem(signing.RequireAny)
	}
	if sign != nil {
		p.sig = signing.SignBytes(raw, sign.Key)
		p.bundles.Keys = sign.With
		if verify == nil {
			in.Signature = signing.Result{Checks: []signing.Check{signing.HMACCheck(signing.Verify(raw, p.sig, sign.Key))}}
		}
		if _, ok := t.dst.(SignedSink); !ok && len(sign.With) > 0 {
			return nil, errNoSignatures(t.dst)
		}
	}
	if p.meta, p.refs, err = reach(ctx, t.src, in.Manifest, t.opt); err != nil {
		return nil, err
	}
	p.declared = model.DeclaredSizes(in.Manifest, func(d model.Digest) ([]byte, error) {
		if b, ok := p.meta[d]; ok {
			return b.logical, nil
		}
		return nil, fault.ErrNotFound
	})
	if p.sizes, err = statAll(ctx, t.src, p.refs, p.meta, t.opt.Concurrency, t.opt.Retry); err != nil {
		return nil, err
	}
	t.rep.Blobs = make([]BlobStatus, len(p.refs))
	var total int64
	for i, r := range p.refs {
		t.rep.Blobs[i] = BlobStatus{Digest: r.Digest, Role: r.Role, Status: BlobQueued, StoredSize: p.sizes[i]}
		t.em.blob(r, PhaseQueued, 0, p.sizes[i], nil)
		if p.sizes[i] > 0 && total >= 0 {
			total += p.sizes[i]
		} else {
			total = -1
		}
	}
	t.em.image(PhaseTransferring, Event{Blobs: len(p.refs), Total: total})
	return p, nil
}

// moveAll runs the workers: every blob the sink lacks is moved, at most
// opt.Concurrency at once. A missing blob does not stop the others, so the
// error lists every one; any other failure cancels the rest.
func (t *transfer) moveAll(ctx context.Context, p *plan) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.opt.Concurrency)
	for i := range p.refs {
		if gctx.Err() != nil {
			break // blobs not started stay queued
		}
		g.Go(func() error { return t.moveOne(gctx, p, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(t.missing) > 0 {
		return incompleteErr(t.src.Describe(), t.missing)
	}
	return nil
}

// moveOne is one worker's job: blob i, recorded in the report.
func (t *transfer) moveOne(ctx context.Context, p *plan, i int) error {
	if ctx.Err() != nil {
		return nil // cancelled before it started: the blob stays queued
	}
	r := p.refs[i]
	var skipped bool
	var moved, size int64
	err := t.opt.Retry.do(ctx, func(ctx context.Context) (err error) {
		skipped, moved, size, err = t.moveBlob(ctx, p, i)
		return err
	}, func(try int, wait time.Duration, err error) {
		t.em.retry(r, size, try, wait, err)
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	b := &t.rep.Blobs[i]
	switch {
	case err != nil:
		t.em.blob(r, PhaseFailed, moved, size, err)
		b.Error = err.Error()
		if errors.Is(err, fault.ErrNotFound) {
			b.Status = BlobMissing
			t.missing = append(t.missing, r.Role)
			return nil // keep going: report every missing blob at once
		}
		b.Status = BlobFailed
		if errors.Is(err, fault.ErrIntegrity) {
			b.Status = BlobCorrupt
		}
		return err
	case skipped:
		b.StoredSize, b.Status = size, BlobSkipped
		t.rep.Skipped++
	default:
		b.StoredSize, b.Status = size, BlobOK
		t.rep.Transferred++
		t.rep.Bytes += moved
	}
	return nil
}

// commit writes manifest and signatures once every blob is in place,
// again if the destination failed for a passing reason (a commit writes
// the same bytes each time). A push reports the signatures the
// destination now holds.
func (t *transfer) commit(ctx context.Context, p *plan) error {
	ss, signed := t.dst.(SignedSink)
	if err := t.opt.Retry.do(ctx, func(ctx context.Context) error {
		if !signed || p.sig == nil {
			return t.dst.Commit(ctx, p.raw, p.sig)
		}
		checks, err := ss.CommitSigned(ctx, p.raw, p.sig, p.bundles)
		if err == nil && t.rep.Op == OpPush {
			t.rep.Inspection.Signature.Checks = append(t.rep.Inspection.Signature.Checks, checks...)
		}
		return err
	}, nil); err != nil {
		return err
	}
	if rr, ok := t.dst.(ResultReffer); ok {
		t.rep.Destination = rr.ResultRef()
	}
	t.rep.Complete = true
	return nil
}

// statAll returns the stored size of every blob (-1 when the source cannot
// tell cheaply) and fails with an incomplete-image error listing every
// missing blob.
func statAll(ctx context.Context, src Source, refs []model.BlobRef, meta map[model.Digest]metaBlob, n int, pol RetryPolicy) ([]int64, error) {
	sizes := make([]int64, len(refs))
	st, ok := src.(BlobStater)
	if !ok {
		for i := range sizes {
			sizes[i] = -1
		}
		return sizes, nil
	}
	errs := make([]error, len(refs))
	var g errgroup.Group
	g.SetLimit(n)
	for i, r := range refs {
		if mb, ok := meta[r.Digest]; ok {
			sizes[i] = int64(len(mb.stored))
			continue
		}
		g.Go(func() error {
			errs[i] = pol.do(ctx, func(ctx context.Context) (err error) {
				sizes[i], err = st.StatBlob(ctx, r.Digest)
				return err
			}, nil)
			return nil // every blob is asked: the error lists all missing ones
		})
	}
	_ = g.Wait()
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

// moveBlob is one try at blob i: skipped when the sink has it, else
// streamed from the source (resumed where it broke, when the source can
// read from an offset) through a verifier into the sink.
func (t *transfer) moveBlob(ctx context.Context, p *plan, i int) (skipped bool, moved, size int64, err error) {
	r, knownSize := p.refs[i], p.sizes[i]
	has, err := t.dst.HasBlob(ctx, r.Digest)
	if err != nil {
		return false, 0, knownSize, err
	}
	if has {
		t.em.blob(r, PhaseSkipped, 0, knownSize, nil)
		return true, 0, knownSize, nil
	}
	size = knownSize
	var counted *countingReader
	var uploading atomic.Bool
	open := func() (io.ReadCloser, error) {
		rc, n, err := t.openStored(ctx, p, r, knownSize)
		if err != nil {
			return nil, err
		}
		size = n
		counted = &countingReader{ctx: ctx, rc: rc, report: func(n int64, eof bool) {
			if uploading.Load() {
				return // the sink reports its upload instead
			}
			ph := PhaseTransferring
			if eof {
				ph = PhaseVerifying
			}
			t.em.blobThrottled(r, ph, n, size, eof)
		}}
		if t.trustsSource() {
			return counted, nil
		}
		return verifyingCloser{blob.NewLimitedVerifier(counted, r.Digest, t.limit(p, r))}, nil
	}
	b := &Blob{Digest: r.Digest, Role: r.Role, StoredSize: knownSize, open: open,
		upload: func(n int64) {
			uploading.Store(true)
			t.em.blobThrottled(r, PhaseTransferring, n, size, n == 0)
		}}
	if sd, ok := t.src.(storedDigester); ok {
		b.StoredDigest = sd.StoredDigest(r.Digest)
	}
	t.em.blob(r, PhaseTransferring, 0, b.StoredSize, nil)
	err = t.dst.PutBlob(ctx, b)
	if counted != nil {
		moved = counted.n
	}
	if err != nil {
		return false, moved, size, err
	}
	t.em.blob(r, PhaseDone, moved, size, nil)
	return false, moved, size, nil
}

// trustsSource reports a push from the local store: every blob entered
// it only once verified, so its stored bytes are sent as they are instead
// of being decoded and hashed a second time (a short file still fails;
// readers at the destination verify every blob, and a deep verify of a
// local image reads them through the verifier).
func (t *transfer) trustsSource() bool {
	_, local := t.src.(*storeSource)
	return local && t.rep.Op == OpPush
}

// limit is the cap on what blob r may decompress to: the size the image
// declares for it (an fs-tree file, a KV page), --max-blob-size when set,
// and else the ratio rule (blob.Limit), which also bounds what a hostile
// image declares.
func (t *transfer) limit(p *plan, r model.BlobRef) blob.Limit {
	if mb, ok := p.meta[r.Digest]; ok {
		return mb.limit
	}
	lim := blob.Limit{Ratio: t.opt.MaxBlobSize <= 0, Name: termtext.Line(r.Role)} // roles hold paths from the image
	if t.opt.MaxBlobSize > 0 {
		lim.Max, lim.Why = t.opt.MaxBlobSize, "--max-blob-size"
	}
	if n, ok := p.declared[r.Digest]; ok && (lim.Max == 0 || n < lim.Max) {
		lim.Max, lim.Why = n, declaredBy(r.Role)
	}
	return lim
}

// declaredBy names what declared a blob's size, by the role that reaches it.
func declaredBy(role string) string {
	switch {
	case strings.HasPrefix(role, "fs:"):
		return "the size its fs-tree entry declares"
	case strings.HasPrefix(role, "page:"):
		return "the page size the page manifest declares"
	}
	return "the size the image declares for it"
}

// openStored opens the stored bytes of r: from memory for a metadata blob
// the plan holds, else from the source, resuming where it can.
func (t *transfer) openStored(ctx context.Context, p *plan, r model.BlobRef, knownSize int64) (io.ReadCloser, int64, error) {
	if mb, ok := p.meta[r.Digest]; ok {
		return io.NopCloser(bytes.NewReader(mb.stored)), int64(len(mb.stored)), nil
	}
	rc, size, err := t.src.OpenBlob(ctx, r.Digest)
	if err != nil {
		return nil, size, err
	}
	if size < 0 {
		size = knownSize
	}
	return newResuming(ctx, t.src, r.Digest, rc, size, t.opt.Retry), size, nil
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
