package termtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line makes a string read from an image or a registry safe to print on
// one terminal line: every control character (C0 including newline and
// tab, DEL, C1), every invisible formatting rune (bidi overrides and
// isolates, zero-width characters, line and paragraph separators) and every
// byte that is not valid UTF-8 is shown as an escape (`\x1b`, `\n`,
// `\u202e`) instead of being sent to the terminal. Printable text,
// including non-ASCII letters and emoji, is kept as is. JSON output never
// goes through here: it stays byte-exact.
func Line(s string) string { return sanitize(s, false) }

// Block is Line for multi-line text: newlines and tabs are kept, carriage
// returns (which move the cursor back over a line) are not.
func Block(s string) string { return sanitize(s, true) }

func sanitize(s string, multiline bool) string {
	i := firstUnsafe(s, multiline)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeByteEscape(&b, s[i])
		case safeRune(r, multiline):
			b.WriteString(s[i : i+size])
		default:
			writeRuneEscape(&b, r)
		}
		i += size
	}
	return b.String()
}

// firstUnsafe is the index of the first byte needing an escape (len(s) if
// none), with a fast path for printable ASCII.
func firstUnsafe(s string, multiline bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || !safeRune(r, multiline) {
			return i
		}
		i += size
	}
	return len(s)
}

// safeRune reports whether r can reach a terminal as is.
func safeRune(r rune, multiline bool) bool {
	switch {
	case multiline && (r == '\n' || r == '\t'):
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return false // C0, DEL, C1: ESC, CSI, OSC, DCS, BEL, cursor moves
	}
	// Bidi overrides, zero-width and other invisible runes, and line or
	// paragraph separators that some terminals treat as newlines.
	return !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

func writeByteEscape(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

func writeRuneEscape(b *strings.Builder, r rune) {
	switch r {
	case '\n':
		b.WriteString(`\n`)
	case '\t':
		b.WriteString(`\t`)
	case '\r':
		b.WriteString(`\r`)
	default:
		if r < 0x80 {
			writeByteEscape(b, byte(r))
			return
		}
		q := strconv.QuoteRuneToASCII(r) // 'ↈ' → '\u2188', beyond the BMP '\U0001f600'
		b.WriteString(q[1 : len(q)-1])
	}
}
