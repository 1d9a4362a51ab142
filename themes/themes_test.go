package themes

import (
	"fmt"
	"strings"
	"testing"

	"pf-registry/internal/termtext"
)

func TestResolve(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, tc := range []struct {
		name string
		dark bool
		want string
		err  bool
	}{
		{"", true, Dark, false},
		{"auto", false, Light, false},
		{"dark", false, Dark, false},
		{"Light", true, Light, false},
		{"high-contrast", false, HighContrast, false},
		{"mono", true, Mono, false},
		{"none", true, Mono, false},
		{"sepia", true, Dark, true},
	} {
		got, err := Resolve(tc.name, tc.dark)
		if got.Name != tc.want || (err != nil) != tc.err {
			t.Errorf("Resolve(%q, %v) = %s, %v; want %s (error %v)", tc.name, tc.dark, got.Name, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "high-contrast") {
			t.Errorf("error does not list the themes: %v", err)
		}
	}
	if !Follows("auto") || Follows("dark") {
		t.Error("Follows: auto follows the background, dark does not")
	}
}

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	th, err := Resolve("dark", true)
	if err != nil || th.Name != Mono {
		t.Fatalf("NO_COLOR: %s %v", th.Name, err)
	}
	if Follows("auto") {
		t.Error("NO_COLOR: auto must not follow the background")
	}
	s := NewStyles(th)
	out := s.Verdict(termtext.VerdictInvalid) + s.Selected.Render("row") + s.Title.Render("t")
	if strings.Contains(out, "38;") || strings.Contains(out, "48;") {
		t.Fatalf("mono styles emit colours: %q", out)
	}
	if !strings.Contains(out, "✗ invalid") {
		t.Fatalf("verdict without colour lost its symbol: %q", out)
	}
}

// In colour themes each signature status has its own colour (not only
// its own decoration: default-key and missing once shared one).
func TestVerdictColoursDistinct(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, name := range []string{Dark, Light, HighContrast} {
		th, _ := Resolve(name, true)
		s := NewStyles(th)
		seen := map[string]string{}
		for _, v := range []string{termtext.VerdictTrusted, termtext.VerdictUntrustedKey, termtext.VerdictValid, termtext.VerdictDefaultKey, termtext.VerdictInvalid, termtext.VerdictMissing} {
			r, g, b, _ := s.VerdictStyle(v).GetForeground().RGBA()
			c := fmt.Sprint(r, g, b)
			if prev, ok := seen[c]; ok {
				t.Errorf("%s: %s and %s have the same colour", name, v, prev)
			}
			seen[c] = v
		}
	}
}
