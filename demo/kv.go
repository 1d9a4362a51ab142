package demo

import (
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
)

// pageReader streams one synthetic KV page: bf16 values whose high byte
// (sign, exponent) is structured and low byte noisy, like real activations,
// so zstd gains only a few percent. It never holds the page in memory.
func pageReader(seed, stream uint64, size int64) io.Reader {
	return &kvReader{rng: rand.New(rand.NewPCG(seed, stream+1)), left: size}
}

type kvReader struct {
	rng  *rand.Rand
	left int64
	pos  uint64
}

func (r *kvReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := len(p) &^ 1
	if int64(n) > r.left {
		n = int(r.left)
	}
	if n == 0 {
		return 0, io.ErrShortBuffer
	}
	for i := 0; i+1 < n; i += 2 {
		x := math.Sin(float64(r.pos)/97) + r.rng.NormFloat64()*0.1
		bits := math.Float32bits(float32(x))
		binary.LittleEndian.PutUint16(p[i:], uint16(bits>>16))
		r.pos++
	}
	r.left -= int64(n)
	return n, nil
}
