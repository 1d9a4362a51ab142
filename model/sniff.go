package model

import (
	"bytes"
	"unicode/utf8"
)

// magic numbers of the binary formats an agent's working tree commonly
// holds.
var magics = []struct {
	prefix, name string
}{
	{"\x7fELF", "ELF executable"},
	{"\x89PNG\r\n\x1a\n", "PNG image"},
	{"\xff\xd8\xff", "JPEG image"},
	{"GIF87a", "GIF image"},
	{"GIF89a", "GIF image"},
	{"%PDF-", "PDF document"},
	{"PK\x03\x04", "zip archive"},
	{"\x1f\x8b", "gzip data"},
	{"\x28\xb5\x2f\xfd", "zstd data"},
	{"BZh", "bzip2 data"},
	{"\xfd7zXZ\x00", "xz data"},
	{"SQLite format 3\x00", "SQLite database"},
	{"\x93NUMPY", "NumPy array"},
	{"\x80\x04\x95", "Python pickle"},
	{"\x00asm", "WebAssembly module"},
	{"\xca\xfe\xba\xbe", "Java class or Mach-O universal binary"},
	{"\xcf\xfa\xed\xfe", "Mach-O executable"},
	{"MZ", "Windows executable"},
}

// sniffLen is how much of a file decides text or binary.
const sniffLen = 8 << 10

// SniffContent tells text from binary (a NUL byte, invalid UTF-8, or many
// control characters in the first 8 KiB) and names well-known binary
// formats.
func SniffContent(b []byte) (binary bool, what string) {
	for _, m := range magics {
		if bytes.HasPrefix(b, []byte(m.prefix)) {
			return true, m.name
		}
	}
	head := b[:min(len(b), sniffLen)]
	if bytes.IndexByte(head, 0) >= 0 {
		return true, "binary data"
	}
	if len(head) < len(b) {
		// The sample may end inside a multi-byte rune.
		i := len(head) - 1
		for i > 0 && len(head)-i < utf8.UTFMax && !utf8.RuneStart(head[i]) {
			i--
		}
		if !utf8.FullRune(head[i:]) {
			head = head[:i]
		}
	}
	if !utf8.Valid(head) {
		return true, "binary data (not UTF-8)"
	}
	ctrl := 0
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			ctrl++
		}
	}
	if ctrl*10 > len(head) {
		return true, "binary data"
	}
	return false, "text"
}
