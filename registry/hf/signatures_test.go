package hf

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/hf/hubtest"
	"pf-registry/registry/signtest"
)

// hubFiles reads an image's files with plain HTTP and replaces them
// through the hub's storage, around the backend.
type hubFiles struct{ h *hubtest.Hub }

func (f hubFiles) get(t testing.TB, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.h.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return b
}

func (f hubFiles) Names(t testing.TB, ref registry.Ref) []string {
	var items []struct{ Type, Path string }
	if err := json.Unmarshal(f.get(t, "/api/datasets/"+ref.User+"/"+ref.Repo+"/tree/"+ref.HFRevision()+"?recursive=false"), &items); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Type == "file" {
			out = append(out, it.Path)
		}
	}
	return out
}

func (f hubFiles) Read(t testing.TB, ref registry.Ref, name string) []byte {
	return f.get(t, "/datasets/"+ref.User+"/"+ref.Repo+"/resolve/"+ref.HFRevision()+"/"+name)
}

func (f hubFiles) Write(t testing.TB, ref registry.Ref, name string, data []byte) registry.Ref {
	if err := f.h.WriteFile("datasets", ref.User+"/"+ref.Repo, ref.HFRevision(), name, data, false); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestSignatures(t *testing.T) {
	// One tree page, so that Names reads a whole directory in one request
	// (the backend's own listings follow pages; other tests page at 4).
	h := startHub(t, hubtest.Options{TreePageSize: 1000})
	open(t, h, aliceToken) // the environment every Open below reads
	var n atomic.Int64
	signtest.Run(t, signtest.Harness{
		Open: signtest.Opener("hf"),
		NewRef: func(t testing.TB) registry.Ref {
			return ref(t, "hf://alice/sig-"+strconv.FormatInt(n.Add(1), 10))
		},
		Files: hubFiles{h},
	})
}
