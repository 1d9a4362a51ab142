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

	"golang.org/x/sync/errgroup"

	"pf-registry/blob"
	"pf-registry/internal/fault"
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
// once every blob is in place).
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
			t.em.image(PhaseFailed, Event{Error: err.Error()})
		} else {
			t.em.image(PhaseDone, Event{Done: t.rep.Bytes, Message: fmt.Sprintf("%d transferred, %d skipped", t.rep.Transferred, t.rep.Skipped)})
		}
	}()
	p, err := t.plan(ctx, verify, sign)
	if err != nil {
		return t.rep, err
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
	sizes    []int64 // stored sizes, -1 when unknown
}

// plan fetches and judges the manifest and its signatures against the
// requirement, signs it for the destination, walks the image and learns
// every blob's size. An image that fails any check, or is incomplete when
// the source can tell cheaply, ends here with nothing written.
func (t *transfer) plan(ctx context.Context, verify *Verifier, sign *Signer) (*plan, error) {
	raw, sig, err := t.src.FetchManifest(ctx)
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
	if p.meta, p.refs, err = reach(ctx, t.src, in.Manifest); err != nil {
		return nil, err
	}
	if p.sizes, err = statAll(ctx, t.src, p.refs, p.meta, t.opt.Concurrency); err != nil {
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
	skipped, moved, size, err := moveBlob(ctx, t.src, t.dst, r, p.sizes[i], p.meta, t.em, t.opt.MaxBlobSize)
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

// commit writes manifest and signatures once every blob is in place. A
// push reports the signatures the destination now holds.
func (t *transfer) commit(ctx context.Context, p *plan) error {
	ss, signed := t.dst.(SignedSink)
	switch {
	case signed && p.sig != nil:
		checks, err := ss.CommitSigned(ctx, p.raw, p.sig, p.bundles)
		if err != nil {
			return err
		}
		if t.rep.Op == OpPush {
			t.rep.Inspection.Signature.Checks = append(t.rep.Inspection.Signature.Checks, checks...)
		}
	default:
		if err := t.dst.Commit(ctx, p.raw, p.sig); err != nil {
			return err
		}
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
	var g errgroup.Group
	g.SetLimit(n)
	for i, r := range refs {
		if mb, ok := meta[r.Digest]; ok {
			sizes[i] = int64(len(mb.stored))
			continue
		}
		g.Go(func() error {
			sizes[i], errs[i] = st.StatBlob(ctx, r.Digest)
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
