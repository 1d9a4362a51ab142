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

	"github.com/klauspost/compress/zstd"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// DefaultMaxLogicalSize caps the decompressed size of one blob (zstd
// bombs) unless the caller passes its own cap (--max-blob-size).
const DefaultMaxLogicalSize int64 = 64 << 30

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
// its digest. max bounds the logical size.
func DecodeVerified(stored []byte, d model.Digest, max int64) ([]byte, error) {
	dec, err := NewDecoder(bytes.NewReader(stored))
	if err != nil {
		return nil, fault.Integrityf("blob %s: not zstd: %v", d.Short(), err)
	}
	defer dec.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(dec, max+1))
	if err != nil {
		return nil, fault.Integrityf("blob %s: zstd decode failed: %v", d.Short(), err)
	}
	if n > max {
		return nil, fault.Integrityf("blob %s: decompresses to more than %d bytes", d.Short(), max)
	}
	if got := model.FromBytes(out.Bytes()); got != d {
		return nil, mismatch(d, got)
	}
	return out.Bytes(), nil
}

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
	max     int64
}

type verdict struct {
	n   int64
	err error
}

// NewVerifier wraps src (stored bytes) for blob d, accepting at most max
// decompressed bytes (≤ 0: DefaultMaxLogicalSize).
func NewVerifier(src io.Reader, d model.Digest, max int64) *Verifier {
	if max <= 0 {
		max = DefaultMaxLogicalSize
	}
	return &Verifier{src: src, want: d, max: max, result: make(chan verdict, 1)}
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
	n, err := io.Copy(h, io.LimitReader(dec, v.max+1))
	if err != nil {
		if errors.Is(err, errAborted) {
			return n, err
		}
		return n, fault.Integrityf("blob %s: zstd decode failed: %v", v.want.Short(), err)
	}
	if n > v.max {
		return n, fault.Integrityf("blob %s: decompresses to more than %d bytes; raise --max-blob-size if that is expected", v.want.Short(), v.max)
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
	}
	if err == io.EOF {
		v.pw.Close()
		res := <-v.result
		v.logical = res.n
		v.err = io.EOF
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
