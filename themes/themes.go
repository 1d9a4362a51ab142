// Package themes holds every style of the terminal UI. A Theme is a small
// palette; Styles derives the concrete lipgloss styles from it, so screens
// never pick colours themselves.
package themes

import (
	"fmt"
	"image/color"
	"os"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
)

// Names of the built-in themes. Auto follows the terminal background.
const (
	Auto         = "auto"
	Dark         = "dark"
	Light        = "light"
	HighContrast = "high-contrast"
	Mono         = "mono" // no colour at all (NO_COLOR)
)

// Palette is the handful of colours a theme chooses. A nil colour means
// "terminal default"; the mono theme leaves every colour nil.
type Palette struct {
	Fg, Muted, Accent, AccentFg, Border color.Color
	SelBg, SelFg                        color.Color
	OK, Warn, Bad, Info                 color.Color
	Unsigned                            color.Color // the missing verdict
	Trusted                             color.Color // the trusted verdict
	BarFull, BarEmpty                   color.Color
}

// Theme is a named palette.
type Theme struct {
	Name    string
	IsDark  bool
	Palette Palette
}

var builtin = map[string]Theme{
	Dark: {Name: Dark, IsDark: true, Palette: Palette{
		Fg: c("#d0d0d8"), Muted: c("#7c7c8a"), Accent: c("#b48cff"), AccentFg: c("#1a1a22"),
		Border: c("#4a4a5a"), SelBg: c("#3b3458"), SelFg: c("#ffffff"),
		OK: c("#5fd787"), Warn: c("#ffaf5f"), Bad: c("#ff5f6d"), Info: c("#5fafff"), Unsigned: c("#e78fe7"),
		Trusted: c("#00d7af"),
		BarFull: c("#b48cff"), BarEmpty: c("#3a3a46"),
	}},
	Light: {Name: Light, IsDark: false, Palette: Palette{
		Fg: c("#24242c"), Muted: c("#6e6e7a"), Accent: c("#6a3fc8"), AccentFg: c("#ffffff"),
		Border: c("#b8b8c4"), SelBg: c("#e2d9fb"), SelFg: c("#14141a"),
		OK: c("#1e7b3a"), Warn: c("#9a5800"), Bad: c("#c0182b"), Info: c("#0b5cad"), Unsigned: c("#a01e9e"),
		Trusted: c("#00796b"),
		BarFull: c("#6a3fc8"), BarEmpty: c("#dedee6"),
	}},
	// High contrast sticks to the 16 ANSI colours the user's terminal
	// palette defines, bright variants only, plus bold text.
	HighContrast: {Name: HighContrast, IsDark: true, Palette: Palette{
		Fg: lipgloss.BrightWhite, Muted: lipgloss.White, Accent: lipgloss.BrightYellow, AccentFg: lipgloss.Black,
		Border: lipgloss.BrightWhite, SelBg: lipgloss.BrightYellow, SelFg: lipgloss.Black,
		OK: lipgloss.BrightGreen, Warn: lipgloss.BrightYellow, Bad: lipgloss.BrightRed, Info: lipgloss.BrightCyan,
		Unsigned: lipgloss.BrightMagenta, Trusted: lipgloss.BrightBlue,
		BarFull: lipgloss.BrightWhite, BarEmpty: lipgloss.BrightBlack,
	}},
	Mono: {Name: Mono, IsDark: true},
}

func c(hex string) color.Color { return lipgloss.Color(hex) }

// Names lists the selectable theme names, "auto" first.
func Names() []string {
	out := []string{Auto}
	for n := range builtin {
		out = append(out, n)
	}
	sort.Strings(out[1:])
	return out
}

// Resolve picks the theme for a requested name. NO_COLOR (any non-empty
// value, per no-color.org) wins over everything; "auto" or "" follows the
// detected background.
func Resolve(name string, darkBackground bool) (Theme, error) {
	if os.Getenv("NO_COLOR") != "" {
		return builtin[Mono], nil
	}
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case "", Auto:
		if darkBackground {
			return builtin[Dark], nil
		}
		return builtin[Light], nil
	case "none", "no-color":
		return builtin[Mono], nil
	}
	t, ok := builtin[name]
	if !ok {
		return builtin[Dark], fmt.Errorf("unknown theme %q: use one of %s", name, strings.Join(Names(), ", "))
	}
	return t, nil
}

// Follows reports whether a requested name depends on the background.
func Follows(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	return (n == "" || n == Auto) && os.Getenv("NO_COLOR") == ""
}
