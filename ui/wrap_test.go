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
