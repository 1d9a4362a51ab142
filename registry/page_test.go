package registry_test

import (
	"strings"
	"testing"

	"pf-registry/registry"
)

func TestPage(t *testing.T) {
	all := []string{"a", "b", "c", "d"}
	id := func(s string) string { return s }
	for _, c := range []struct {
		opt  registry.ListOptions
		want string
		next string
	}{
		{registry.ListOptions{}, "abcd", ""},
		{registry.ListOptions{Limit: 3}, "abc", "c"},
		{registry.ListOptions{Limit: 3, After: "c"}, "d", ""},
		{registry.ListOptions{After: "a"}, "bcd", ""},
		{registry.ListOptions{After: "zz"}, "", ""},
	} {
		got, next := registry.Page(all, c.opt, id)
		names, nnext := registry.PageNames(all, c.opt)
		if len(names) != len(got) || nnext != next {
			t.Errorf("PageNames(%+v) differs from Page", c.opt)
		}
		s := ""
		for _, g := range got {
			s += g
		}
		if s != c.want || next != c.next || got == nil {
			t.Errorf("page(%+v) = %q next %q, want %q next %q", c.opt, s, next, c.want, c.next)
		}
	}
}

func TestRepoPage(t *testing.T) {
	groups := map[string][]string{"b/x": {"v2", "v1"}, "a": {"main"}, "c": {"t"}}
	ref := func(n string) string { return "file://registry/" + n }
	got, next := registry.RepoPage(groups, registry.ListOptions{Limit: 2}, ref)
	if len(got) != 2 || next != "b/x" || got[0].Name != "a" || got[1].Ref != "file://registry/b/x" || strings.Join(got[1].Tags, ",") != "v1,v2" {
		t.Fatalf("first page %+v next %q", got, next)
	}
	got, next = registry.RepoPage(groups, registry.ListOptions{After: next}, ref)
	if len(got) != 1 || got[0].Name != "c" || next != "" {
		t.Fatalf("second page %+v next %q", got, next)
	}
}
