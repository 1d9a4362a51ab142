package ui

import (
	"fmt"
	"os"
	"strings"
	"time"

	"pf-registry/internal/termtext"
)

// errLine renders an error as one line with its hint.
func errLine(err error) string { return termtext.Line(termtext.ErrorLine(err, " — ")) }

// tildePath shortens a path under the home directory for display.
func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return p
	}
	if p == home {
		return "~"
	}
	if rest, ok := strings.CutPrefix(p, home+string(os.PathSeparator)); ok {
		return "~" + string(os.PathSeparator) + rest
	}
	return p
}

// humanDuration renders short durations for ETA and elapsed time.
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// shortTime renders a timestamp for list columns (UTC, deterministic).
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// safe makes one line read from a registry or an image harmless on a
// terminal (escape sequences and controls are shown escaped).
func safe(s string) string { return termtext.Line(s) }

// safeText is safe for text of several lines.
func safeText(s string) string { return termtext.Block(s) }
