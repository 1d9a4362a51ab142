package registry

import (
	"context"
	"errors"
	"io"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/model"
)

// RetryPolicy is how the engine retries what fails for a passing reason
// (errors wrapping fault.ErrTransient: dropped connections, stalls,
// truncated bodies, 5xx and 429 answers). It is the only retry loop of a
// transfer: backends classify failures and do not retry themselves.
type RetryPolicy struct {
	// Attempts is the most tries of one step: fetching the manifest, one
	// blob, the commit (default 4). A broken download also resumes at
	// most Attempts-1 times where the source can read from an offset.
	Attempts int
	// Wait is the first pause between tries, doubled each time (default
	// 500ms).
	Wait time.Duration
	// MaxWait caps every pause, a server's Retry-After included (default
	// 30s), so a server cannot park a transfer.
	MaxWait time.Duration
}

// Retry defaults.
const (
	DefaultAttempts = 4
	DefaultWait     = 500 * time.Millisecond
	DefaultMaxWait  = 30 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = DefaultAttempts
	}
	if p.Wait <= 0 {
		p.Wait = DefaultWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	return p
}

// Delay is the pause before retry n (1 for the first retry): the
// doubling backoff, or longer when the server asked for it, never more
// than MaxWait.
func (p RetryPolicy) Delay(n int, asked time.Duration) time.Duration {
	p = p.withDefaults()
	d := p.MaxWait
	if n <= 31 {
		d = min(p.Wait<<(n-1), p.MaxWait)
	}
	return min(max(d, asked), p.MaxWait)
}

// retryable reports whether a failed try is worth another: transient
// failures while tries are left, and one integrity failure (bytes
// corrupted on the way fail again only if the stored copy is bad), unless
// the blob was over its size cap, which no second try changes.
func (p RetryPolicy) retryable(err error, try int, integrityRetried bool) bool {
	switch {
	case try >= p.Attempts:
		return false
	case errors.Is(err, fault.ErrTransient):
		return true
	case errors.Is(err, fault.ErrIntegrity):
		return !integrityRetried && !errors.Is(err, blob.ErrTooLarge)
	}
	return false
}

// do runs step until it succeeds or fails for good. Each try runs under a
// context that collects the servers' Retry-After; onRetry (may be nil)
// hears about each retry before its pause.
func (p RetryPolicy) do(ctx context.Context, step func(ctx context.Context) error, onRetry func(try int, wait time.Duration, err error)) error {
	p = p.withDefaults()
	integrityRetried := false
	for try := 1; ; try++ {
		tctx, seen := httpguard.Observe(ctx)
		err := step(tctx)
		if err == nil || !p.retryable(err, try, integrityRetried) {
			return err
		}
		integrityRetried = integrityRetried || !errors.Is(err, fault.ErrTransient)
		if ctx.Err() != nil {
			return ctx.Err() // the pause would end at once
		}
		wait := p.Delay(try, max(fault.RetryAfter(err), seen.RetryAfter()))
		if onRetry != nil {
			onRetry(try, wait, err)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// retried is do for a step with a result.
func retried[T any](ctx context.Context, pol RetryPolicy, step func(ctx context.Context) (T, error)) (T, error) {
	var out T
	err := pol.do(ctx, func(ctx context.Context) (err error) {
		out, err = step(ctx)
		return err
	}, nil)
	return out, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// BlobRanger is an optional Source capability: the stored bytes of a blob
// from an offset on (an HTTP Range request, IPFS cat with an offset), so
// a download that broke continues where it stopped. It fails when the
// server does not honour the offset.
type BlobRanger interface {
	OpenBlobAt(ctx context.Context, d model.Digest, off int64) (io.ReadCloser, error)
}

// resuming reads a blob and, when the stream breaks for a passing reason,
// opens it again from the byte it got to. The bytes read before stay
// counted once and stay fed to the same verifier, so progress and
// verification go on as if nothing happened.
type resuming struct {
	ctx     context.Context
	src     BlobRanger
	d       model.Digest
	where   string
	rc      io.ReadCloser
	size    int64 // stored size, -1 when unknown
	off     int64
	pol     RetryPolicy
	resumes int
}

func newResuming(ctx context.Context, src Source, d model.Digest, rc io.ReadCloser, size int64, pol RetryPolicy) io.ReadCloser {
	rg, ok := src.(BlobRanger)
	if !ok {
		return &resuming{ctx: ctx, d: d, where: src.Describe(), rc: rc, size: size, pol: pol.withDefaults(), resumes: -1}
	}
	return &resuming{ctx: ctx, src: rg, d: d, where: src.Describe(), rc: rc, size: size, pol: pol.withDefaults()}
}

func (r *resuming) Read(p []byte) (int, error) {
	for {
		n, err := r.rc.Read(p)
		r.off += int64(n)
		if err == io.EOF && r.size >= 0 && r.off < r.size {
			// A complete-looking short answer: cut on the way, or the
			// server holds less than it declares. Asked once more (whole),
			// it is an integrity failure if it stays short.
			err = fault.Integrityf("%s: blob %s ended after %d of its %d bytes", r.where, r.d.Short(), r.off, r.size)
		}
		if err == nil || err == io.EOF || !errors.Is(err, fault.ErrTransient) || !r.resume(err) {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume reopens the blob at r.off; false leaves the failure to the
// caller (no offset reads, tries spent, or the server refuses the range).
func (r *resuming) resume(cause error) bool {
	if r.src == nil || r.resumes < 0 || r.resumes+1 >= r.pol.Attempts || r.ctx.Err() != nil {
		return false
	}
	r.resumes++
	if sleep(r.ctx, r.pol.Delay(r.resumes, fault.RetryAfter(cause))) != nil {
		return false
	}
	r.rc.Close()
	rctx, seen := httpguard.Observe(r.ctx)
	rc, err := r.src.OpenBlobAt(rctx, r.d, r.off)
	for errors.Is(err, fault.ErrTransient) && r.resumes+1 < r.pol.Attempts {
		r.resumes++
		if sleep(r.ctx, r.pol.Delay(r.resumes, max(fault.RetryAfter(err), seen.RetryAfter()))) != nil {
			break
		}
		rc, err = r.src.OpenBlobAt(rctx, r.d, r.off)
	}
	if err != nil {
		r.rc = failedReader{cause}
		return false
	}
	r.rc = rc
	return true
}

func (r *resuming) Close() error { return r.rc.Close() }

// failedReader stands for a stream that could not be resumed.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }
func (f failedReader) Close() error             { return nil }
