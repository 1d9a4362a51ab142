package model

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// shortEscapes are the characters serde_json escapes with a backslash and
// one letter (or themselves), indexed by byte.
var shortEscapes = [utf8.RuneSelf]byte{'"': '"', '\\': '\\', '\b': 'b', '\t': 't', '\n': 'n', '\f': 'f', '\r': 'r'}

// AppendJSONString appends s as serde_json's compact writer renders it (spec
// §2): UTF-8 raw, only '"', '\\' and C0 controls escaped, short escapes for
// \b \t \n \f \r, \u00xx with lowercase hex otherwise. Invalid UTF-8 is
// replaced by U+FFFD, as serde would never have produced it.
func AppendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch short := shortEscapes[c]; {
			case short != 0:
				b = append(b, '\\', short)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// AppendUint appends an integer in plain decimal.
func AppendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// FormatTime renders t as Rust's manifests do (spec §2.1): UTC, RFC 3339 with
// 'Z' and the shortest of 0, 3, 6 or 9 fraction digits that is exact.
func FormatTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	ns := t.Nanosecond()
	switch {
	case ns == 0:
	case ns%1_000_000 == 0:
		s += "." + pad(ns/1_000_000, 3)
	case ns%1_000 == 0:
		s += "." + pad(ns/1_000, 6)
	default:
		s += "." + pad(ns, 9)
	}
	return s + "Z"
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
