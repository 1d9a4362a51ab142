package benchsuite

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Limits are the machine's physical limits, measured in the same run, in
// MB/s (10^6 bytes per second).
type Limits struct {
	SHA256     float64 `json:"sha256_one_core"`
	ZstdDecode float64 `json:"zstd_decode_one_core"` // logical bytes out, from the image's stored blobs
	DiskWrite  float64 `json:"disk_write_durable"`   // write + fdatasync
	CacheWrite float64 `json:"disk_write_cache"`     // write into the page cache
	Loopback   float64 `json:"loopback_tcp"`         // one TCP stream over 127.0.0.1
}

// MeasureLimits takes the median of three runs of each limit over size
// bytes; the zstd figure decodes the stored blobs of the payload.
func MeasureLimits(dir, payload string, size int64) (Limits, error) {
	buf := make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	var l Limits
	var err error
	l.SHA256 = median3(func() float64 { return rate(size, func() error { return shaPass(buf, size) }) })
	l.ZstdDecode, err = zstdRate(payload)
	if err != nil {
		return l, err
	}
	for _, sync := range []bool{true, false} {
		v := median3(func() float64 {
			return rate(size, func() error { return writeFile(filepath.Join(dir, "limit.bin"), buf, size, sync) })
		})
		if sync {
			l.DiskWrite = v
		} else {
			l.CacheWrite = v
		}
	}
	os.Remove(filepath.Join(dir, "limit.bin"))
	l.Loopback = median3(func() float64 { return rate(size, func() error { return loopback(buf, size) }) })
	return l, nil
}

func median3(f func() float64) float64 {
	v := []float64{f(), f(), f()}
	return median(v)
}

func rate(size int64, f func() error) float64 {
	t0 := time.Now()
	if err := f(); err != nil {
		return 0
	}
	return float64(size) / time.Since(t0).Seconds() / 1e6
}

func shaPass(buf []byte, size int64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h := sha256.New()
	for n := int64(0); n < size; n += int64(len(buf)) {
		h.Write(buf[:min(int64(len(buf)), size-n)])
	}
	h.Sum(nil)
	return nil
}

func writeFile(path string, buf []byte, size int64, sync bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), size-n)]); err != nil {
			return err
		}
	}
	if sync {
		return f.Sync()
	}
	return nil
}

// loopback sends size bytes over one TCP connection on 127.0.0.1.
func loopback(buf []byte, size int64) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(io.Discard, c)
		done <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := c.Write(buf[:min(int64(len(buf)), size-n)]); err != nil {
			c.Close()
			return err
		}
	}
	c.Close()
	return <-done
}

// zstdRate decodes every stored blob of the payload on one core and
// returns the logical MB/s: the decoding a verified pull must do.
func zstdRate(payload string) (float64, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return 0, err
	}
	defer dec.Close()
	var files []string
	filepath.WalkDir(filepath.Join(payload, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	var logical int64
	var took time.Duration
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		if err := dec.Reset(f); err != nil {
			f.Close()
			return 0, err
		}
		n, err := io.Copy(io.Discard, dec)
		took += time.Since(t0)
		f.Close()
		if err != nil {
			return 0, err
		}
		logical += n
	}
	if took == 0 {
		return 0, nil
	}
	return float64(logical) / took.Seconds() / 1e6, nil
}
