package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
)

// CacheSummary describes a KV cache page manifest without fetching any
// page: geometry, how many pages and tokens it holds, and their size.
type CacheSummary struct {
	Layout string `json:"layout"`
	// Empty is the manifest the pf CLI writes when it captured no cache.
	Empty          bool   `json:"empty"`
	Note           string `json:"note,omitempty"`
	Layers         uint32 `json:"n_layers"`
	Heads          uint32 `json:"n_heads"`
	HeadDim        uint32 `json:"head_dim"`
	Dtype          string `json:"dtype"`
	PageSizeTokens uint32 `json:"page_size_tokens"`
	// PageBytes is the size of one K or V page blob, -1 when the geometry
	// does not tell (unknown dtype, overflow).
	PageBytes  int64      `json:"page_bytes"`
	Pages      int        `json:"pages"`
	TokensHeld uint64     `json:"tokens_held"`
	Bytes      int64      `json:"bytes"` // all K and V pages, -1 when unknown
	Sequences  []CacheSeq `json:"sequences"`
}

// CacheSeq is one logical sequence of the cache.
type CacheSeq struct {
	ID     string `json:"id"`
	Pages  int    `json:"pages"`
	Tokens uint64 `json:"tokens"`
}

// SummarizeCache decodes a page manifest (typed, untyped or minimal form,
// spec §4.2) into a summary.
func SummarizeCache(b []byte) (*CacheSummary, error) {
	if err := checkSize("page manifest", b); err != nil {
		return nil, err
	}
	var w struct {
		PageManifest
		Note          json.RawMessage `json:"note"`
		PageSizeBytes int64           `json:"page_size_bytes"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("page manifest: %v", err)
	}
	p := &w.PageManifest
	s := &CacheSummary{Layout: p.Layout, Note: jsonString(w.Note), Layers: p.NLayers, Heads: p.NHeads,
		HeadDim: p.HeadDim, Dtype: p.Dtype, PageSizeTokens: p.PageSizeTokens, Pages: len(p.Pages),
		Sequences: []CacheSeq{}}
	s.Empty = len(p.Pages) == 0 && p.NLayers == 0 && p.NHeads == 0 && p.HeadDim == 0
	s.PageBytes = pageBytes(p)
	if w.PageSizeBytes > 0 && s.PageBytes <= 0 {
		s.PageBytes = w.PageSizeBytes
	}
	s.Bytes = -1
	if s.PageBytes >= 0 {
		if hi, lo := bits.Mul64(uint64(s.PageBytes), 2*uint64(len(p.Pages))); hi == 0 && lo <= math.MaxInt64 {
			s.Bytes = int64(lo)
		}
	}
	for _, q := range p.LogicalSeqs {
		cs := CacheSeq{ID: q.ID, Pages: len(q.PageIxs), Tokens: seqTokens(q, p.PageSizeTokens)}
		s.TokensHeld = satAdd(s.TokensHeld, cs.Tokens)
		s.Sequences = append(s.Sequences, cs)
	}
	return s, nil
}

// pageBytes is layers × tokens × heads × dim × dtype size, -1 when unknown
// or overflowing.
func pageBytes(p *PageManifest) int64 {
	n := uint64(DtypeBytes(p.Dtype))
	if n == 0 {
		return -1
	}
	for _, f := range []uint32{p.NLayers, p.PageSizeTokens, p.NHeads, p.HeadDim} {
		hi, lo := bits.Mul64(n, uint64(f))
		if hi != 0 || lo > math.MaxInt64 {
			return -1
		}
		n = lo
	}
	return int64(n)
}

// seqTokens: every page but the last is full; the last holds
// fill_in_last_page tokens.
func seqTokens(q LogicalSeq, pageSize uint32) uint64 {
	if len(q.PageIxs) == 0 {
		return 0
	}
	fill := min(q.FillInLastPage, pageSize)
	hi, lo := bits.Mul64(uint64(len(q.PageIxs)-1), uint64(pageSize))
	if hi != 0 {
		return math.MaxUint64
	}
	return satAdd(lo, uint64(fill))
}

func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}
