package benchimg

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/klauspost/compress/zstd"

	"pf-registry/model"
	"pf-registry/store"
)

func build(t *testing.T, spec Spec) (*store.Store, Stats) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Build(st, spec)
	if err != nil {
		t.Fatal(err)
	}
	return st, s
}

func TestDeterministicAndComplete(t *testing.T) {
	spec := Spec{Bytes: 24 << 20, Seed: 7, Files: 300}
	st, a := build(t, spec)
	_, b := build(t, spec)
	if a.ID != b.ID {
		t.Fatalf("same spec gave %s and %s", a.ID, b.ID)
	}
	spec.Seed = 8
	if _, c := build(t, spec); c.ID == a.ID {
		t.Fatal("another seed gave the same image")
	}
	raw, err := st.Manifest(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	load := func(d model.Digest) ([]byte, error) { return st.ReadBlob(d, model.MaxMetadataSize) }
	refs := model.Walk(m, load)
	pages := Spec{Bytes: 24 << 20, Files: 300}.Pages()
	// 8 top-level blobs (base, diff, fs, env, procs, ledger, trace, page
	// manifest), the files and both sides of every page, all distinct.
	if want := 8 + 300 + 2*pages; len(refs) != want || a.Blobs != want {
		t.Fatalf("%d reachable blobs, %d written, want %d", len(refs), a.Blobs, want)
	}
	for _, r := range refs {
		if !st.HasBlob(r.Digest) {
			t.Fatalf("%s (%s) is not in the store", r.Digest, r.Role)
		}
	}
	if a.Logical < 20<<20 || a.Logical > 26<<20 {
		t.Fatalf("logical size %d, asked for about %d", a.Logical, 24<<20)
	}
}

// TestCompressesLikeRealData checks the shape that matters for the
// benchmarks. On real f16 activations the high byte (sign, exponent) is
// skewed and the low byte nearly uniform, so an entropy coder gains a few
// percent (zstd -3: 1.08); text files compress about 4x.
func TestCompressesLikeRealData(t *testing.T) {
	page := make([]byte, PageSize)
	for _, value := range []bool{false, true} {
		kvPage(page, 1, 3, value)
		var hi, lo [256]int
		for i := 0; i < len(page); i += 2 {
			lo[page[i]]++
			hi[page[i+1]]++
		}
		n := float64(len(page) / 2)
		if h := entropy(lo[:], n); h < 7.9 {
			t.Errorf("KV page (value=%v): low byte entropy %.2f bits, want nearly random (>= 7.9)", value, h)
		}
		bound := 16 / (entropy(lo[:], n) + entropy(hi[:], n))
		if bound < 1.04 || bound > 1.2 {
			t.Errorf("KV page (value=%v): order-0 entropy bound %.3fx, want 1.04-1.2 like real f16 activations", value, bound)
		}
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	var text []byte
	for _, f := range genFiles(Spec{Seed: 1, Files: 60, FileMin: 1 << 10, FileMax: 20 << 10}) {
		text = append(text, f.data...)
	}
	if r := float64(len(text)) / float64(len(enc.EncodeAll(text, nil))); r < 2.5 || r > 8 {
		t.Errorf("text files compress %.2fx, want 2.5-8", r)
	}
}

func entropy(counts []int, n float64) float64 {
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func TestF16(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {0.1, 0x2e66}, {65504, 0x7bff}, {1e6, 0x7c00},
		{6.1035156e-05, 0x0400}, {5.9604645e-08, 0x0001}, {1e-9, 0}, {1.0009766, 0x3c01}, {1.00048828125, 0x3c00},
	} {
		if got := f16(c.in); got != c.want {
			t.Errorf("f16(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	// Values stay finite and near their scale (no runaway rotation).
	page := make([]byte, PageSize)
	kvPage(page, 2, 100, false)
	for i := 0; i < len(page); i += 2 {
		h := binary.LittleEndian.Uint16(page[i:])
		if h&0x7c00 == 0x7c00 {
			t.Fatalf("non-finite f16 at %d", i)
		}
	}
	if math.IsNaN(float64(gauss(^uint64(0)))) {
		t.Fatal("gauss overflow")
	}
}

func TestPathOrder(t *testing.T) {
	if !pathLess("a/b", "a.b") || pathLess("a.b", "a/b") || !pathLess("a", "a/b") || !pathLess("src/x", "src0") {
		t.Fatal("component-wise order broken")
	}
}

func BenchmarkKVPage(b *testing.B) {
	page := make([]byte, PageSize)
	b.SetBytes(PageSize)
	for i := 0; b.Loop(); i++ {
		kvPage(page, 1, i, i%2 == 1)
	}
}
