package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/internal/fault"
	"pf-registry/registry"
	"pf-registry/registry/registrytest"
)

// TestCatalogRefused: a registry that refuses _catalog yields a note, not
// an error, and keeps the repository the root names.
func TestCatalogRefused(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(status)
		}))
		host := strings.TrimPrefix(srv.URL, "http://")
		reg, _ := open(t, "oci://"+host+"/x/y:v1")
		root, _ := registry.ParseRoot("oci://" + host + "/x/y")
		ls, err := reg.List(context.Background(), root, registry.ListOptions{})
		srv.Close()
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if !strings.Contains(ls.Note, "_catalog") || len(ls.Repos) != 1 || ls.Repos[0].Name != "x/y" {
			t.Fatalf("%d: %+v", status, ls)
		}
	}
}

// TestLayoutMissing: a layout directory that does not exist is "not
// found" for every read.
func TestLayoutMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	reg, r := open(t, "oci-layout:"+dir+"#v1")
	ctx := context.Background()
	if _, err := reg.Inspect(ctx, r); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("inspect: %v", err)
	}
	if ok, err := reg.Exists(ctx, r); ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	root, _ := registry.ParseRoot("oci-layout:" + dir)
	if _, err := reg.List(ctx, root, registry.ListOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("ls: %v", err)
	}
	if _, err := reg.Pull(ctx, r, registrytest.NewStore(t), registry.TransferOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("pull: %v", err)
	}
}
