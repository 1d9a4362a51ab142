package registry_test

import (
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
