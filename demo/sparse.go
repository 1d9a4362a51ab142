package demo

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"pf-registry/model"
	"pf-registry/signing"
	"pf-registry/store"
)

// Sparse pages: a long run of one byte value (stored as zstd RLE blocks)
// and a random tail (one raw block) that makes every page unique.
const (
	sparseFill = 0x3c // bf16 0x3c3c ≈ 0.0115: small, non-zero activations
	sparseTail = 16 << 10
	rleBlock   = 128 << 10 // zstd's largest block
)

// SparseImage writes a signed image of at least logicalBytes straight into
// a file:// registry directory, in well under a second and with little
// disk: its KV pages (2 MiB each) are stored as zstd RLE blocks plus a
// 16 KiB random tail, and their digests are computed from a hash state
// saved after the common run. The rest of the image is a normal small
// demo image. It returns the image ID and the total stored size of the
// pages.
func SparseImage(dir string, logicalBytes int64, key signing.Key) (model.Digest, int64, error) {
	st, err := store.Open(filepath.Join(dir, ".build-store"))
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(st.Root())
	spec := ImageSpec{Seed: 77, Files: 16, Messages: 30, Created: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Layers: 16, Tokens: 256, Heads: 8, HeadDim: 32}
	id, err := Build(st, spec)
	if err != nil {
		return "", 0, err
	}
	raw, err := st.Manifest(id)
	if err != nil {
		return "", 0, err
	}
	m, err := model.ParseManifest(raw)
	if err != nil {
		return "", 0, err
	}
	writeBlob := func(d model.Digest, stored []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(d.ShardPath()))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, stored, 0o644)
	}
	pm, pageStored, err := sparsePages(spec, logicalBytes, writeBlob)
	if err != nil {
		return "", 0, err
	}
	if m.Cache.Manifest, err = st.PutBytes(pm.Encode()); err != nil {
		return "", 0, err
	}
	// Every other blob is copied from the build store (same stored form).
	for _, r := range m.TopLevel() {
		if err := copyStored(st, r.Digest, writeBlob); err != nil {
			return "", 0, err
		}
	}
	tree, err := treeOf(st, m)
	if err != nil {
		return "", 0, err
	}
	for _, e := range tree.Entries {
		if e.Blob != "" {
			if err := copyStored(st, model.Digest(e.Blob), writeBlob); err != nil {
				return "", 0, err
			}
		}
	}
	out := m.Encode()
	if err := os.WriteFile(filepath.Join(dir, "manifest.json.sig"), signing.SignBytes(out, key), 0o644); err != nil {
		return "", 0, err
	}
	return model.FromBytes(out), pageStored, os.WriteFile(filepath.Join(dir, "manifest.json"), out, 0o644)
}

// treeOf reads the fs tree of an image in a store.
func treeOf(st *store.Store, m *model.Manifest) (*model.FsTree, error) {
	b, err := st.ReadBlob(m.World.FS, model.MaxMetadataSize)
	if err != nil {
		return nil, err
	}
	return model.ParseFsTree(b)
}

func copyStored(st *store.Store, d model.Digest, write func(model.Digest, []byte) error) error {
	b, err := os.ReadFile(st.BlobPath(d))
	if err != nil {
		return err
	}
	return write(d, b)
}

// sparsePages writes the K and V blobs of enough pages to reach
// logicalBytes and returns the page manifest and their stored size.
func sparsePages(spec ImageSpec, logicalBytes int64, write func(model.Digest, []byte) error) (*model.PageManifest, int64, error) {
	spec.defaults()
	size := spec.PageBytes()
	n := int((logicalBytes + 2*size - 1) / (2 * size))
	pm := &model.PageManifest{Layout: model.CacheLayoutV1, PageSizeTokens: uint32(spec.Tokens), NLayers: uint32(spec.Layers),
		NHeads: uint32(spec.Heads), HeadDim: uint32(spec.HeadDim), Dtype: "bf16"}
	seq := model.LogicalSeq{ID: "seq-0", FillInLastPage: uint32(spec.Tokens / 2)}
	h := sha256.New()
	run := make([]byte, rleBlock)
	for i := range run {
		run[i] = sparseFill
	}
	for left := size - sparseTail; left > 0; left -= rleBlock {
		h.Write(run[:min(left, rleBlock)])
	}
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, 0, err
	}
	frameHead := rleFrame(size - sparseTail)
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5a55))
	tail := make([]byte, sparseTail)
	var stored int64
	for ix := 0; ix < n; ix++ {
		var kv [2]model.Digest
		for side := range kv {
			for i := 0; i < len(tail); i += 8 {
				binary.LittleEndian.PutUint64(tail[i:], rng.Uint64())
			}
			ph := sha256.New()
			if err := ph.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
				return nil, 0, err
			}
			ph.Write(tail)
			kv[side] = model.FromHash(ph)
			frame := append(append(append([]byte{}, frameHead...), blockHeader(true, 0, sparseTail)...), tail...)
			if err := write(kv[side], frame); err != nil {
				return nil, 0, fmt.Errorf("sparse page %d: %w", ix, err)
			}
			stored += int64(len(frame))
		}
		pm.Pages = append(pm.Pages, model.Page{Ix: uint32(ix), K: string(kv[0]), V: string(kv[1])})
		seq.PageIxs = append(seq.PageIxs, uint32(ix))
	}
	pm.LogicalSeqs = []model.LogicalSeq{seq}
	return pm, stored, nil
}

// rleFrame is a zstd frame header (no content size, no checksum, 128 KiB
// window) followed by RLE blocks for n bytes of sparseFill; the caller
// appends the last block.
func rleFrame(n int64) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38}
	for ; n > 0; n -= rleBlock {
		b = append(append(b, blockHeader(false, 1, min(n, rleBlock))...), sparseFill)
	}
	return b
}

// blockHeader is a zstd block header: last flag, type (0 raw, 1 RLE) and
// size.
func blockHeader(last bool, typ int, size int64) []byte {
	v := uint32(size)<<3 | uint32(typ)<<1
	if last {
		v |= 1
	}
	return []byte{byte(v), byte(v >> 8), byte(v >> 16)}
}
