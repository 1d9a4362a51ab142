package model

import (
	"encoding/json"
	"fmt"
)

// BlobRef is one blob of an image with the role that reaches it:
// "model.base" … "trace.messages" for the top level, "fs:<path>" for file
// and symlink contents, "page:<ix>.k" / "page:<ix>.v" for KV pages.
type BlobRef struct {
	Digest Digest `json:"digest"`
	Role   string `json:"role"`
}

// MaxMetadataSize bounds the fs tree and page manifest documents the walk
// loads into memory.
const MaxMetadataSize = 256 << 20

// Walk lists the blobs of an image in Rust's order (spec §5): the eight
// top-level digests verbatim (deduplicated by string), then valid digests
// from the fs tree entries, then K and V of each page. load returns the
// logical bytes of a blob; a failing load or unparsable document just
// yields fewer digests, as in Rust.
func Walk(m *Manifest, load func(Digest) ([]byte, error)) []BlobRef {
	seen := map[Digest]bool{}
	var out []BlobRef
	add := func(d Digest, role string) {
		if !seen[d] {
			seen[d] = true
			out = append(out, BlobRef{d, role})
		}
	}
	for _, r := range m.TopLevel() {
		add(r.Digest, r.Role)
	}
	if b, err := load(m.World.FS); err == nil {
		var t struct {
			Kind    string `json:"kind"`
			Entries []struct {
				Path string `json:"path"`
				Blob any    `json:"blob"`
			} `json:"entries"`
		}
		if json.Unmarshal(b, &t) == nil && t.Kind == FsTreeKind {
			for _, e := range t.Entries {
				if s, ok := e.Blob.(string); ok {
					if d, err := ParseDigest(s); err == nil {
						add(d, "fs:"+e.Path)
					}
				}
			}
		}
	}
	if b, err := load(m.Cache.Manifest); err == nil {
		var p struct {
			Pages []struct {
				Ix any `json:"ix"`
				K  any `json:"k"`
				V  any `json:"v"`
			} `json:"pages"`
		}
		if json.Unmarshal(b, &p) == nil {
			for i, pg := range p.Pages {
				ix := fmt.Sprint(i)
				if n, ok := pg.Ix.(float64); ok {
					ix = fmt.Sprint(uint64(n))
				}
				for _, kv := range []struct {
					v    any
					side string
				}{{pg.K, "k"}, {pg.V, "v"}} {
					if s, ok := kv.v.(string); ok {
						if d, err := ParseDigest(s); err == nil {
							add(d, "page:"+ix+"."+kv.side)
						}
					}
				}
			}
		}
	}
	return out
}

// MetadataBlobs are the blobs the walk must read: the fs tree and the page
// manifest.
func (m *Manifest) MetadataBlobs() []Digest {
	return []Digest{m.World.FS, m.Cache.Manifest}
}
