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
)

// TestListAndTagPaging pages through _catalog and a tag list one entry at a
// time on a real registry.
func TestListAndTagPaging(t *testing.T) {
	ctx := context.Background()
	host := startDistribution(t)
	st, id := fixtureStore(t)
	for _, ref := range []string{"/pg/a:v1", "/pg/b:v1", "/pg/c:v1", "/pg/c:v2", "/pg/c:v3", "/other:v1"} {
		reg, r := open(t, "oci://"+host+ref)
		if _, err := reg.Push(ctx, st, id, r, registry.TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	reg, _ := open(t, "oci://"+host+"/pg/a:v1")

	root, _ := registry.ParseRoot("oci://" + host)
	var names []string
	after := ""
	for page := 0; ; page++ {
		ls, err := reg.List(ctx, root, registry.ListOptions{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls.Repos) > 2 || page > 5 {
			t.Fatalf("page %d: %+v", page, ls)
		}
		for _, e := range ls.Repos {
			names = append(names, e.Name)
			if e.Ref != "oci://"+host+"/"+e.Name {
				t.Fatalf("ref %q", e.Ref)
			}
		}
		if ls.Next == "" {
			break
		}
		after = ls.Next
	}
	if strings.Join(names, ",") != "other,pg/a,pg/b,pg/c" {
		t.Fatalf("catalog %v", names)
	}

	// A repository prefix as root keeps only what is under it.
	sub, _ := registry.ParseRoot("oci://" + host + "/pg")
	ls, err := reg.List(ctx, sub, registry.ListOptions{})
	if err != nil || len(ls.Repos) != 3 {
		t.Fatalf("under pg: %v %+v", err, ls)
	}

	repo, _ := registry.ParseRef("oci://" + host + "/pg/c")
	p1, err := reg.Tags(ctx, repo, registry.ListOptions{Limit: 2})
	if err != nil || len(p1.Tags) != 2 || p1.Tags[0].Name != "v1" || p1.Tags[1].Name != "v2" || p1.Next != "v2" {
		t.Fatalf("tags page 1: %v %+v", err, p1)
	}
	p2, err := reg.Tags(ctx, repo, registry.ListOptions{Limit: 2, After: p1.Next})
	if err != nil || len(p2.Tags) != 1 || p2.Tags[0].Name != "v3" || p2.Next != "" {
		t.Fatalf("tags page 2: %v %+v", err, p2)
	}
}

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
	if _, err := reg.Pull(ctx, r, newStore(t), registry.TransferOptions{}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("pull: %v", err)
	}
}
