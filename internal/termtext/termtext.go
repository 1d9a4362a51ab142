// Package termtext formats the short texts that the command line, the
// terminal UI and the backends share, so each reads the same everywhere:
// byte counts, one-line error text and signature verdict symbols.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"pf-registry/internal/fault"
)

// Bytes renders a byte count with binary units ("512 B", "1.5 MiB"). A
// negative count is an unknown size (the engine's -1) and renders as "?".
func Bytes(n int64) string {
	if n < 0 {
		return "?"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// OneLine collapses every run of white space (line breaks included) into
// one space, then cuts the result like Cut.
func OneLine(s string, max int) string {
	return Cut(strings.Join(strings.Fields(s), " "), max)
}

// Cut shortens s, when max > 0, to at most max runes, the last of them
// Ellipsis. Cutting by rune keeps multi-byte characters whole.
func Cut(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s
}

// ErrorLine renders err on one line followed by its hint (fault.Hint), if
// any, after sep, safe for a terminal (Line): errors quote what registries
// answer and what images name.
func ErrorLine(err error, sep string) string {
	if err == nil {
		return ""
	}
	s := OneLine(err.Error(), 0)
	if h := fault.Hint(err); h != "" {
		s += sep + OneLine(h, 0)
	}
	return Line(s)
}

// Verdict statuses as the UI and the command line name them: the
// signing.Status values plus the states before a verdict is known.
const (
	VerdictTrusted      = "trusted"
	VerdictUntrustedKey = "untrusted-key"
	VerdictValid        = "valid"
	VerdictDefaultKey   = "default-key"
	VerdictInvalid      = "invalid"
	VerdictMissing      = "missing"
	VerdictPending      = "pending"
	VerdictError        = "error"
	VerdictForeign      = "foreign"
	VerdictLocal        = "local" // an image of the local store: no signature kept
)

// VerdictSymbol gives every verdict its own symbol so that it reads the
// same without colour.
func VerdictSymbol(status string) string {
	switch status {
	case VerdictTrusted:
		return "✔"
	case VerdictUntrustedKey:
		return "~"
	case VerdictValid:
		return "✓"
	case VerdictDefaultKey:
		return "!"
	case VerdictInvalid:
		return "✗"
	case VerdictMissing:
		return "?"
	case VerdictError:
		return "⚠"
	case VerdictForeign:
		return "-"
	case VerdictLocal:
		return "◆"
	}
	return "…"
}
