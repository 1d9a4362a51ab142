package model_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"pf-registry/internal/vectors"
	"pf-registry/model"
)

func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), "sha256:", "", "sha256:" + strings.Repeat("g", 64), "SHA256:" + strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := model.ParseDigest(s)
		if err != nil {
			if d != "" {
				t.Fatalf("%q: digest %q with error %v", s, d, err)
			}
			return
		}
		if string(d) != s || len(s) != 71 || d.Validate() != nil || len(d.Hex()) != 64 {
			t.Fatalf("%q parsed as %q", s, d)
		}
		if again, err := model.FromHex(d.Hex()); err != nil || again != d {
			t.Fatalf("%q: FromHex(Hex) = %q, %v", s, again, err)
		}
		if d.IsLower() {
			if back, err := model.DigestFromShardPath(d.ShardPath()); err != nil || back != d {
				t.Fatalf("%q: shard path %q does not map back (%v)", s, d.ShardPath(), err)
			}
		} else if _, err := model.DigestFromShardPath(d.ShardPath()); err == nil {
			t.Fatalf("%q: uppercase shard path accepted", s)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	fx := vectors.LoadFixture(f)
	f.Add([]byte(fx.ManifestJSON))
	f.Add([]byte(strings.Replace(fx.ManifestJSON, `"parents":[]`, `"parents":["sha256:`+strings.Repeat("b", 64)+`"]`, 1)))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schema_version":1,"schema_version":2}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := model.ParseManifest(raw)
		if err != nil {
			return
		}
		if !utf8.Valid(raw) || model.CheckTyped(raw) != nil {
			t.Fatalf("accepted what Rust refuses: %q", raw)
		}
		enc := m.Encode()
		m2, err := model.ParseManifest(enc)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%q", err, enc)
		}
		if !bytes.Equal(m2.Encode(), enc) || !model.IsCanonical(enc) {
			t.Fatalf("canonical form is not stable:\n%q\n%q", enc, m2.Encode())
		}
		if model.IsCanonical(raw) && !bytes.Equal(enc, raw) {
			t.Fatalf("canonical input re-encodes differently:\n%q\n%q", raw, enc)
		}
		_ = m.Validate()
		_ = m.Warnings()
	})
}

// walkOf runs the blob walk with doc as the fs tree and the page manifest.
func walkOf(t *testing.T, doc []byte) {
	m := &model.Manifest{}
	m.World.FS = model.Digest("sha256:" + strings.Repeat("1", 64))
	m.Cache.Manifest = model.Digest("sha256:" + strings.Repeat("2", 64))
	for _, r := range model.Walk(m, func(model.Digest) ([]byte, error) { return doc, nil }) {
		if r.Digest.Validate() != nil && r.Digest != "" {
			t.Fatalf("walk yielded an invalid nested digest %q", r.Digest)
		}
	}
}

func FuzzParseFsTree(f *testing.F) {
	d := `"sha256:` + strings.Repeat("a", 64) + `"`
	f.Add([]byte(`{"kind":"fs.tree.v1","entries":[{"path":"a","mode":"0644","size":3,"kind":"file","blob":` + d + `},{"path":"l","mode":"0777","size":1,"kind":"symlink","blob":` + d + `,"link_target":"a"},{"path":"d","mode":"0755","size":0,"kind":"dir"}]}`))
	f.Add([]byte(`{"kind":"fs.tree.v1","entries":[{"path":7,"blob":` + d + `},"x"]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		walkOf(t, doc)
		tree, err := model.ParseFsTree(doc)
		if err != nil {
			return
		}
		enc := tree.Encode()
		again, err := model.ParseFsTree(enc)
		if err != nil {
			t.Fatalf("encoded tree does not parse: %v\n%q", err, enc)
		}
		if !bytes.Equal(again.Encode(), enc) {
			t.Fatalf("tree encoding is not stable:\n%q\n%q", enc, again.Encode())
		}
	})
}

func FuzzParsePageManifest(f *testing.F) {
	d := `"sha256:` + strings.Repeat("b", 64) + `"`
	f.Add([]byte(`{"layout":"paged-batchinvariant-v1","page_size_tokens":64,"n_layers":4,"n_heads":8,"head_dim":64,"dtype":"bf16","pages":[{"ix":0,"k":` + d + `,"v":` + d + `}],"logical_seqs":[{"id":"s","page_ixs":[0],"fill_in_last_page":3}]}`))
	f.Add([]byte(`{"layout":"paged-batchinvariant-v1","note":"empty","pages":[]}`))
	f.Add([]byte(`{"pages":[7,{"ix":"x","k":1,"v":` + d + `}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		walkOf(t, doc)
		pm, err := model.ParsePageManifest(doc)
		if err != nil {
			return
		}
		enc := pm.Encode()
		again, err := model.ParsePageManifest(enc)
		if err != nil {
			t.Fatalf("encoded page manifest does not parse: %v\n%q", err, enc)
		}
		if !bytes.Equal(again.Encode(), enc) {
			t.Fatalf("page manifest encoding is not stable:\n%q\n%q", enc, again.Encode())
		}
		_ = model.DtypeBytes(pm.Dtype)
	})
}
