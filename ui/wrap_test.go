package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWrap(t *testing.T) {
	cases := []struct {
		in   string
		w    int
		want string
	}{
		{"write notes/todo.md now", 11, "write\nnotes/todo.\nmd now"},
		{"fs.write notes/plan.md (312 B)", 14, "fs.write\nnotes/plan.md\n(312 B)"},
		// The slash stays with the word it ends.
		{"ab notes/ x", 8, "ab\nnotes/\nx"},
		// A word as wide as the line: the slash has to go down.
		{"abcdefghij/klm", 10, "abcdefghij\n/klm"},
		{"", 5, ""},
	}
	for _, c := range cases {
		got := wrap(c.in, c.w)
		if got != c.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if ansi.StringWidth(l) > c.w || l == "/" {
				t.Errorf("wrap(%q, %d): line %q", c.in, c.w, l)
			}
		}
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		what string
		want string
	}{
		{1, "repository", "1 repository"},
		{4, "repository", "4 repositories"},
		{3, "key", "3 keys"},
		{0, "tag", "0 tags"},
		{2, "blob", "2 blobs"},
	} {
		if got := count(c.n, c.what); got != c.want {
			t.Errorf("count(%d, %q) = %q, want %q", c.n, c.what, got, c.want)
		}
	}
}

// TestCountHintPartial: a list with more to load says "N+" with the
// plural, even when one row is in so far.
func TestCountHintPartial(t *testing.T) {
	for _, c := range []struct {
		n        int
		complete bool
		want     string
	}{
		{1, true, "1 repository in x"},
		{1, false, "1+ repositories in x (more load as you scroll; G loads all)"},
		{100, false, "100+ repositories in x (more load"},
	} {
		l := &listBase{tbl: newTable(), complete: func() bool { return c.complete }}
		if got := l.countHint(c.n, "repository", " in x"); !strings.HasPrefix(got, c.want) {
			t.Errorf("countHint(%d, complete %v) = %q, want %q…", c.n, c.complete, got, c.want)
		}
	}
}
