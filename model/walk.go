package model

import (
	"bytes"
	"encoding/json"
	"strconv"
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
		walkFsTree(b, add)
	}
	if b, err := load(m.Cache.Manifest); err == nil {
		walkPages(b, add)
	}
	return out
}

// MetadataBlobs are the blobs the walk must read: the fs tree and the page
// manifest.
func (m *Manifest) MetadataBlobs() []Digest {
	return []Digest{m.World.FS, m.Cache.Manifest}
}

// untyped decodes a JSON document the way Rust's walk reads it, as an
// untyped value: keys are case-sensitive, a repeated key keeps its last
// value, and invalid UTF-8 or a lone surrogate makes the whole document
// unreadable. Anything else than an object yields nil.
func untyped(b []byte) map[string]json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil || checkText(b) != nil {
		return nil
	}
	return obj
}

// objects returns the elements of a JSON array that are objects, keeping
// their index (nil elements are not objects).
func objects(raw json.RawMessage) []map[string]json.RawMessage {
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil {
		return nil
	}
	out := make([]map[string]json.RawMessage, len(elems))
	for i, e := range elems {
		if e = bytes.TrimSpace(e); len(e) > 0 && e[0] == '{' {
			_ = json.Unmarshal(e, &out[i])
		}
	}
	return out
}

// stringField is obj[key] when it is a JSON string.
func stringField(obj map[string]json.RawMessage, key string) (string, bool) {
	v, ok := obj[key]
	if !ok || len(bytes.TrimSpace(v)) == 0 || bytes.TrimSpace(v)[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}

// walkFsTree is step 3 of the walk (spec §5): every entry with a string
// blob that is a valid digest, whatever is wrong with the entry otherwise.
func walkFsTree(b []byte, add func(Digest, string)) {
	t := untyped(b)
	if kind, _ := stringField(t, "kind"); kind != FsTreeKind {
		return
	}
	for i, e := range objects(t["entries"]) {
		s, ok := stringField(e, "blob")
		if !ok {
			continue
		}
		d, err := ParseDigest(s)
		if err != nil {
			continue
		}
		path, ok := stringField(e, "path")
		if !ok {
			path = "#" + strconv.Itoa(i)
		}
		add(d, "fs:"+path)
	}
}

// walkPages is step 4: K then V of every page, when they are valid digests.
func walkPages(b []byte, add func(Digest, string)) {
	for i, pg := range objects(untyped(b)["pages"]) {
		ix := strconv.Itoa(i)
		var n uint64
		if v, ok := pg["ix"]; ok && json.Unmarshal(v, &n) == nil {
			ix = strconv.FormatUint(n, 10)
		}
		for _, side := range []string{"k", "v"} {
			if s, ok := stringField(pg, side); ok {
				if d, err := ParseDigest(s); err == nil {
					add(d, "page:"+ix+"."+side)
				}
			}
		}
	}
}

// DeclaredSizes is the logical size the image declares for its nested
// blobs: an fs-tree entry's size for its blob, and a KV page's geometric
// size (n_layers × page_size_tokens × n_heads × head_dim × bytes(dtype))
// for its K and V blobs. A blob declared twice keeps the larger size. The
// engine caps decompression at these sizes.
func DeclaredSizes(m *Manifest, load func(Digest) ([]byte, error)) map[Digest]int64 {
	out := map[Digest]int64{}
	note := func(d Digest, n uint64) {
		if n <= 1<<62 {
			out[d] = max(out[d], int64(n))
		}
	}
	if b, err := load(m.World.FS); err == nil {
		t := untyped(b)
		if kind, _ := stringField(t, "kind"); kind == FsTreeKind {
			for _, e := range objects(t["entries"]) {
				s, _ := stringField(e, "blob")
				d, err := ParseDigest(s)
				var n uint64
				if err == nil && json.Unmarshal(e["size"], &n) == nil {
					note(d, n)
				}
			}
		}
	}
	if b, err := load(m.Cache.Manifest); err == nil {
		if pm, err := ParsePageManifest(b); err == nil && pageBytes(pm) > 0 {
			for _, pg := range pm.Pages {
				for _, s := range []string{pg.K, pg.V} {
					if d, err := ParseDigest(s); err == nil {
						note(d, uint64(pageBytes(pm)))
					}
				}
			}
		}
	}
	return out
}
