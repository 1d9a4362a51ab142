// Package termsafe makes text read from images and registries safe to print
// on a terminal: control characters cannot move the cursor, change colours,
// set the window title or reorder text.
package termsafe

import (
	"strings"
	"unicode/utf8"
)

// Text keeps newlines and tabs and replaces every other control character:
// C0 controls and DEL by their visible Unicode pictures (ESC → ␛, CR → ␍),
// C1 controls, bidirectional overrides and invalid UTF-8 by U+FFFD.
func Text(s string) string { return clean(s, true) }

// Line is Text for one line: newlines and tabs become spaces too.
func Line(s string) string { return clean(s, false) }

func clean(s string, multiline bool) string {
	if isPlain(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20:
			b.WriteRune(0x2400 + r) // control pictures: ␀ … ␟
		case r == 0x7f:
			b.WriteRune('␡')
		case unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain is the fast path: printable ASCII (plus newline and tab when
// multiline) needs no copy.
func isPlain(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			continue
		}
		if multiline && (c == '\n' || c == '\t') {
			continue
		}
		return false
	}
	return true
}

// unsafeRune reports C1 controls and the invisible characters that reorder
// or hide text (bidi embeddings, overrides and isolates, the Arabic letter
// mark, line and paragraph separators).
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
