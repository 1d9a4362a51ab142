package benchimg

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"pf-registry/model"
)

// kvPage fills buf with page ix's K (or V) blob: f16 values laid out
// [layer][token][head][dim]. Keys are rotary: per channel a log-normal
// scale times cos/sin of the token position at that channel's frequency,
// plus a slow per-head drift; values are a per-channel random walk. Both
// get Gaussian noise at a tenth of the scale, which makes the low byte of
// every f16 practically random, as in real activations.
func kvPage(buf []byte, seed uint64, ix int, value bool) {
	side := uint64(0)
	if value {
		side = 1
	}
	rng := rand.New(rand.NewPCG(seed, uint64(ix)<<1|side))
	const half = HeadDim / 2
	var scale, c, s, cw, sw, walk [Heads][HeadDim]float32
	var drift [Heads]float32
	off := 0
	for range Layers {
		for h := range Heads {
			for d := range HeadDim {
				scale[h][d] = float32(math.Exp(rng.NormFloat64() * 0.6))
				walk[h][d] = float32(rng.NormFloat64())
			}
			for d := range half {
				freq := math.Pow(10000, -float64(d)/half)
				ang := float64(ix*Tokens)*freq + rng.Float64()*2*math.Pi
				c[h][d], s[h][d] = float32(math.Cos(ang)), float32(math.Sin(ang))
				cw[h][d], sw[h][d] = float32(math.Cos(freq)), float32(math.Sin(freq))
			}
			drift[h] = 0
		}
		for range Tokens {
			for h := range Heads {
				drift[h] += 0.02 * gauss(rng.Uint64())
				for d := range HeadDim {
					var x float32
					if value {
						walk[h][d] += 0.05 * gauss(rng.Uint64())
						x = walk[h][d]
					} else if d < half {
						x = c[h][d] + drift[h]
					} else {
						x = s[h][d-half] + drift[h]
					}
					x = scale[h][d] * (x + 0.1*gauss(rng.Uint64()))
					binary.LittleEndian.PutUint16(buf[off:], f16(x))
					off += 2
				}
				// Advance the rotation by one token.
				for d := range half {
					c[h][d], s[h][d] = c[h][d]*cw[h][d]-s[h][d]*sw[h][d], s[h][d]*cw[h][d]+c[h][d]*sw[h][d]
				}
			}
		}
	}
}

// gauss turns 64 random bits into an approximately standard normal value
// (Irwin–Hall of four 16-bit uniforms): close enough for noise, and an
// order of magnitude cheaper than NormFloat64 per f16 written.
func gauss(u uint64) float32 {
	sum := float32(u&0xffff) + float32(u>>16&0xffff) + float32(u>>32&0xffff) + float32(u>>48)
	return (sum/65536 - 2) * 1.7320508
}

// f16 converts to IEEE half precision, rounding to nearest even.
func f16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 0x1f:
		return sign | 0x7c00 // overflow (and NaN, which never occurs here) → inf
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		h := mant >> shift
		if rem := mant & (1<<shift - 1); rem > 1<<(shift-1) || rem == 1<<(shift-1) && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // may carry into the exponent, which is the right result
	}
	return sign | uint16(h)
}

// loraDiff is the model.diff.v1 envelope of a LoRA adapter set: rank-16
// A and B matrices of small f16 weights per attention projection,
// base64-encoded, until about size bytes.
func loraDiff(seed uint64, size int64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0xd1ff))
	var b strings.Builder
	b.WriteString(`{"diff":{"adapters":[`)
	const rank, width = 16, 4096
	raw := make([]byte, 2*rank*width)
	for i := 0; int64(b.Len()) < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		for j := 0; j < len(raw); j += 2 {
			binary.LittleEndian.PutUint16(raw[j:], f16(0.02*gauss(rng.Uint64())))
		}
		proj := []string{"q_proj", "k_proj", "v_proj", "o_proj"}[i%4]
		side := []string{"a", "b"}[i/4%2]
		fmt.Fprintf(&b, `{"data":"%s","dtype":"f16","name":"layers.%d.%s.lora_%s","shape":[%d,%d]}`,
			base64.StdEncoding.EncodeToString(raw), i/8, proj, side, rank, width)
	}
	b.WriteString(`],"kind":"lora","rank":16},"layout":"model.diff.v1"}`)
	return []byte(b.String())
}

type file struct {
	path string
	data []byte
}

var words = strings.Fields(`layer head token cache page fork process snapshot tensor shape dtype
float16 bfloat16 offset stride device rank world seed step epoch model config tokenizer vocab
attention rotary theta window batch prompt completion logits sampler temperature top_p agent
commit branch merge restore ledger effect trace message adapter registry digest manifest`)

// genFiles makes the fs tree's files: a third Python, a third JSON
// metadata, a third log lines, in directories of at most 100 files.
func genFiles(s Spec) []file {
	rng := rand.New(rand.NewPCG(s.Seed, 0xf11e5))
	out := make([]file, s.Files)
	for i := range out {
		target := s.FileMin + rng.IntN(s.FileMax-s.FileMin+1)
		var b strings.Builder
		dir := fmt.Sprintf("src/pkg%03d", i/100)
		var name string
		switch i % 3 {
		case 0:
			name = fmt.Sprintf("%s/%s_%05d.py", dir, words[rng.IntN(len(words))], i)
			for b.Len() < target {
				fmt.Fprintf(&b, "def %s_%s(%s):\n    return %s(%d)\n\n", pick(rng), pick(rng), pick(rng), pick(rng), rng.IntN(1000))
			}
		case 1:
			name = fmt.Sprintf("%s/meta_%05d.json", dir, i)
			b.WriteString(`{"schema":"processfork.meta.v1","entries":[`)
			for b.Len() < target {
				fmt.Fprintf(&b, "\n  {\"name\":\"%s-%s\",\"offset\":%d,\"length\":%d,\"dtype\":\"f16\",\"shape\":[%d,%d]},",
					pick(rng), pick(rng), rng.Uint32(), rng.IntN(1<<22), rng.IntN(4096), rng.IntN(4096))
			}
		default:
			name = fmt.Sprintf("%s/run_%05d.log", dir, i)
			for b.Len() < target {
				fmt.Fprintf(&b, "2026-11-26T12:%02d:%02d.%03dZ %s %s %s %s value=%.6f\n", rng.IntN(60), rng.IntN(60), rng.IntN(1000),
					[]string{"INFO", "DEBUG", "WARN"}[rng.IntN(3)], pick(rng), pick(rng), pick(rng), rng.NormFloat64())
			}
		}
		out[i] = file{path: name, data: []byte(b.String()[:target])}
	}
	return out
}

func pick(rng *rand.Rand) string { return words[rng.IntN(len(words))] }

func trace(seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x7ace))
	var b strings.Builder
	for i := range 60 {
		var c []string
		for range 8 + rng.IntN(30) {
			c = append(c, pick(rng))
		}
		fmt.Fprintf(&b, `{"content":"%s","role":"%s"}`+"\n", strings.Join(c, " "), []string{"user", "assistant", "tool"}[i%3])
	}
	return []byte(b.String())
}

// sortEntries orders paths component-wise, as a sorted recursive walk
// does ("a/b" before "a.b").
func sortEntries(es []model.FsEntry) {
	sort.Slice(es, func(i, j int) bool { return pathLess(es[i].Path, es[j].Path) })
}

func pathLess(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return true
		}
		if cb == '/' {
			return false
		}
		return ca < cb
	}
	return len(a) < len(b)
}
