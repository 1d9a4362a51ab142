package blob_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bomb is n zero bytes compressed (a few KiB per GiB) and their digest.
func bomb(tb testing.TB, n int64) ([]byte, model.Digest) {
	tb.Helper()
	var stored bytes.Buffer
	if _, err := blob.Compress(&stored, io.LimitReader(zeros{}, n), 3); err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, io.LimitReader(zeros{}, n))
	return stored.Bytes(), model.FromHash(h)
}

// TestRatioStopsABomb: without a fixed cap, a blob may not decompress to
// more than the floor (64 MiB; 1 MiB here, to keep the bomb small) plus
// 256 times its stored size; a fixed cap replaces the rule (a caller who
// sets --max-blob-size accepts what it allows).
func TestRatioStopsABomb(t *testing.T) {
	defer blob.SetMinCap(1 << 20)()
	stored, d := bomb(t, 4<<20)
	if len(stored)*blob.MaxRatio > 2<<20 {
		t.Fatalf("%d stored bytes: not a bomb", len(stored))
	}
	v := blob.NewVerifier(bytes.NewReader(stored), d, 0)
	_, err := io.Copy(io.Discard, v)
	if !errors.Is(err, blob.ErrTooLarge) || !errors.Is(err, fault.ErrIntegrity) {
		t.Fatalf("bomb: %v, want an integrity error over the cap", err)
	}
	if _, err := blob.DecodeVerified(stored, d, 1<<30); !errors.Is(err, blob.ErrTooLarge) {
		t.Fatalf("bomb in memory: %v", err)
	}
	v = blob.NewVerifier(bytes.NewReader(stored), d, 8<<20)
	if _, err := io.Copy(io.Discard, v); err != nil || !v.Verified() {
		t.Fatalf("under --max-blob-size: %v", err)
	}
}

// TestPaddingRefused: a skippable frame of a few bytes (as some tools
// write) is accepted; padding far beyond what zstd needs is refused, in
// memory and streamed, long before the end of a large padding.
func TestPaddingRefused(t *testing.T) {
	content := []byte("twenty-four bytes of it!")
	frame := blob.CompressBytes(content, 3)
	d := model.FromBytes(content)
	skippable := func(n int) []byte {
		b := make([]byte, 8+n)
		binary.LittleEndian.PutUint32(b, 0x184D2A5F)
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		return b
	}
	small := append(append([]byte{}, frame...), skippable(64)...)
	if _, err := blob.DecodeVerified(small, d, 1<<20); err != nil {
		t.Fatalf("a small skippable frame: %v", err)
	}
	for _, n := range []int{16 << 10, 16 << 20} {
		padded := append(append([]byte{}, frame...), skippable(n)...)
		if _, err := blob.DecodeVerified(padded, d, 1<<30); !errors.Is(err, fault.ErrIntegrity) {
			t.Errorf("%d bytes of padding in memory: %v", n, err)
		}
		if _, err := io.Copy(io.Discard, blob.NewVerifier(bytes.NewReader(padded), d, 0)); !errors.Is(err, fault.ErrIntegrity) {
			t.Errorf("%d bytes of padding streamed: %v", n, err)
		}
		// Under a fixed cap the padding is refused once the stream holds
		// more than the cap's worth of content could need.
		src := &countingReader{r: bytes.NewReader(padded)}
		if _, err := io.Copy(io.Discard, blob.NewVerifier(src, d, 1<<20)); !errors.Is(err, fault.ErrIntegrity) {
			t.Errorf("%d bytes of padding streamed under a cap: %v", n, err)
		}
		if n > 4<<20 && src.n > 2<<20 {
			t.Errorf("padding noticed after %d of %d bytes", src.n, len(padded))
		}
	}
}

type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 32<<10)])
	c.n += n
	return n, err
}

// BenchmarkBombStopped measures the CPU a 4 GiB zstd bomb of about 128 KiB
// costs before the ratio rule stops it (cpu-ms/op).
func BenchmarkBombStopped(b *testing.B) {
	stored, d := bomb(b, 4<<30)
	b.SetBytes(int64(len(stored)))
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		v := blob.NewVerifier(bytes.NewReader(stored), d, 0)
		if _, err := io.Copy(io.Discard, v); !errors.Is(err, blob.ErrTooLarge) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
