package model

import (
	"encoding/json"
	"fmt"
)

// FsTreeKind is the kind of the world.fs document.
const FsTreeKind = "fs.tree.v1"

// FsTree is the world.fs blob (spec §4.1).
type FsTree struct {
	Kind    string    `json:"kind"`
	Entries []FsEntry `json:"entries"`
}

// FsEntry is one captured path.
type FsEntry struct {
	Path       string `json:"path"`
	Mode       string `json:"mode"`
	Size       uint64 `json:"size"`
	Kind       string `json:"kind"` // file, dir, symlink
	Blob       string `json:"blob,omitempty"`
	LinkTarget string `json:"link_target,omitempty"`
}

// ParseFsTree decodes an fs.tree.v1 document, refusing duplicate keys and
// invalid text as Rust does (CheckTyped).
func ParseFsTree(b []byte) (*FsTree, error) {
	var t FsTree
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("fs tree: %w", err)
	}
	if err := CheckTyped(b, "kind", "entries", "path", "mode", "size", "blob", "link_target"); err != nil {
		return nil, fmt.Errorf("fs tree: %w", err)
	}
	if t.Kind != FsTreeKind {
		return nil, fmt.Errorf("fs tree: kind is %q, not %s", t.Kind, FsTreeKind)
	}
	return &t, nil
}

// Encode renders the canonical (struct order) form Rust writes.
func (t *FsTree) Encode() []byte {
	b := []byte(`{"kind":`)
	b = AppendJSONString(b, t.Kind)
	b = append(b, `,"entries":[`...)
	for i, e := range t.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"path":`...)
		b = AppendJSONString(b, e.Path)
		b = append(b, `,"mode":`...)
		b = AppendJSONString(b, e.Mode)
		b = append(b, `,"size":`...)
		b = AppendUint(b, e.Size)
		b = append(b, `,"kind":`...)
		b = AppendJSONString(b, e.Kind)
		if e.Blob != "" {
			b = append(b, `,"blob":`...)
			b = AppendJSONString(b, e.Blob)
		}
		if e.LinkTarget != "" {
			b = append(b, `,"link_target":`...)
			b = AppendJSONString(b, e.LinkTarget)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// PageManifest is the cache.manifest blob (spec §4.2). Readers key by
// name and tolerate missing metadata; only pages matter to the registry.
type PageManifest struct {
	Layout         string         `json:"layout"`
	PageSizeTokens uint32         `json:"page_size_tokens"`
	NLayers        uint32         `json:"n_layers"`
	NHeads         uint32         `json:"n_heads"`
	HeadDim        uint32         `json:"head_dim"`
	Dtype          string         `json:"dtype"`
	Pages          []Page         `json:"pages"`
	LogicalSeqs    []LogicalSeq   `json:"logical_seqs"`
	Extra          map[string]any `json:"-"`
}

// Page is one KV page: a K blob and a V blob.
type Page struct {
	Ix uint32 `json:"ix"`
	K  string `json:"k"`
	V  string `json:"v"`
}

// LogicalSeq maps a sequence onto pages.
type LogicalSeq struct {
	ID             string   `json:"id"`
	PageIxs        []uint32 `json:"page_ixs"`
	FillInLastPage uint32   `json:"fill_in_last_page"`
}

// pageManifestFields are the JSON names of PageManifest and its parts.
var pageManifestFields = []string{"layout", "page_size_tokens", "n_layers", "n_heads", "head_dim", "dtype",
	"pages", "logical_seqs", "ix", "k", "v", "id", "page_ixs", "fill_in_last_page"}

// ParsePageManifest decodes a page manifest leniently (missing metadata is
// fine) but, like ParseFsTree, refuses what Rust's typed parse refuses.
func ParsePageManifest(b []byte) (*PageManifest, error) {
	var p PageManifest
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("page manifest: %w", err)
	}
	if err := CheckTyped(b, pageManifestFields...); err != nil {
		return nil, fmt.Errorf("page manifest: %w", err)
	}
	return &p, nil
}

// DtypeBytes is the element size of a dtype (0 if unknown).
func DtypeBytes(dtype string) int {
	switch dtype {
	case "bf16", "f16":
		return 2
	case "f32":
		return 4
	case "fp8e4m3":
		return 1
	}
	return 0
}

// Encode renders the typed form in struct order (what the cache crate writes).
func (p *PageManifest) Encode() []byte {
	b := []byte(`{"layout":`)
	b = AppendJSONString(b, p.Layout)
	for _, f := range []struct {
		k string
		v uint32
	}{{"page_size_tokens", p.PageSizeTokens}, {"n_layers", p.NLayers}, {"n_heads", p.NHeads}, {"head_dim", p.HeadDim}} {
		b = append(b, `,"`+f.k+`":`...)
		b = AppendUint(b, uint64(f.v))
	}
	b = append(b, `,"dtype":`...)
	b = AppendJSONString(b, p.Dtype)
	b = append(b, `,"pages":[`...)
	for i, pg := range p.Pages {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ix":`...)
		b = AppendUint(b, uint64(pg.Ix))
		b = append(b, `,"k":`...)
		b = AppendJSONString(b, pg.K)
		b = append(b, `,"v":`...)
		b = AppendJSONString(b, pg.V)
		b = append(b, '}')
	}
	b = append(b, `],"logical_seqs":[`...)
	for i, s := range p.LogicalSeqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = AppendJSONString(b, s.ID)
		b = append(b, `,"page_ixs":[`...)
		for j, ix := range s.PageIxs {
			if j > 0 {
				b = append(b, ',')
			}
			b = AppendUint(b, uint64(ix))
		}
		b = append(b, `],"fill_in_last_page":`...)
		b = AppendUint(b, uint64(s.FillInLastPage))
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
