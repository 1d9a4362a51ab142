package termtext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

func TestLine(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "claude-code 1.0.15", "claude-code 1.0.15"},
		{"unicode kept", "café – 日本語 🙂", "café – 日本語 🙂"},
		{"empty", "", ""},
		{"osc title", "\x1b]0;pwned\x07agent", `\x1b]0;pwned\x07agent`},
		{"csi clear", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"dcs", "\x1bP1$r\x1b\\", `\x1bP1$r\x1b\`},
		{"newline forges a line", "ok\nerror: fake", `ok\nerror: fake`},
		{"tab", "a\tb", `a\tb`},
		{"carriage return", "visible\rhidden", `visible\rhidden`},
		{"nul and bell", "a\x00b\x07", `a\x00b\x07`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 csi as utf-8", "a\u009b2Jb", `a\u009b2Jb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"raw c1 byte (invalid utf-8)", "a\x9b2Jb", `a\x9b2Jb`},
		{"invalid utf-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"truncated rune", "a\xe6\x97", `a\xe6\x97`},
		{"bidi override", "evil\u202Etxt.exe", `evil\u202etxt.exe`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"zero width space", "a\u200Bb", `a\u200bb`},
		{"bom", "\uFEFFname", `\ufeffname`},
		{"line separator", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"tag character", "a\U000E0041b", `a\U000e0041b`},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"backslash kept", `C:\path`, `C:\path`},
	}
	for _, c := range cases {
		if got := Line(c.in); got != c.want {
			t.Errorf("%s: Line(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestBlock(t *testing.T) {
	cases := []struct{ in, want string }{
		{"line one\nline two\n", "line one\nline two\n"},
		{"col\tcol", "col\tcol"},
		{"a\r\nb", `a\r` + "\nb"},
		{"x\x1b[1A\x1b[2Ky", `x\x1b[1A\x1b[2Ky`},
		{"\u202Ereversed\n", `\u202ereversed` + "\n"},
	}
	for _, c := range cases {
		if got := Block(c.in); got != c.want {
			t.Errorf("Block(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSafeInputUnchanged: text without anything to escape comes back as
// the same string, not a copy.
func TestSafeInputUnchanged(t *testing.T) {
	s := strings.Repeat("path/to/file-ü.txt ", 10)
	if got := Line(s); unsafe.StringData(got) != unsafe.StringData(s) {
		t.Fatalf("copied or changed: %q", got)
	}
}

// checkSafe asserts what a terminal must never receive.
func checkSafe(t *testing.T, in, out string, multiline bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%q → %q: invalid UTF-8", in, out)
	}
	for _, r := range out {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			t.Fatalf("%q → %q: control %U left", in, out, r)
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			t.Fatalf("%q → %q: invisible %U left", in, out, r)
		}
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;t\x07", "a\nb", "\u202e", "\xff", "\u009b", "a\U000E0041"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		checkSafe(t, s, out, false)
		if strings.ContainsAny(out, "\n\t") {
			t.Fatalf("%q → %q: line break in one-line output", s, out)
		}
		if again := Line(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
		if firstUnsafe(s, false) == len(s) && out != s {
			t.Fatalf("safe input changed: %q → %q", s, out)
		}
	})
}

func FuzzBlock(f *testing.F) {
	for _, s := range []string{"", "a\nb\tc", "\r\n", "\x1b[2J", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Block(s)
		checkSafe(t, s, out, true)
		if strings.Count(out, "\n") != strings.Count(s, "\n") {
			t.Fatalf("%q → %q: newlines changed", s, out)
		}
		if again := Block(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
	})
}
