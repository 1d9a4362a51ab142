// Package blob moves stored blobs: zstd streaming in both directions and a
// verifying reader that hashes the logical bytes while the stored bytes
// pass through, so no blob is ever held whole in memory.
package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// maxWindow is libzstd's default decoder limit; Rust cannot read more.
const maxWindow = 128 << 20

// writeWindow keeps frames readable by any libzstd (spec §6: ≤ 8 MiB) and
// the decoders of a transfer small: zstd -3 uses the same 2 MiB window, and
// KV pages gain nothing from a longer one.
const writeWindow = 2 << 20

// SoftMemoryLimit is the Go memory limit the command line sets: transfers
// stream, so it only makes the collector return short-lived buffers sooner
// and keeps the heap small whatever the image size.
const SoftMemoryLimit = 48 << 20

// DefaultLevel is a fast level: on KV pages level 19 buys under 1 % for
// 40× the time (research/perf-baselines.md).
const DefaultLevel = 1

var decoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		panic(err) // only fails on invalid options
	}
	return d
}}

// Decoder is a pooled zstd stream decoder. Close returns it to the pool.
type Decoder struct {
	d *zstd.Decoder
}

// NewDecoder decodes r, which must hold zstd frames.
func NewDecoder(r io.Reader) (*Decoder, error) {
	d := decoders.Get().(*zstd.Decoder)
	if err := d.Reset(r); err != nil {
		decoders.Put(d)
		return nil, err
	}
	return &Decoder{d: d}, nil
}

func (d *Decoder) Read(p []byte) (int, error) { return d.d.Read(p) }

// Close releases the decoder.
func (d *Decoder) Close() error {
	if d.d != nil {
		_ = d.d.Reset(nil)
		decoders.Put(d.d)
		d.d = nil
	}
	return nil
}

// encoders pools zstd encoders per level: building one allocates its
// window and tables, which dominated the cost of compressing small blobs.
var encoders sync.Map // level → *sync.Pool

func encoderPool(level int) *sync.Pool {
	if p, ok := encoders.Load(level); ok {
		return p.(*sync.Pool)
	}
	p, _ := encoders.LoadOrStore(level, &sync.Pool{New: func() any {
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithWindowSize(writeWindow))
		if err != nil {
			panic(err) // only fails on invalid options
		}
		return enc
	}})
	return p.(*sync.Pool)
}

// Compress writes one zstd frame of src to dst at the given level
// (1..22, zstd's scale), using every core for large inputs. It returns the
// number of logical bytes read.
func Compress(dst io.Writer, src io.Reader, level int) (int64, error) {
	if level <= 0 {
		level = DefaultLevel
	}
	pool := encoderPool(level)
	enc := pool.Get().(*zstd.Encoder)
	enc.Reset(dst)
	n, err := io.Copy(enc, src)
	if cerr := enc.Close(); err == nil {
		err = cerr
	}
	enc.Reset(nil)
	pool.Put(enc)
	return n, err
}

// CompressBytes is Compress for a small in-memory value.
func CompressBytes(b []byte, level int) []byte {
	var out bytes.Buffer
	if _, err := Compress(&out, bytes.NewReader(b), level); err != nil {
		panic(err) // writing to a buffer cannot fail
	}
	return out.Bytes()
}

// DecodeVerified decompresses a small stored blob held in memory and checks
// its digest. max bounds the logical size; so does the ratio rule (see
// Limit), and stored bytes beyond what zstd needs are refused.
func DecodeVerified(stored []byte, d model.Digest, max int64) ([]byte, error) {
	return Decode(stored, d, Limit{Max: max, Ratio: true})
}

// Decode is DecodeVerified under any Limit.
func Decode(stored []byte, d model.Digest, lim Limit) ([]byte, error) {
	dec, err := NewDecoder(bytes.NewReader(stored))
	if err != nil {
		return nil, fault.Integrityf("blob %s: not zstd: %v", d.Short(), err)
	}
	defer dec.Close()
	var out bytes.Buffer
	w := &capWriter{w: &out, lim: lim, d: d}
	w.stored.Store(int64(len(stored)))
	if _, err := io.Copy(w, dec); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, fault.Integrityf("blob %s: zstd decode failed: %v", d.Short(), err)
	}
	if err := checkPadding(d, int64(len(stored)), int64(out.Len())); err != nil {
		return nil, err
	}
	if got := model.FromBytes(out.Bytes()); got != d {
		return nil, mismatch(d, got)
	}
	return out.Bytes(), nil
}

// ErrTooLarge is in the chain of the integrity error of a blob that
// decompresses to more than its cap: no second try changes that.
var ErrTooLarge = errors.New("blob over its size cap")

func tooLarge(format string, a ...any) error {
	return fault.Classed(fault.ErrIntegrity, &capErr{fmt.Sprintf(format, a...)})
}

// Limit caps what one blob may decompress to, against zstd bombs.
type Limit struct {
	// Max is a fixed cap in bytes (0: none).
	Max int64
	// Why names what set Max, for the error ("--max-blob-size", "the size
	// the fs tree declares").
	Why string
	// Ratio also bounds the decompressed bytes, as they come, to MinCap
	// plus MaxRatio times the stored bytes read so far: a bomb is stopped
	// after a bounded amount of work whatever size anyone declared.
	Ratio bool
	// Name is the blob's role, for messages ("" to leave it out).
	Name string
}

// The ratio rule: legitimate blobs, KV pages and text alike, compress far
// less than 256:1; 64 MiB leaves room for small, very regular blobs.
const (
	MaxRatio = 256
	MinCap   = 64 << 20
)

// minCap is MinCap; tests lower it to keep their bombs small.
var minCap int64 = MinCap

// capWriter counts decompressed bytes and enforces a Limit.
type capWriter struct {
	w      io.Writer
	lim    Limit
	d      model.Digest
	n      atomic.Int64 // decompressed bytes so far
	stored atomic.Int64 // stored bytes read so far
}

func (c *capWriter) Write(p []byte) (int, error) {
	n := c.n.Add(int64(len(p)))
	if c.lim.Max > 0 && n > c.lim.Max {
		why := ""
		if c.lim.Why != "" {
			why = " (" + c.lim.Why + ")"
		}
		return 0, tooLarge("blob %s%s: decompresses to more than %d bytes%s", c.d.Short(), c.name(), c.lim.Max, why)
	}
	if c.lim.Ratio && n > minCap+MaxRatio*c.stored.Load() {
		return 0, tooLarge("blob %s%s: decompresses to more than %d times its stored size, as a zstd bomb does; pass --max-blob-size to accept it", c.d.Short(), c.name(), MaxRatio)
	}
	return c.w.Write(p)
}

func (c *capWriter) name() string {
	if c.lim.Name == "" {
		return ""
	}
	return " (" + c.lim.Name + ")"
}

// StoredBound is the most stored bytes any zstd encoding of n logical
// bytes needs (ZSTD_compressBound), plus room for a few frame headers and
// checksums. More is padding: trailing bytes or skippable frames that
// would be stored for nothing.
func StoredBound(n int64) int64 {
	b := n + n>>8 + 4<<10
	if n < 128<<10 {
		b += (128<<10 - n) >> 11
	}
	return b
}

// checkPadding refuses stored bytes beyond what logical bytes of content
// need. (Under a fixed cap, a stream is refused as soon as it passes what
// the cap's worth of content would need.)
func checkPadding(d model.Digest, stored, logical int64) error {
	if stored <= StoredBound(logical) {
		return nil
	}
	return fault.Integrityf("blob %s: %d stored bytes for %d bytes of content: padding or skippable frames beyond what zstd needs; refusing it",
		d.Short(), stored, logical)
}

type capErr struct{ msg string }

func (e *capErr) Error() string        { return e.msg }
func (e *capErr) Is(target error) bool { return target == ErrTooLarge }

func mismatch(want, got model.Digest) error {
	return fault.Integrityf("blob %s does not match its digest (content hashes to %s)", want.Short(), got.Short())
}

// Verifier passes stored (zstd) bytes through unchanged while a goroutine
// decompresses and hashes them. At the end of the stream Read returns an
// error wrapping fault.ErrIntegrity instead of io.EOF when the content does
// not match the digest, so a consumer that stops on errors never commits
// bad bytes.
type Verifier struct {
	src     io.Reader
	want    model.Digest
	pw      *io.PipeWriter
	result  chan verdict
	stored  int64
	logical int64
	err     error // sticky terminal error (or io.EOF)
	started bool
	cw      *capWriter
}

type verdict struct {
	n   int64
	err error
}

// NewVerifier wraps src (stored bytes) for blob d, accepting at most max
// decompressed bytes (≤ 0: no fixed cap), and no more than the ratio rule
// allows when max is not set (see Limit).
func NewVerifier(src io.Reader, d model.Digest, max int64) *Verifier {
	if max > 0 {
		return NewLimitedVerifier(src, d, Limit{Max: max, Why: "--max-blob-size"})
	}
	return NewLimitedVerifier(src, d, Limit{Ratio: true})
}

// NewLimitedVerifier is NewVerifier under any Limit.
func NewLimitedVerifier(src io.Reader, d model.Digest, lim Limit) *Verifier {
	return &Verifier{src: src, want: d, result: make(chan verdict, 1), cw: &capWriter{lim: lim, d: d}}
}

func (v *Verifier) start() {
	v.started = true
	pr, pw := io.Pipe()
	v.pw = pw
	go func() {
		n, err := v.decode(pr)
		if err != nil {
			pr.CloseWithError(err)
		} else {
			// Drain anything the decoder left so the writer never blocks.
			_, _ = io.Copy(io.Discard, pr)
		}
		v.result <- verdict{n, err}
	}()
}

func (v *Verifier) decode(r io.Reader) (int64, error) {
	dec, err := NewDecoder(r)
	if err != nil {
		return 0, fault.Integrityf("blob %s: not zstd: %v", v.want.Short(), err)
	}
	defer dec.Close()
	h := sha256.New()
	v.cw.w = h
	n, err := io.Copy(v.cw, dec)
	if err != nil {
		if errors.Is(err, errAborted) || errors.Is(err, ErrTooLarge) {
			return n, err
		}
		return n, fault.Integrityf("blob %s: zstd decode failed: %v", v.want.Short(), err)
	}
	if got := model.FromHash(h); got != v.want {
		return n, mismatch(v.want, got)
	}
	return n, nil
}

var errAborted = errors.New("verification aborted")

// Read implements io.Reader.
func (v *Verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if !v.started {
		v.start()
	}
	n, err := v.src.Read(p)
	if n > 0 {
		v.stored += int64(n)
		v.cw.stored.Store(v.stored)
		if _, werr := v.pw.Write(p[:n]); werr != nil {
			// The decoder failed early; report its verdict.
			v.pw.Close()
			res := <-v.result
			v.err = res.err
			if v.err == nil {
				v.err = werr
			}
			return 0, v.err
		}
		// More stored bytes than any content under a fixed cap needs is
		// padding already (the end check would refuse it too).
		if max := v.cw.lim.Max; max > 0 && v.stored > StoredBound(max) {
			v.err = checkPadding(v.want, v.stored, max)
			v.abort()
			return 0, v.err
		}
	}
	if err == io.EOF {
		v.pw.Close()
		res := <-v.result
		v.logical = res.n
		v.err = io.EOF
		if res.err == nil {
			res.err = checkPadding(v.want, v.stored, res.n)
		}
		if res.err != nil {
			v.err = res.err
		}
		return n, v.err
	}
	if err != nil {
		v.err = err
		v.abort()
	}
	return n, err
}

func (v *Verifier) abort() {
	if v.started && v.pw != nil {
		v.pw.CloseWithError(errAborted)
		<-v.result
		v.pw = nil
	}
}

// Close stops the decoder if the stream was not read to its end and closes
// the source when it is a Closer.
func (v *Verifier) Close() error {
	if v.err == nil {
		v.err = fmt.Errorf("blob %s: stream closed before its end", v.want.Short())
		v.abort()
	}
	if c, ok := v.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Verified reports whether the whole stream was read and matched.
func (v *Verifier) Verified() bool { return v.err == io.EOF }

// StoredSize is the number of stored bytes read so far.
func (v *Verifier) StoredSize() int64 { return v.stored }

// LogicalSize is the decompressed size, known once Verified.
func (v *Verifier) LogicalSize() int64 { return v.logical }

// copyBufs pools the buffers of Copy.
var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, 256<<10)
	return &b
}}

// Copy copies src to dst through a pooled 256 KiB buffer, whatever the two
// implement: the 32 KiB buffer of io.Copy (the one os.File.ReadFrom uses
// for a reader that is not a file) costs a read and a write system call,
// and a hand-off to the verifying decoder, per 32 KiB of a blob.
func Copy(dst io.Writer, src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, *bp)
}
