package hf

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"pf-registry/blob"
	"pf-registry/internal/vectors"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/registrytest"
)

func post(t *testing.T, u, tok, ctype, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: HTTP %d %s", u, resp.StatusCode, b)
	}
}

// TestPullRustPushedImage replays the Rust tool's push of the fixture
// (its exact create and commit bodies) and pulls it with this backend.
func TestPullRustPushedImage(t *testing.T) {
	fx := vectors.LoadFixture(t)
	h := startHub(t, hubtest.Options{})
	post(t, h.URL()+"/api/repos/create", aliceToken, "application/json", fx.HFCreateBody)
	post(t, h.URL()+"/api/datasets/alice/sess/commit/main", aliceToken, "application/x-ndjson", fx.HFCommitBody)

	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st := registrytest.NewStore(t)
	rep, err := reg.Pull(ctx, registrytest.MustRef(t, "hf://alice/sess"), st, registry.TransferOptions{})
	if err != nil {
		t.Fatalf("pull of a Rust-pushed image: %v", err)
	}
	want := model.FromBytes([]byte(fx.ManifestJSON))
	if rep.Inspection.ImageID != want || !st.HasImage(want) || len(rep.Blobs) != len(fx.WalkOrder) {
		t.Errorf("pulled %s with %d blobs, want %s with %d", rep.Inspection.ImageID, len(rep.Blobs), want, len(fx.WalkOrder))
	}
}

// TestRustCanPullPushedImage reads an image pushed by this backend the way
// the Rust tool does (spec §9.2 pull): resolve manifest and signature, the
// first tree page only, then every blobs/sha256/…/.zst file.
func TestRustCanPullPushedImage(t *testing.T) {
	h := startHub(t, hubtest.Options{TreePageSize: 1000}) // the Hub's page size
	reg := open(t, h, aliceToken)
	ctx := context.Background()
	st, id := registrytest.SmallImage(t, 12)
	rep, err := reg.Push(ctx, st, id, registrytest.MustRef(t, "hf://alice/forrust"), registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(p string) []byte {
		req, _ := http.NewRequest(http.MethodGet, h.URL()+p, nil)
		req.Header.Set("Authorization", "Bearer "+aliceToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: HTTP %d", p, resp.StatusCode)
		}
		return b
	}
	manifest := get("/datasets/alice/forrust/resolve/main/manifest.json")
	if model.FromBytes(manifest) != id {
		t.Error("manifest.json bytes differ from the pushed image")
	}
	get("/datasets/alice/forrust/resolve/main/manifest.json.sig")
	var tree []struct{ Type, Path string }
	if err := json.Unmarshal(get("/api/datasets/alice/forrust/tree/main?recursive=true"), &tree); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range tree {
		rest, ok := strings.CutPrefix(e.Path, "blobs/sha256/")
		if e.Type != "file" || !ok || !strings.HasSuffix(rest, ".zst") {
			continue
		}
		_, hex, _ := strings.Cut(strings.TrimSuffix(rest, ".zst"), "/")
		d, err := model.ParseDigest("sha256:" + hex)
		if err != nil {
			t.Fatalf("blob path %s", e.Path)
		}
		if _, err := blob.DecodeVerified(get("/datasets/alice/forrust/resolve/main/"+e.Path), d, 1<<30); err != nil {
			t.Errorf("%s: %v", e.Path, err)
		}
		found++
	}
	if found != len(rep.Blobs) {
		t.Errorf("a Rust-style pull finds %d blobs, the image has %d", found, len(rep.Blobs))
	}
}
