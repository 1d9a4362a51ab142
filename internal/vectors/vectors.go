// Package vectors loads the spec's test vectors (testdata/test-vectors.json)
// and locates the fixture image, for tests in every package.
package vectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the repository root (found from this file's location).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// FixtureDir is the fixture image in the file:// layout.
func FixtureDir() string { return filepath.Join(Root(), "testdata", "file-registry-example") }

// CopyFixture copies the fixture image into a fresh temp dir, so a test
// may tamper with it, and returns that directory.
func CopyFixture(t testing.TB) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "img")
	if err := os.CopyFS(dst, os.DirFS(FixtureDir())); err != nil {
		t.Fatalf("copy fixture: %v", err)
	}
	return dst
}

// Load decodes one top-level section of the vectors into v.
func Load(t testing.TB, section string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), "testdata", "test-vectors.json"))
	if err != nil {
		t.Fatalf("test vectors: %v", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("test vectors: %v", err)
	}
	raw, ok := all[section]
	if !ok {
		t.Fatalf("test vectors: no section %q", section)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("test vectors %s: %v", section, err)
	}
}

// Fixture is the "fixture" section.
type Fixture struct {
	ImageCID          string `json:"image_cid"`
	ManifestJSON      string `json:"manifest_json_utf8"`
	ManifestSigJSON   string `json:"manifest_json_sig_utf8"`
	OCIManifest       string `json:"oci_manifest_utf8"`
	OCIManifestDigest string `json:"oci_manifest_digest"`
	WalkOrder         []struct {
		Digest       string `json:"digest"`
		Role         string `json:"role"`
		Path         string `json:"path"`
		LogicalSize  int64  `json:"logical_size"`
		StoredSize   int64  `json:"stored_size"`
		StoredSHA256 string `json:"stored_sha256"`
	} `json:"walk_order"`
	S3Keys        []string `json:"s3_keys_for_prefix_alice_sess"`
	IPFSLinkNames []string `json:"ipfs_link_names_in_order"`
	HFCreateBody  string   `json:"hf_create_repo_body_utf8"`
	HFCommitBody  string   `json:"hf_commit_body_utf8"`
}

// LoadFixture returns the fixture facts.
func LoadFixture(t testing.TB) Fixture {
	var f Fixture
	Load(t, "fixture", &f)
	return f
}
