package model_test

import (
	"errors"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/internal/vectors"
	"pf-registry/model"
)

// fixtureManifest is the spec's fixture manifest bytes.
func fixtureManifest(t *testing.T) string {
	t.Helper()
	return vectors.LoadFixture(t).ManifestJSON
}

// TestManifestDuplicateKeysRejected: Rust rejects a duplicate field of a
// typed struct, Go's decoder keeps the last one; the two tools must not
// read different values out of the same signed bytes.
func TestManifestDuplicateKeysRejected(t *testing.T) {
	raw := fixtureManifest(t)
	cases := map[string]string{
		"top level":      strings.Replace(raw, `{"schema_version":1,`, `{"schema_version":1,"schema_version":1,`, 1),
		"agent.kind":     strings.Replace(raw, `"kind":"claude-code"`, `"kind":"claude-code","kind":"other"`, 1),
		"world.fs":       strings.Replace(raw, `"world":{`, `"world":{"fs":"sha256:`+strings.Repeat("0", 64)+`",`, 1),
		"created_at":     strings.Replace(raw, `"parents":[]`, `"parents":[],"created_at":"2030-01-01T00:00:00Z"`, 1),
		"unknown key":    strings.Replace(raw, `"parents":[]`, `"parents":[],"x":1,"x":2`, 1),
		"escaped equals": strings.Replace(raw, `"parents":[]`, `"parents":[],"p\u0061rents":[]`, 1),
	}
	for name, doc := range cases {
		if doc == raw {
			t.Fatalf("%s: replacement did not apply", name)
		}
		_, err := model.ParseManifest([]byte(doc))
		if !errors.Is(err, model.ErrManifest) || !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("%s: ParseManifest error = %v, want a duplicate-key manifest error", name, err)
		}
	}
	if _, err := model.ParseManifest([]byte(raw)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
}

// TestManifestInvalidUTF8Rejected: Rust refuses invalid UTF-8 and lone
// surrogate escapes; Go would silently turn them into U+FFFD.
func TestManifestInvalidUTF8Rejected(t *testing.T) {
	raw := fixtureManifest(t)
	cases := map[string]string{
		"raw byte":        strings.Replace(raw, `"kind":"claude-code"`, "\"kind\":\"claude\xff-code\"", 1),
		"lone surrogate":  strings.Replace(raw, `"kind":"claude-code"`, `"kind":"claude\ud800-code"`, 1),
		"reversed pair":   strings.Replace(raw, `"kind":"claude-code"`, `"kind":"\udc00\ud800"`, 1),
		"in unknown key":  strings.Replace(raw, `"parents":[]`, "\"parents\":[],\"n\":\"\xc3\"", 1),
		"overlong encode": strings.Replace(raw, `"kind":"claude-code"`, "\"kind\":\"\xc0\xaf\"", 1),
	}
	for name, doc := range cases {
		_, err := model.ParseManifest([]byte(doc))
		if !errors.Is(err, model.ErrManifest) {
			t.Errorf("%s: ParseManifest error = %v, want a manifest error", name, err)
		}
	}
	// A valid surrogate pair and non-ASCII text are fine.
	ok := strings.Replace(raw, `"kind":"claude-code"`, `"kind":"\ud83d\ude00 café"`, 1)
	m, err := model.ParseManifest([]byte(ok))
	if err != nil || m.Agent.Kind != "😀 café" {
		t.Fatalf("valid text: %v %q", err, m.Agent.Kind)
	}
}

// TestFsTreeAndPageManifestDuplicatesRejected: the typed layer documents
// follow the same rule as the manifest.
func TestFsTreeAndPageManifestDuplicatesRejected(t *testing.T) {
	d := `"sha256:` + strings.Repeat("a", 64) + `"`
	trees := []string{
		`{"kind":"fs.tree.v1","kind":"fs.tree.v1","entries":[]}`,
		`{"kind":"fs.tree.v1","entries":[{"path":"a","path":"b","mode":"0644","size":1,"kind":"file","blob":` + d + `}]}`,
		"{\"kind\":\"fs.tree.v1\",\"entries\":[{\"path\":\"\xff\",\"mode\":\"0644\",\"size\":1,\"kind\":\"file\",\"blob\":" + d + "}]}",
	}
	for _, doc := range trees {
		if _, err := model.ParseFsTree([]byte(doc)); err == nil {
			t.Errorf("ParseFsTree accepted %q", doc)
		}
	}
	pages := []string{
		`{"layout":"paged-batchinvariant-v1","pages":[{"ix":0,"k":` + d + `,"k":` + d + `,"v":` + d + `}]}`,
		`{"layout":"a","layout":"b","pages":[]}`,
	}
	for _, doc := range pages {
		if _, err := model.ParsePageManifest([]byte(doc)); err == nil {
			t.Errorf("ParsePageManifest accepted %q", doc)
		}
	}
}

// TestWalkSkipsOnlyTheBadEntry: an fs-tree entry with a field of the wrong
// type is skipped alone (Rust reads the tree as untyped JSON); the blobs of
// every other entry stay in the walk.
func TestWalkSkipsOnlyTheBadEntry(t *testing.T) {
	hex := func(c string) model.Digest { return model.Digest("sha256:" + strings.Repeat(c, 64)) }
	tree := `{"kind":"fs.tree.v1","entries":[` +
		`{"path":"a","mode":"0644","size":1,"kind":"file","blob":"` + string(hex("a")) + `"},` +
		`{"path":7,"mode":"0644","size":"x","kind":"file","blob":"` + string(hex("b")) + `"},` +
		`{"path":"c","mode":"0644","size":1,"kind":"file","blob":42},` +
		`"not an object",` +
		`{"path":"d","mode":"0644","size":1,"kind":"file","blob":"` + string(hex("d")) + `"}]}`
	pages := `{"pages":[{"ix":"zero","k":"` + string(hex("e")) + `","v":"` + string(hex("f")) + `"},7,{"ix":1,"k":1,"v":"` + string(hex("1")) + `"}]}`
	m := &model.Manifest{}
	m.World.FS, m.Cache.Manifest = hex("2"), hex("3")
	got := model.Walk(m, func(d model.Digest) ([]byte, error) {
		switch d {
		case m.World.FS:
			return []byte(tree), nil
		case m.Cache.Manifest:
			return []byte(pages), nil
		}
		return nil, fault.ErrNotFound
	})
	want := map[model.Digest]string{hex("a"): "fs:a", hex("b"): "", hex("d"): "fs:d", hex("e"): "page:0.k", hex("f"): "page:0.v", hex("1"): "page:1.v"}
	found := map[model.Digest]bool{}
	for _, r := range got {
		found[r.Digest] = true
		if role, ok := want[r.Digest]; ok && role != "" && r.Role != role {
			t.Errorf("%s: role %q, want %q", r.Digest.Short(), r.Role, role)
		}
	}
	for d := range want {
		if !found[d] {
			t.Errorf("walk dropped %s: %v", d.Short(), got)
		}
	}
}

// TestManifestNullFieldRejected: Go would read null as the zero value;
// Rust has no optional manifest field and refuses the document.
func TestManifestNullFieldRejected(t *testing.T) {
	raw := fixtureManifest(t)
	for _, doc := range []string{
		strings.Replace(raw, `"kind":"claude-code"`, `"kind":null`, 1),
		strings.Replace(raw, `"parents":[]`, `"parents":null`, 1),
		strings.Replace(raw, `"schema_version":1`, `"schema_version":null`, 1),
	} {
		if _, err := model.ParseManifest([]byte(doc)); !errors.Is(err, model.ErrManifest) {
			t.Errorf("accepted a null field: %v", err)
		}
	}
}

// TestCheckTypedDepth: serde_json refuses nesting beyond 128 levels.
func TestCheckTypedDepth(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(`{"x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`)
	}
	if err := model.CheckTyped(deep(128)); err != nil {
		t.Fatalf("128 levels: %v", err)
	}
	if err := model.CheckTyped(deep(129)); err == nil {
		t.Fatal("129 levels accepted")
	}
}
